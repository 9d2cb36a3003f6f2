-- CreateTable
CREATE TABLE "WhatsAppCreds" (
    "session" TEXT NOT NULL PRIMARY KEY,
    "data" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "WhatsAppKey" (
    "session" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "value" TEXT,
    "updatedAt" DATETIME NOT NULL,

    PRIMARY KEY ("session", "type", "id")
);

