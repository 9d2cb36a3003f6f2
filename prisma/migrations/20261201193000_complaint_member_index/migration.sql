-- A member's own complaints ("status pengaduan"), newest first, without reading every complaint.
-- CreateIndex
CREATE INDEX "Complaint_memberId_id_idx" ON "Complaint"("memberId", "id");
