/**
 * The hot path (see sqlite-hot-path.ts) on PostgreSQL: the reads every member message makes and
 * a member's first writes, as named `pg` prepared statements (parsed and planned once per
 * connection) on a small pool of the hot path's own.
 *
 * Why: through Prisma's pg adapter a member message cost ~8 ms (about 120 messages a second on
 * one core, bench/member-messages.ts), most of it Prisma's query building and result mapping;
 * a prepared statement's round trip on a local server is a small fraction of that.
 *
 * Values as Prisma writes them: DateTime as timestamp(3) in UTC (pg-pool.ts reads it so),
 * BIGINT money as bigint, booleans as booleans.
 */
import type { AuditStore } from '../domain/audit.ts';
import type { Identity } from '../core/ports.ts';
import { StaleSessionError } from '../core/ports.ts';
import { USABLE_MEMBER_STATUSES } from '../core/member-number.ts';
import { closePgPool, openPgPool, pgTimestamp, type pg } from './pg-pool.ts';
import type { HotPath } from './sqlite-hot-path.ts';
import { figuresSql, memberEvents, toAnnualReport, toComplaint, toIdentity, toLoan, toMeeting, toMember, toMemberShu, toSavings, toSession, type Row } from './hot-path-rows.ts';
import { MEMBER_EVENTS_READ } from '../domain/bimtek.ts';

/** Connections of the hot path's own pool (each message makes its statements one after another). */
const HOT_PATH_POOL = 4;

// Quoted aliases: the same names as on SQLite (PostgreSQL folds unquoted ones to lower case).
const MEMBER_COLUMNS = `m."id" AS "m_id", m."koperasiId" AS "m_koperasiId", m."memberNumber" AS "m_memberNumber", m."name" AS "m_name", m."phone" AS "m_phone",
  m."status" AS "m_status", m."optOutAnnouncements" AS "m_optOut", k."code" AS "k_code", k."name" AS "k_name", k."timezone" AS "k_timezone"`;
const MEETING_COLUMNS = `m."id", m."kind", m."bookYear", m."startsAt", m."place", m."agenda", m."heldAt",
  (SELECT a."attending" FROM "MeetingAttendance" a WHERE a."meetingId" = m."id" AND a."memberId" = $1) AS attending`;

const IDENTITY_COLUMNS = `ci."id", ci."channel", ci."externalId", ci."phone", ci."language", ci."verifiedBy", ci."failedAttempts", ci."lockedUntil", ${MEMBER_COLUMNS}`;
const IDENTITY_MEMBER = `LEFT JOIN "Member" m ON m."id" = ci."memberId" LEFT JOIN "Koperasi" k ON k."id" = m."koperasiId"`;
const IDENTITY = `SELECT ${IDENTITY_COLUMNS} FROM "ChannelIdentity" ci ${IDENTITY_MEMBER} WHERE ci."channel" = $1 AND ci."externalId" = $2`;

/** A write of one identity row that answers with the identity as it now is, in the same round trip. */
const writingIdentity = (write: string) => `WITH ci AS (${write} RETURNING *) SELECT ${IDENTITY_COLUMNS} FROM ci ${IDENTITY_MEMBER}`;

const FIGURES = figuresSql((n) => `$${n}`);

/** Every statement, named: pg prepares each once per connection and then only binds. */
const SQL = {
  reports: FIGURES.reports,
  memberShu: FIGURES.memberShu,
  identity: IDENTITY,
  // What every turn reads first, in one round trip: one row, with the identity's columns null
  // before first contact and the session's (s_…) null when the chat has none.
  turnStart: `SELECT i.*, s."node" AS "s_node", s."data" AS "s_data", s."expiresAt" AS "s_expiresAt", s."version" AS "s_version"
    FROM (SELECT 1) AS one
    LEFT JOIN (${IDENTITY}) AS i ON TRUE
    LEFT JOIN "ConversationSession" s ON s."channel" = $1 AND s."chatId" = $3`,
  // No row when another instance created it at the same moment: it is read then.
  createIdentity: writingIdentity(`INSERT INTO "ChannelIdentity" ("channel", "externalId", "phone", "language", "failedAttempts", "createdAt", "updatedAt")
    VALUES ($1, $2, $3, 'id', 0, $4::timestamp, $4::timestamp) ON CONFLICT ("channel", "externalId") DO NOTHING`),
  // SET expressions read the row as it was: a link the old phone made (phone, contact) ends.
  recordPhone: writingIdentity(`UPDATE "ChannelIdentity" SET "phone" = $2, "updatedAt" = $3,
      "memberId" = CASE WHEN "verifiedBy" IN ('phone', 'contact') THEN NULL ELSE "memberId" END,
      "verifiedAt" = CASE WHEN "verifiedBy" IN ('phone', 'contact') THEN NULL ELSE "verifiedAt" END,
      "verifiedBy" = CASE WHEN "verifiedBy" IN ('phone', 'contact') THEN NULL ELSE "verifiedBy" END
    WHERE "id" = $1`),
  bind: writingIdentity(
    `UPDATE "ChannelIdentity" SET "memberId" = $1, "verifiedBy" = $2, "verifiedAt" = $3, "failedAttempts" = 0, "lockedUntil" = NULL, "updatedAt" = $4 WHERE "id" = $5`,
  ),
  activeByPhone: `SELECT ${MEMBER_COLUMNS} FROM "Member" m JOIN "Koperasi" k ON k."id" = m."koperasiId"
    WHERE m."phone" = $1 AND m."status" = ANY($2::text[]) ORDER BY m."id" ASC`,
  audit: `INSERT INTO "AuditLog" ("at", "actor", "action", "koperasiId", "detail") VALUES ($1, $2, $3, $4, $5)`,
  sessionLoad: `SELECT "node", "data", "expiresAt", "version" FROM "ConversationSession" WHERE "channel" = $1 AND "chatId" = $2`,
  // Compare-and-set on the version read (see SessionStore.save), as on SQLite.
  sessionInsert: `INSERT INTO "ConversationSession" ("channel", "chatId", "node", "data", "expiresAt", "updatedAt", "version") VALUES ($1, $2, $3, $4, $5, $6, 1)
    ON CONFLICT ("channel", "chatId") DO NOTHING`,
  sessionUpdate: `UPDATE "ConversationSession" SET "node" = $1, "data" = $2, "expiresAt" = $3, "updatedAt" = $4, "version" = "version" + 1
    WHERE "channel" = $5 AND "chatId" = $6 AND "version" = $7`,
  // The accounts (part 0) and the latest movements (part 1, newest first) in one round trip.
  savings: `SELECT 0 AS "part", a."kind", a."label", a."balance", a."asOf", NULL::text AS "date", NULL::bigint AS "amount", NULL::text AS "description",
      a."id" AS "accountOrder", NULL::int AS "movementOrder"
    FROM "SavingsAccount" a WHERE a."memberId" = $1
    UNION ALL
    (SELECT 1, NULL, a."label", NULL, NULL, t."date", t."amount", t."description", NULL, t."id" FROM "SavingsTransaction" t
      JOIN "SavingsAccount" a ON a."id" = t."accountId"
      WHERE a."memberId" = $1 ORDER BY t."date" DESC, t."id" DESC LIMIT $2)
    ORDER BY "part", "accountOrder", "date" DESC, "movementOrder" DESC`,
  // The next installment of each loan in the same statement: one round trip for the loans view.
  loans: `SELECT l."loanNumber", l."principal", l."outstanding", l."installment", l."tenorMonths", l."disbursedOn", l."nextDueOn", l."arrears", l."lateFee",
      n."number" AS n_number, n."dueOn" AS n_due_on, n."principal" AS n_principal, n."interest" AS n_interest
    FROM "Loan" l
    LEFT JOIN LATERAL (
      SELECT i."number", i."dueOn", i."principal", i."interest" FROM "LoanInstallment" i
      WHERE i."loanId" = l."id" AND l."nextDueOn" IS NOT NULL AND i."dueOn" >= l."nextDueOn" ORDER BY i."number" ASC LIMIT 1
    ) n ON TRUE
    WHERE l."memberId" = $1 AND (l."outstanding" > 0 OR l."arrears" > 0) ORDER BY l."disbursedOn" ASC`,
  attendance: `INSERT INTO "MeetingAttendance" ("meetingId", "memberId", "attending", "channel", "respondedAt") VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT ("meetingId", "memberId") DO UPDATE SET "attending" = excluded."attending", "channel" = excluded."channel", "respondedAt" = excluded."respondedAt"`,
  // The next events open to members, each row with the member's cooperative's type and district.
  memberEvents: `SELECT e."title", e."topic", e."startsAt", e."place", e."capacity", e."koperasiTypes", e."districts", k."type" AS "k_type", k."district" AS "k_district"
    FROM (SELECT * FROM "Event" WHERE "forMembers" AND "startsAt" > $1 ORDER BY "startsAt" ASC LIMIT $2) e
    LEFT JOIN "Koperasi" k ON k."id" = $3
    ORDER BY e."startsAt" ASC`,
  complaints: `SELECT "ticket", "status", "createdAt" FROM "Complaint" WHERE "memberId" = $1 ORDER BY "id" DESC LIMIT $2`,
  // domain/rat.ts currentRat (the next RAT, else the latest) in one statement.
  currentRat: `(SELECT ${MEETING_COLUMNS}, 0 AS rank FROM "Meeting" m
      WHERE m."koperasiId" = $2 AND m."kind" = 'RAT' AND m."startsAt" > $3 ORDER BY m."startsAt" ASC LIMIT 1)
    UNION ALL
    (SELECT ${MEETING_COLUMNS}, 1 AS rank FROM "Meeting" m
      WHERE m."koperasiId" = $2 AND m."kind" = 'RAT' ORDER BY m."startsAt" DESC LIMIT 1)
    ORDER BY rank LIMIT 1`,
} as const;

type Name = keyof typeof SQL;

export function openPostgresHotPath(url: string): HotPath {
  const pool = openPgPool(url, { max: HOT_PATH_POOL, int8: 'bigint' });
  const query = (name: Name, values: unknown[]): Promise<pg.QueryResult<Row>> => pool.query<Row>({ name, text: SQL[name], values });
  const rows = async (name: Name, values: unknown[]) => (await query(name, values)).rows;

  async function findIdentity(channel: string, externalId: string): Promise<Identity | null> {
    const row = (await rows('identity', [channel, externalId]))[0];
    return row ? toIdentity(row) : null;
  }

  /** Write, and have the identity back as it now is (read afresh only when the write changed no row). */
  async function writeIdentity(channel: string, externalId: string, name: Name, values: unknown[]): Promise<Identity> {
    const written = (await rows(name, values))[0];
    if (written) return toIdentity(written);
    const identity = await findIdentity(channel, externalId);
    if (!identity) throw new Error(`channel identity ${channel}/${externalId} vanished while being written`);
    return identity;
  }

  const audit: AuditStore['write'] = async (entry, at) => {
    await query('audit', [pgTimestamp(at), entry.actor, entry.action, entry.koperasiId, entry.detail]);
  };

  return {
    findIdentity,
    async findIdentityAndSession(channel, externalId, chatId) {
      const row = (await rows('turnStart', [channel, externalId, chatId]))[0]!;
      const session =
        row.s_version === null ? null : toSession({ node: row.s_node, data: row.s_data, expiresAt: row.s_expiresAt, version: row.s_version });
      return { identity: row.id === null ? null : toIdentity(row), session };
    },
    createIdentity: (channel, externalId, phone) => writeIdentity(channel, externalId, 'createIdentity', [channel, externalId, phone, pgTimestamp(new Date())]),
    recordPhone: (identity, phone) => writeIdentity(identity.channel, identity.externalId, 'recordPhone', [identity.id, phone, pgTimestamp(new Date())]),
    bindMember: (identity, memberId, method, at) =>
      writeIdentity(identity.channel, identity.externalId, 'bind', [memberId, method, pgTimestamp(at), pgTimestamp(new Date()), identity.id]),
    async findActiveByPhone(phone) {
      return (await rows('activeByPhone', [phone, USABLE_MEMBER_STATUSES])).map(toMember);
    },
    audit,
    sessions: {
      async load(channel, chatId) {
        const row = (await rows('sessionLoad', [channel, chatId]))[0];
        return row ? toSession(row) : null;
      },
      async save(channel, chatId, state) {
        const node = state.node ?? '';
        const data = JSON.stringify(state.data);
        const expiresAt = pgTimestamp(state.expiresAt);
        const now = pgTimestamp(new Date());
        const result =
          state.version === 0
            ? await query('sessionInsert', [channel, chatId, node, data, expiresAt, now])
            : await query('sessionUpdate', [node, data, expiresAt, now, channel, chatId, state.version]);
        if (result.rowCount === 0) throw new StaleSessionError(channel, chatId, state.version);
      },
    },
    ledger: {
      async savingsSummary(memberId, recentLimit) {
        const parts = await rows('savings', [memberId, recentLimit]);
        return toSavings(parts.filter((r) => r.part === 0), parts.filter((r) => r.part === 1));
      },
      async activeLoans(memberId) {
        return (await rows('loans', [memberId])).map((r) =>
          toLoan(r, r.n_number === null ? undefined : { number: r.n_number, dueOn: r.n_due_on, principal: r.n_principal, interest: r.n_interest }),
        );
      },
    },
    figures: {
      async latestReports(koperasiId, limit) {
        return (await rows('reports', [koperasiId, limit])).map(toAnnualReport);
      },
      async memberShu(member) {
        return toMemberShu((await rows('memberShu', [member.koperasiId, member.id]))[0]);
      },
    },
    async confirmAttendance(meetingId, memberId, attending, channel) {
      await query('attendance', [meetingId, memberId, attending, channel, pgTimestamp(new Date())]);
    },
    async upcomingEventsForMembers(member, now) {
      const events = await rows('memberEvents', [pgTimestamp(now), MEMBER_EVENTS_READ, member.koperasiId]);
      const koperasi = events[0]?.k_type === null || events[0] === undefined ? undefined : { type: events[0].k_type, district: events[0].k_district };
      return memberEvents(events, koperasi);
    },
    async complaintsOf(memberId, limit) {
      return (await rows('complaints', [memberId, limit])).map(toComplaint);
    },
    async currentRat(member, now) {
      const row = (await rows('currentRat', [member.id, member.koperasiId, pgTimestamp(now)]))[0];
      return row ? toMeeting(row) : null;
    },
    async close() {
      await closePgPool(pool);
    },
  };
}
