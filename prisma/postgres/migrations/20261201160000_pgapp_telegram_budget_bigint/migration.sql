-- AlterTable: epoch milliseconds do not fit a 32-bit INTEGER
ALTER TABLE "TelegramSendBudget" ALTER COLUMN "repliesWaitingUntil" SET DATA TYPE BIGINT;
