-- The outbox claims only rows the process's channels can reach: it looks members' and
-- officers' identities up by member and by phone for every due row.
-- CreateIndex
CREATE INDEX "ChannelIdentity_memberId_idx" ON "ChannelIdentity"("memberId");

-- CreateIndex
CREATE INDEX "ChannelIdentity_phone_idx" ON "ChannelIdentity"("phone");
