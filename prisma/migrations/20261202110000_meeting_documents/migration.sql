-- RAT documents (the report, the invitation) members ask for by chat, one per kind per meeting.
-- CreateTable
CREATE TABLE "MeetingDocument" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "meetingId" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "mimeType" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "content" BLOB NOT NULL,
    "token" TEXT NOT NULL,
    "attachedBy" TEXT NOT NULL,
    "attachedAt" DATETIME NOT NULL,
    CONSTRAINT "MeetingDocument_meetingId_fkey" FOREIGN KEY ("meetingId") REFERENCES "Meeting" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "MeetingDocument_token_key" ON "MeetingDocument"("token");

-- CreateIndex
CREATE UNIQUE INDEX "MeetingDocument_meetingId_kind_key" ON "MeetingDocument"("meetingId", "kind");

