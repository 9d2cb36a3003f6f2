-- A broadcast's rows are keyed by (broadcastId, memberId), two integers the fan-out writes in
-- ascending order, instead of an idempotency text per row; their idempotencyKey is NULL, and its
-- unique index is partial (WHERE NOT NULL), so the fan-out adds nothing to it. Rows queued
-- before keep their keys.
-- AlterTable
ALTER TABLE "OutboxMessage" ALTER COLUMN "idempotencyKey" DROP NOT NULL;

-- DropIndex
DROP INDEX "OutboxMessage_idempotencyKey_key";

-- CreateIndex
CREATE UNIQUE INDEX "OutboxMessage_idempotencyKey_key" ON "OutboxMessage"("idempotencyKey") WHERE "idempotencyKey" IS NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "OutboxMessage_broadcastId_memberId_key" ON "OutboxMessage"("broadcastId", "memberId");
