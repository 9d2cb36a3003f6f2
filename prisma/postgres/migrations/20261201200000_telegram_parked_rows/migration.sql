-- Parked Telegram updates get a row each, owned by the instance that parked them: several
-- instances behind a webhook used to write the bot's one poll-state row over each other.
-- CreateTable
CREATE TABLE "TelegramParkedUpdate" (
    "bot" TEXT NOT NULL,
    "updateId" INTEGER NOT NULL,
    "update" TEXT NOT NULL,
    "decided" TEXT,
    "owner" TEXT,
    "parkedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TelegramParkedUpdate_pkey" PRIMARY KEY ("bot", "updateId")
);

-- What earlier versions parked moves over, for whichever instance starts next.
INSERT INTO "TelegramParkedUpdate" ("bot", "updateId", "update", "decided", "owner", "parkedAt")
SELECT s."bot",
       (p.value ->> 'update_id')::integer,
       p.value::text,
       (SELECT (d.value -> 'replies')::text FROM jsonb_array_elements(s."decided"::jsonb) d
         WHERE d.value ->> 'update_id' = p.value ->> 'update_id' LIMIT 1),
       NULL,
       s."updatedAt"
  FROM "TelegramPollState" s, jsonb_array_elements(s."parked"::jsonb) p
 WHERE jsonb_typeof(p.value -> 'update_id') = 'number'
ON CONFLICT DO NOTHING;

-- AlterTable
ALTER TABLE "TelegramPollState" DROP COLUMN "parked",
DROP COLUMN "decided";
