-- A parked Telegram update whose turn was taken before a shutdown keeps the replies still to send,
-- so the next run sends them instead of taking the turn again.
-- AlterTable
ALTER TABLE "TelegramPollState" ADD COLUMN "decided" TEXT NOT NULL DEFAULT '[]';
