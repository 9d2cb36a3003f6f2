-- Parked Telegram updates get a row each, owned by the instance that parked them: several
-- instances behind a webhook used to write the bot's one poll-state row over each other.
-- CreateTable
CREATE TABLE "TelegramParkedUpdate" (
    "bot" TEXT NOT NULL,
    "updateId" INTEGER NOT NULL,
    "update" TEXT NOT NULL,
    "decided" TEXT,
    "owner" TEXT,
    "parkedAt" DATETIME NOT NULL,

    PRIMARY KEY ("bot", "updateId")
);

-- What earlier versions parked moves over, for whichever instance starts next.
INSERT OR IGNORE INTO "TelegramParkedUpdate" ("bot", "updateId", "update", "decided", "owner", "parkedAt")
SELECT s."bot",
       json_extract(p.value, '$.update_id'),
       p.value,
       (SELECT json_extract(d.value, '$.replies') FROM json_each(s."decided") d
         WHERE json_extract(d.value, '$.update_id') = json_extract(p.value, '$.update_id')),
       NULL,
       s."updatedAt"
  FROM "TelegramPollState" s, json_each(s."parked") p
 WHERE json_valid(s."parked") AND json_valid(s."decided") AND json_type(p.value, '$.update_id') = 'integer';

-- AlterTable
ALTER TABLE "TelegramPollState" DROP COLUMN "parked";
ALTER TABLE "TelegramPollState" DROP COLUMN "decided";
