-- A broadcast's rows are keyed by (broadcastId, memberId), two integers the fan-out writes in
-- ascending order, instead of an idempotency text per row; their idempotencyKey is NULL, and its
-- unique index is partial (WHERE NOT NULL), so the fan-out adds nothing to it. Rows queued
-- before keep their keys. Nothing references "OutboxMessage", so redefining it drops nothing.
-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_OutboxMessage" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "idempotencyKey" TEXT,
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
INSERT INTO "new_OutboxMessage" ("attempts", "broadcastId", "channel", "createdAt", "id", "idempotencyKey", "koperasiId", "lastError", "leaseOwner", "leaseUntil", "memberId", "notBefore", "officerId", "purpose", "sentAt", "state", "text", "topic") SELECT "attempts", "broadcastId", "channel", "createdAt", "id", "idempotencyKey", "koperasiId", "lastError", "leaseOwner", "leaseUntil", "memberId", "notBefore", "officerId", "purpose", "sentAt", "state", "text", "topic" FROM "OutboxMessage";
DROP TABLE "OutboxMessage";
ALTER TABLE "new_OutboxMessage" RENAME TO "OutboxMessage";
CREATE UNIQUE INDEX "OutboxMessage_idempotencyKey_key" ON "OutboxMessage"("idempotencyKey") WHERE "idempotencyKey" IS NOT NULL;
CREATE INDEX "OutboxMessage_state_notBefore_idx" ON "OutboxMessage"("state", "notBefore");
CREATE UNIQUE INDEX "OutboxMessage_broadcastId_memberId_key" ON "OutboxMessage"("broadcastId", "memberId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
