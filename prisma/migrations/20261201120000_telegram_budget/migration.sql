-- CreateTable
CREATE TABLE "TelegramSendBudget" (
    "bot" TEXT NOT NULL PRIMARY KEY,
    "slots" TEXT NOT NULL DEFAULT '[]',
    "repliesWaitingUntil" INTEGER NOT NULL DEFAULT 0
);

-- CreateTable
CREATE TABLE "TelegramPollState" (
    "bot" TEXT NOT NULL PRIMARY KEY,
    "answeredAhead" TEXT NOT NULL DEFAULT '[]',
    "parked" TEXT NOT NULL DEFAULT '[]',
    "updatedAt" DATETIME NOT NULL
);
