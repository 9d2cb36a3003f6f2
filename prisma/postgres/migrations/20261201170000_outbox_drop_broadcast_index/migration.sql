-- Nothing reads outbox rows by broadcast, and each index costs every broadcast fan-out about a sixth more.
-- DropIndex
DROP INDEX "OutboxMessage_broadcastId_idx";
