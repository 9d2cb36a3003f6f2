-- Claims read queued rows in (notBefore, id) order and go on after the position where the
-- reach's last claim stopped reading (persistence/outbox-scan.ts): the index serves that order.
-- DropIndex
DROP INDEX "OutboxMessage_state_notBefore_idx";

-- CreateIndex
CREATE INDEX "OutboxMessage_state_notBefore_id_idx" ON "OutboxMessage"("state", "notBefore", "id");
