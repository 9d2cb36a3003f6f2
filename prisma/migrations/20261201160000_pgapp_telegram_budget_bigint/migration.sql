-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_TelegramSendBudget" (
    "bot" TEXT NOT NULL PRIMARY KEY,
    "slots" TEXT NOT NULL DEFAULT '[]',
    "repliesWaitingUntil" BIGINT NOT NULL DEFAULT 0
);
INSERT INTO "new_TelegramSendBudget" ("bot", "repliesWaitingUntil", "slots") SELECT "bot", "repliesWaitingUntil", "slots" FROM "TelegramSendBudget";
DROP TABLE "TelegramSendBudget";
ALTER TABLE "new_TelegramSendBudget" RENAME TO "TelegramSendBudget";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

