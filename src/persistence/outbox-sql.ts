/**
 * The outbox's routing rules as SQL, written once for both stores (sqlite-outbox-store.ts,
 * postgres-outbox-store.ts). Identifiers are double-quoted, which SQLite and PostgreSQL both
 * read (PostgreSQL needs it for Prisma's mixed-case names); parameters are named `@name`
 * (better-sqlite3's syntax; the PostgreSQL store numbers them, see compileNamed). Only the
 * test "is this identity's channel one of ours" differs between the two.
 */
import type { OutboxRow, Recipient, Topic } from '../outbox/outbox-store.ts';

export type OutboxDialect = 'sqlite' | 'postgresql';

export interface OutboxSql {
  /** The row `o` with its member `m` and officer `f` (either may be absent). */
  RECIPIENTS: string;
  /** Due now: queued, or claimed by a process whose lease ran out (@now). */
  DUE: string;
  /** DUE's two parts: queued and due, or claimed with a lapsed lease. */
  DUE_QUEUED: string;
  DUE_LAPSED: string;
  /** After the position a claim's scan goes on from (@afterNotBefore, @afterId; see outbox-scan.ts). */
  AFTER: string;
  /**
   * AFTER's two parts, in order: the rest of the position's notBefore, then the later ones.
   * SQLite seeks each in the index; the row comparison it reads from the position's notBefore on.
   */
  AFTER_SAME: string;
  AFTER_LATER: string;
  /** The order claims read due rows in: the (state, notBefore, id) index's. */
  CLAIM_ORDER: string;
  /** Whether a process with this reach (@identityChannels, @byPhone) may claim the row. */
  ROUTABLE_HERE: string;
  /** A verified identity `ci` of member `m`. */
  MEMBER_IDENTITY: string;
  /** An identity `ci` whose proof of officer `f`'s phone still holds. */
  OFFICER_IDENTITY: string;
  /** One row per active member of broadcast @broadcastId's cooperative, due at its sendAt. */
  FAN_OUT: string;
  /** Due rows this reach leaves queued, by the channel each waits for (`needs`, `n`). */
  WAITING: string;
  /** The broadcast's text when the row has none of its own (rows of a broadcast share it). */
  TEXT_OF: (row: string) => string;
}

export function outboxSql(dialect: OutboxDialect): OutboxSql {
  const RECIPIENTS = '"OutboxMessage" o LEFT JOIN "Member" m ON m."id" = o."memberId" LEFT JOIN "Officer" f ON f."id" = o."officerId"';
  // A verified identity `ci` of member `m`: a phone-verified one only while its phone is still the
  // member's on file (as in a conversation); a code-made link holds until a new code is issued.
  const MEMBER_IDENTITY = `ci."memberId" = m."id" AND (ci."verifiedBy" = 'code' OR (ci."verifiedBy" IN ('phone', 'contact') AND ci."phone" = m."phone"))`;
  // An identity `ci` whose proof of officer `f`'s phone still holds: a link that phone made (the
  // sender number, a Telegram contact) to the member who is that officer (the officer's cooperative,
  // any for the Dinas, and the officer's name), who still has it on file. A link to another member
  // who has the phone on file too proves the phone for that member only; a phone only remembered,
  // or a link made by a code, proves nothing: numbers are recycled, and an old account must not get
  // the officer's mail (the officer then gets it by WhatsApp). The desk's isLinkedMember is the same rule.
  const OFFICER_IDENTITY = `ci."phone" = f."phone" AND ci."verifiedBy" IN ('phone', 'contact')
    AND EXISTS (SELECT 1 FROM "Member" pm WHERE pm."id" = ci."memberId" AND pm."phone" = ci."phone" AND pm."status" IN ('AKTIF', 'NONAKTIF')
      AND (f."koperasiId" IS NULL OR pm."koperasiId" = f."koperasiId") AND lower(trim(pm."name")) = lower(trim(f."name")))`;
  // Due in two parts, each served in (notBefore, id) order by the (state, notBefore, id) index
  // alone: a claim ordering both at once would sort every due row to pick its batch (1–7 s with
  // a million). Both stores claim lapsed rows first (they are the older), then queued ones,
  // those from where the reach's previous claim stopped reading (AFTER, outbox-scan.ts).
  const DUE_QUEUED = `o."state" = 'queued' AND o."notBefore" <= @now`;
  const DUE_LAPSED = `o."state" = 'sending' AND o."leaseUntil" < @now AND o."notBefore" <= @now`;
  const DUE = `((${DUE_QUEUED}) OR (${DUE_LAPSED}))`;
  const AFTER = `(o."notBefore", o."id") > (@afterNotBefore, @afterId)`;
  const AFTER_SAME = `o."notBefore" = @afterNotBefore AND o."id" > @afterId`;
  const AFTER_LATER = `o."notBefore" > @afterNotBefore`;
  const CLAIM_ORDER = `o."notBefore", o."id"`;
  const HERE = dialect === 'sqlite' ? 'ci."channel" IN (SELECT value FROM json_each(@identityChannels))' : 'ci."channel" = ANY(CAST(@identityChannels AS text[]))';
  // A process may claim a row it can route, or one that ends without any channel (no
  // recipient, not active, opted out, or a member with no verified identity and no phone at
  // all). Mirrors the dispatcher's own checks, so a process never claims, and so never closes,
  // a row only another channel could deliver.
  const ROUTABLE_HERE = `(
    (o."memberId" IS NULL AND o."officerId" IS NULL)
    OR (o."memberId" IS NOT NULL AND (
      m."id" IS NULL OR m."status" <> 'AKTIF'
      OR (o."topic" = 'announcements' AND m."optOutAnnouncements") OR (o."topic" = 'reminders' AND m."optOutReminders") OR (o."topic" = 'invitations' AND m."optOutInvitations")
      OR (@byPhone AND m."phone" IS NOT NULL)
      OR EXISTS (SELECT 1 FROM "ChannelIdentity" ci WHERE ${MEMBER_IDENTITY} AND ${HERE})
      OR (m."phone" IS NULL AND NOT EXISTS (SELECT 1 FROM "ChannelIdentity" ci WHERE ${MEMBER_IDENTITY}))))
    OR (o."memberId" IS NULL AND o."officerId" IS NOT NULL AND (
      f."id" IS NULL OR @byPhone
      OR EXISTS (SELECT 1 FROM "ChannelIdentity" ci WHERE ${OFFICER_IDENTITY} AND ${HERE}))))`;
  // The rows carry no text of their own (NULL: the broadcast's), so a million rows do not
  // repeat it, and no idempotency text: their key is the unique (broadcastId, memberId), two
  // integers. The broadcast is created in the same transaction, so no key can be taken yet: no
  // ON CONFLICT, whose speculative insertion costs a third more per row (the unique index still
  // refuses a duplicate, and the whole broadcast with it).
  const FAN_OUT = `
    INSERT INTO "OutboxMessage" ("idempotencyKey", "purpose", "topic", "koperasiId", "memberId", "broadcastId", "text", "notBefore", "state", "attempts", "createdAt")
    SELECT NULL, 'announcement', 'announcements', m."koperasiId", m."id", b."id", NULL, b."sendAt", 'queued', 0, b."createdAt"
    FROM "Broadcast" b JOIN "Member" m ON m."koperasiId" = b."koperasiId"
    WHERE b."id" = @broadcastId AND m."status" = 'AKTIF'`;
  // The member's most recently used verified identity elsewhere, else WhatsApp by the phone on file.
  const WAITING = `
    SELECT w.needs, COUNT(*) AS n FROM (
      SELECT COALESCE(
        (SELECT ci."channel" FROM "ChannelIdentity" ci WHERE o."memberId" IS NOT NULL AND ${MEMBER_IDENTITY} ORDER BY ci."updatedAt" DESC, ci."id" DESC LIMIT 1),
        (SELECT ci."channel" FROM "ChannelIdentity" ci WHERE o."memberId" IS NULL AND ${OFFICER_IDENTITY} ORDER BY ci."updatedAt" DESC, ci."id" DESC LIMIT 1),
        'whatsapp') AS needs
      FROM ${RECIPIENTS}
      WHERE ${DUE} AND NOT ${ROUTABLE_HERE}) w
    GROUP BY w.needs ORDER BY n DESC, w.needs`;
  const TEXT_OF = (row: string) => `COALESCE(${row}."text", (SELECT b."text" FROM "Broadcast" b WHERE b."id" = ${row}."broadcastId"))`;
  return { RECIPIENTS, DUE, DUE_QUEUED, DUE_LAPSED, AFTER, AFTER_SAME, AFTER_LATER, CLAIM_ORDER, ROUTABLE_HERE, MEMBER_IDENTITY, OFFICER_IDENTITY, FAN_OUT, WAITING, TEXT_OF };
}

/** The member's row as a recipient (with the cooperative's time zone), by @memberId. */
export const MEMBER_RECIPIENT = `
  SELECT m."id", m."name", m."phone", m."status", m."optOutAnnouncements", m."optOutReminders", m."optOutInvitations", k."timezone"
  FROM "Member" m JOIN "Koperasi" k ON k."id" = m."koperasiId" WHERE m."id" = @memberId`;
/** The officer's row as a recipient (the Dinas has no cooperative, so no zone), by @officerId. */
export const OFFICER_RECIPIENT = `
  SELECT f."id", f."name", f."phone", k."timezone" FROM "Officer" f LEFT JOIN "Koperasi" k ON k."id" = f."koperasiId" WHERE f."id" = @officerId`;

export function identitiesSql(dialect: OutboxDialect): { member: string; officer: string } {
  const { MEMBER_IDENTITY, OFFICER_IDENTITY } = outboxSql(dialect);
  return {
    member: `SELECT ci."channel", ci."externalId" FROM "Member" m JOIN "ChannelIdentity" ci ON ${MEMBER_IDENTITY} WHERE m."id" = @memberId ORDER BY ci."updatedAt" DESC, ci."id" DESC`,
    officer: `SELECT ci."channel", ci."externalId" FROM "Officer" f JOIN "ChannelIdentity" ci ON ${OFFICER_IDENTITY} WHERE f."id" = @officerId ORDER BY ci."updatedAt" DESC, ci."id" DESC`,
  };
}

/** A member's recipient from its row and identities: the same shape from either store. */
export function memberRecipient(m: Record<string, unknown>, identities: { channel: string; externalId: string }[]): Recipient {
  return {
    memberId: Number(m.id),
    name: String(m.name),
    phone: m.phone === null ? null : String(m.phone),
    status: String(m.status),
    timezone: String(m.timezone),
    optOut: { announcements: Boolean(m.optOutAnnouncements), reminders: Boolean(m.optOutReminders), invitations: Boolean(m.optOutInvitations) },
    identities,
  };
}

export function officerRecipient(o: Record<string, unknown>, identities: { channel: string; externalId: string }[]): Recipient {
  return {
    memberId: null,
    name: String(o.name),
    phone: String(o.phone),
    status: 'AKTIF',
    timezone: o.timezone === null ? 'Asia/Jakarta' : String(o.timezone),
    optOut: { announcements: false, reminders: false, invitations: false },
    identities,
  };
}

/** A claimed row as either driver returns it. */
/** The outbox's highest id, and the earliest due time of queued rows above an id (see outbox-scan.ts catchUp). */
export const TOP_ID = 'SELECT COALESCE(MAX("id"), 0) AS "top" FROM "OutboxMessage"';
export const EARLIEST_QUEUED_AFTER = 'SELECT MIN("notBefore") AS "earliest" FROM "OutboxMessage" WHERE "id" > @after AND "state" = \'queued\'';

/** A date column as either driver returns it (a Date from pg, text from SQLite), or null. */
export function dateOrNull(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(String(value));
}

export function outboxRowOf(r: Record<string, unknown>): OutboxRow {
  return {
    id: Number(r.id),
    idempotencyKey: r.idempotencyKey === null ? null : String(r.idempotencyKey),
    purpose: String(r.purpose),
    topic: r.topic as Topic,
    koperasiId: r.koperasiId === null ? null : Number(r.koperasiId),
    memberId: r.memberId === null ? null : Number(r.memberId),
    officerId: r.officerId === null ? null : Number(r.officerId),
    broadcastId: r.broadcastId === null ? null : Number(r.broadcastId),
    text: String(r.text ?? ''),
    notBefore: r.notBefore instanceof Date ? r.notBefore : new Date(String(r.notBefore)),
    attempts: Number(r.attempts),
  };
}
