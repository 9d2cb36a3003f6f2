-- A cooperative's yearly figures (kopbot import laporan) and each member's SHU (kopbot import shu).
-- CreateTable
CREATE TABLE "AnnualReport" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "koperasiId" INTEGER NOT NULL,
    "bookYear" INTEGER NOT NULL,
    "memberCount" INTEGER NOT NULL,
    "assets" BIGINT NOT NULL,
    "ownCapital" BIGINT,
    "memberSavings" BIGINT,
    "loansOutstanding" BIGINT,
    "businessVolume" BIGINT,
    "revenue" BIGINT,
    "costs" BIGINT,
    "shu" BIGINT NOT NULL,
    "nplBasisPoints" INTEGER,
    "ratDate" TEXT,
    "note" TEXT,
    "importedAt" DATETIME NOT NULL,
    CONSTRAINT "AnnualReport_koperasiId_fkey" FOREIGN KEY ("koperasiId") REFERENCES "Koperasi" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "MemberShu" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "koperasiId" INTEGER NOT NULL,
    "memberId" INTEGER NOT NULL,
    "bookYear" INTEGER NOT NULL,
    "jasaModal" BIGINT NOT NULL,
    "jasaUsaha" BIGINT NOT NULL,
    "total" BIGINT NOT NULL,
    "paidOn" TEXT,
    "paidHow" TEXT,
    "importedAt" DATETIME NOT NULL,
    CONSTRAINT "MemberShu_koperasiId_fkey" FOREIGN KEY ("koperasiId") REFERENCES "Koperasi" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "MemberShu_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "AnnualReport_koperasiId_bookYear_key" ON "AnnualReport"("koperasiId", "bookYear");

-- CreateIndex
CREATE INDEX "MemberShu_koperasiId_bookYear_idx" ON "MemberShu"("koperasiId", "bookYear");

-- CreateIndex
CREATE UNIQUE INDEX "MemberShu_memberId_bookYear_key" ON "MemberShu"("memberId", "bookYear");

