-- A WhatsApp identity keyed by a phone JID (no LID known) passes to the number's next holder.
-- A link an activation code made on one would let that next holder read the member's data and
-- receive the member's mail, so such links are undone; the member links again from an account
-- WhatsApp knows by LID, or by having the phone recorded on file. Links made by the sender
-- number itself are checked against the file on every message and stay.
UPDATE "ChannelIdentity"
SET "memberId" = NULL, "verifiedBy" = NULL, "verifiedAt" = NULL
WHERE "channel" = 'whatsapp' AND "verifiedBy" = 'code' AND "externalId" LIKE '%@s.whatsapp.net';
