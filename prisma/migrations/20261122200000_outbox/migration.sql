-- CreateTable
CREATE TABLE "Broadcast" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "koperasiId" INTEGER,
    "text" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "sendAt" DATETIME NOT NULL,
    "recipients" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "OutboxMessage" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "idempotencyKey" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "koperasiId" INTEGER,
    "memberId" INTEGER,
    "officerId" INTEGER,
    "broadcastId" INTEGER,
    "text" TEXT,
    "notBefore" DATETIME NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "channel" TEXT,
    "lastError" TEXT,
    "leaseOwner" TEXT,
    "leaseUntil" DATETIME,
    "sentAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "JobRun" (
    "job" TEXT NOT NULL,
    "occurrence" TEXT NOT NULL,
    "ranAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "queued" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("job", "occurrence")
);

-- CreateTable
CREATE TABLE "EventInvitation" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "eventId" INTEGER NOT NULL,
    "officerId" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'invited',
    "invitedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "respondedAt" DATETIME
);

-- AlterTable (added in place: redefining "Member" inside the migration's transaction would
-- cascade-delete its savings, loans and identities, since foreign keys cannot be switched off there)
ALTER TABLE "Member" ADD COLUMN "optOutReminders" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Member" ADD COLUMN "optOutInvitations" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Member" ADD COLUMN "remindInstallments" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE UNIQUE INDEX "OutboxMessage_idempotencyKey_key" ON "OutboxMessage"("idempotencyKey");

-- CreateIndex
CREATE INDEX "OutboxMessage_state_notBefore_idx" ON "OutboxMessage"("state", "notBefore");

-- CreateIndex
CREATE INDEX "OutboxMessage_broadcastId_idx" ON "OutboxMessage"("broadcastId");

-- CreateIndex
CREATE INDEX "EventInvitation_officerId_status_idx" ON "EventInvitation"("officerId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "EventInvitation_eventId_officerId_key" ON "EventInvitation"("eventId", "officerId");

