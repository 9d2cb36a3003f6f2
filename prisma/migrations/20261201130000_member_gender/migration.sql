-- Members files may carry jenis_kelamin (L/P).
ALTER TABLE "Member" ADD COLUMN "gender" TEXT;
