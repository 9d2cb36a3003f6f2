/**
 * The reads every member message makes — identity, session, savings, loans, RAT — as prepared
 * better-sqlite3 statements on the same SQLite file Prisma uses.
 *
 * Why: measured on this machine, a Prisma 6.19 query through the driver adapter costs about
 * 300–400 µs of CPU, and a message needs five to seven of them: ~300 messages per second. The
 * same reads as prepared statements take a few µs each (see bench/member-messages.ts). The
 * writes of a member's first messages are here too: the identity created on first contact, the
 * phone a shared contact proves, the link to the member and its audit entry, the session. On
 * launch day every new member makes them at once, and through Prisma each costs a transaction
 * (an upsert, an update reading back its relations) and milliseconds of query compilation on the
 * event loop: 50 contacts at once stalled it for half a second. Rarer writes (complaints,
 * attendance, imports) stay on Prisma: they benefit from its types and transactions. The Prisma
 * implementations of these ports remain the portable ones (PostgreSQL) and the tests run the
 * conversation suite against both.
 *
 * Column formats follow what Prisma writes: DateTime as ISO text with "+00:00", BigInt and
 * Int as SQLite integers (read back as bigint with safe integers on).
 */
import type { AuditStore } from '../domain/audit.ts';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type {
  FeedbackService,
  FiguresService,
  Identity,
  LedgerService,
  MeetingService,
  MeetingView,
  MemberRef,
  SessionState,
  SessionStore,
  VerificationMethod,
} from '../core/ports.ts';
import { StaleSessionError } from '../core/ports.ts';
import { USABLE_MEMBER_STATUSES } from '../core/member-number.ts';
import { isBusyError } from './busy.ts';
import { figuresSql, memberEvents, strOrNull, toAnnualReport, toComplaint, toIdentity, toLoan, toMeeting, toMember, toMemberShu, toSavings, toSession, type Row } from './hot-path-rows.ts';
import { MEMBER_EVENTS_READ } from '../domain/bimtek.ts';
import { writeGateFor } from './write-gate.ts';

/** Prisma's text form of a DateTime in SQLite; fixed width, so text order is time order. */
export function sqliteDateTime(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}


/**
 * The per-message reads and a member's first writes, served by a store's own driver instead of
 * Prisma: better-sqlite3 statements here, `pg` prepared statements in postgres-hot-path.ts.
 */
export interface HotPath {
  findIdentity(channel: string, externalId: string): Promise<Identity | null>;
  /** The identity (null before first contact) and the chat's session: what every turn reads first, at once. */
  findIdentityAndSession(channel: string, externalId: string, chatId: string): Promise<{ identity: Identity | null; session: SessionState | null }>;
  /** The identity, created on first contact (with the phone the channel vouches for, if any). */
  createIdentity(channel: string, externalId: string, phone: string | null): Promise<Identity>;
  /** The channel vouches for another phone: a link made by the old phone ends with it. */
  recordPhone(identity: Identity, phone: string): Promise<Identity>;
  bindMember(identity: Identity, memberId: number, method: VerificationMethod, at: Date): Promise<Identity>;
  /** Members of any cooperative with this phone on file and a usable status, oldest first. */
  findActiveByPhone(phone: string): Promise<MemberRef[]>;
  /** One audit row, built (and masked) by the one audit writer, domain/audit.ts. */
  audit: AuditStore['write'];
  sessions: SessionStore;
  ledger: LedgerService;
  /** The cooperative's figures and a member's SHU ("laporan koperasi", "shu saya"). */
  figures: FiguresService;
  currentRat(member: MemberRef, now: Date): Promise<MeetingView | null>;
  /** A member's answer to a RAT invitation: said again, it replaces the earlier one. */
  confirmAttendance: MeetingService['confirmAttendance'];
  /** The bimtek and trainings open to the member's cooperative (a main-menu item: not for Prisma either). */
  upcomingEventsForMembers: MeetingService['upcomingEventsForMembers'];
  /** A member's latest complaints ("status pengaduan"). */
  complaintsOf: FeedbackService['complaintsOf'];
  close(): Promise<void>;
}

export function openSqliteHotPath(path: string, onBusy?: (error: unknown) => void): HotPath {
  // No busy wait: these calls are synchronous and run on the event loop. The session write
  // waits for this process's other writers in the write gate, and for another process's lock
  // (a long import) by trying again asynchronously; a session still not saved after that is
  // logged, not fatal. Reads never wait in WAL mode.
  const db = new Database(path, { timeout: 0 });
  const gate = writeGateFor(path);
  db.defaultSafeIntegers(true);
  db.pragma('synchronous = NORMAL');

  const memberColumns = `m.id AS m_id, m.koperasiId AS m_koperasiId, m.memberNumber AS m_memberNumber, m.name AS m_name, m.phone AS m_phone,
           m.status AS m_status, m.optOutAnnouncements AS m_optOut, k.code AS k_code, k.name AS k_name, k.timezone AS k_timezone`;
  const identityStmt = db.prepare(`
    SELECT ci.id, ci.channel, ci.externalId, ci.phone, ci.language, ci.verifiedBy, ci.failedAttempts, ci.lockedUntil, ${memberColumns}
    FROM ChannelIdentity ci
    LEFT JOIN Member m ON m.id = ci.memberId
    LEFT JOIN Koperasi k ON k.id = m.koperasiId
    WHERE ci.channel = ? AND ci.externalId = ?`);
  const createIdentityStmt = db.prepare(`
    INSERT INTO ChannelIdentity (channel, externalId, phone, language, failedAttempts, createdAt, updatedAt) VALUES (?, ?, ?, 'id', 0, ?, ?)
    ON CONFLICT (channel, externalId) DO NOTHING`);
  // SET expressions read the row as it was: a link the old phone made (phone, contact) ends.
  const recordPhoneStmt = db.prepare(`
    UPDATE ChannelIdentity SET phone = @phone, updatedAt = @now,
      memberId = CASE WHEN verifiedBy IN ('phone', 'contact') THEN NULL ELSE memberId END,
      verifiedAt = CASE WHEN verifiedBy IN ('phone', 'contact') THEN NULL ELSE verifiedAt END,
      verifiedBy = CASE WHEN verifiedBy IN ('phone', 'contact') THEN NULL ELSE verifiedBy END
    WHERE id = @id`);
  const bindStmt = db.prepare(`
    UPDATE ChannelIdentity SET memberId = ?, verifiedBy = ?, verifiedAt = ?, failedAttempts = 0, lockedUntil = NULL, updatedAt = ? WHERE id = ?`);
  const activeByPhoneStmt = db.prepare(`
    SELECT ${memberColumns} FROM Member m JOIN Koperasi k ON k.id = m.koperasiId
    WHERE m.phone = ? AND m.status IN (SELECT value FROM json_each(?)) ORDER BY m.id ASC`);
  const usableStatuses = JSON.stringify(USABLE_MEMBER_STATUSES);
  const auditStmt = db.prepare('INSERT INTO AuditLog (at, actor, action, koperasiId, detail) VALUES (?, ?, ?, ?, ?)');
  const sessionLoad = db.prepare('SELECT node, data, expiresAt, version FROM ConversationSession WHERE channel = ? AND chatId = ?');
  // Compare-and-set on the version read (see SessionStore.save): a first save inserts, a later
  // one updates only the version it read; no change means another writer got there first.
  const sessionInsert = db.prepare(`
    INSERT INTO ConversationSession (channel, chatId, node, data, expiresAt, updatedAt, version) VALUES (?, ?, ?, ?, ?, ?, 1)
    ON CONFLICT (channel, chatId) DO NOTHING`);
  const sessionUpdate = db.prepare(`
    UPDATE ConversationSession SET node = ?, data = ?, expiresAt = ?, updatedAt = ?, version = version + 1
    WHERE channel = ? AND chatId = ? AND version = ?`);
  const accountsStmt = db.prepare('SELECT kind, label, balance, asOf FROM SavingsAccount WHERE memberId = ?');
  const recentStmt = db.prepare(`
    SELECT t.date, t.amount, t.description, a.label FROM SavingsTransaction t
    JOIN SavingsAccount a ON a.id = t.accountId
    WHERE a.memberId = ? ORDER BY t.date DESC, t.id DESC LIMIT ?`);
  const loansStmt = db.prepare(`
    SELECT id, loanNumber, principal, outstanding, installment, tenorMonths, disbursedOn, nextDueOn, arrears, lateFee
    FROM Loan WHERE memberId = ? AND (outstanding > 0 OR arrears > 0) ORDER BY disbursedOn ASC`);
  const nextInstallmentStmt = db.prepare(`
    SELECT number, dueOn, principal, interest FROM LoanInstallment
    WHERE loanId = ? AND dueOn >= ? ORDER BY number ASC LIMIT 1`);
  const meetingColumns = `m.id, m.kind, m.bookYear, m.startsAt, m.place, m.agenda, m.heldAt,
    (SELECT a.attending FROM MeetingAttendance a WHERE a.meetingId = m.id AND a.memberId = ?) AS attending`;
  // domain/rat.ts currentRat (the next RAT, else the latest), as two prepared statements: the
  // member's RAT view is read on every "kapan rat" and must not pay for Prisma.
  const upcomingRatStmt = db.prepare(`SELECT ${meetingColumns} FROM Meeting m
    WHERE m.koperasiId = ? AND m.kind = 'RAT' AND m.startsAt > ? ORDER BY m.startsAt ASC LIMIT 1`);
  const attendanceStmt = db.prepare(`
    INSERT INTO MeetingAttendance (meetingId, memberId, attending, channel, respondedAt) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (meetingId, memberId) DO UPDATE SET attending = excluded.attending, channel = excluded.channel, respondedAt = excluded.respondedAt`);
  const latestRatStmt = db.prepare(`SELECT ${meetingColumns} FROM Meeting m
    WHERE m.koperasiId = ? AND m.kind = 'RAT' ORDER BY m.startsAt DESC LIMIT 1`);

  const memberEventsStmt = db.prepare(`
    SELECT title, topic, startsAt, place, capacity, koperasiTypes, districts FROM Event
    WHERE forMembers = 1 AND startsAt > ? ORDER BY startsAt ASC LIMIT ?`);
  const audienceStmt = db.prepare('SELECT type, district FROM Koperasi WHERE id = ?');
  const complaintsStmt = db.prepare('SELECT ticket, status, createdAt FROM Complaint WHERE memberId = ? ORDER BY id DESC LIMIT ?');

  // Named (@p1, @p2): the shared SQL names a parameter twice, which `?` cannot.
  const figures = figuresSql((n) => `@p${n}`);
  const reportsStmt = db.prepare(figures.reports);
  const memberShuStmt = db.prepare(figures.memberShu);

  const get = (stmt: Statement, ...params: unknown[]) => stmt.get(...params) as Row | undefined;
  const all = (stmt: Statement, ...params: unknown[]) => stmt.all(...params) as Row[];

  function findIdentity(channel: string, externalId: string): Identity | null {
    const row = get(identityStmt, channel, externalId);
    return row ? toIdentity(row) : null;
  }

  /** Write, then read the identity back as it now is (the write and the read in one gate turn). */
  function writeIdentity(channel: string, externalId: string, write: () => void): Promise<Identity> {
    return gate.write(() => {
      write();
      const identity = findIdentity(channel, externalId);
      if (!identity) throw new Error(`channel identity ${channel}/${externalId} vanished while being written`);
      return identity;
    });
  }

  return {
    findIdentity: async (channel, externalId) => findIdentity(channel, externalId),
    async findIdentityAndSession(channel, externalId, chatId) {
      // Two statements, one after the other in this same instant: SQLite has no round trip to save.
      const session = get(sessionLoad, channel, chatId);
      return { identity: findIdentity(channel, externalId), session: session ? toSession(session) : null };
    },
    createIdentity(channel, externalId, phone) {
      return writeIdentity(channel, externalId, () => {
        const now = sqliteDateTime(new Date());
        createIdentityStmt.run(channel, externalId, phone, now, now);
      });
    },
    recordPhone(identity, phone) {
      return writeIdentity(identity.channel, identity.externalId, () => recordPhoneStmt.run({ id: identity.id, phone, now: sqliteDateTime(new Date()) }));
    },
    bindMember(identity, memberId, method, at) {
      return writeIdentity(identity.channel, identity.externalId, () => bindStmt.run(memberId, method, sqliteDateTime(at), sqliteDateTime(new Date()), identity.id));
    },
    async findActiveByPhone(phone) {
      return all(activeByPhoneStmt, phone, usableStatuses).map(toMember);
    },
    async audit(entry, at) {
      await gate.write(() => auditStmt.run(sqliteDateTime(at), entry.actor, entry.action, entry.koperasiId, entry.detail));
    },
    sessions: {
      async load(channel, chatId) {
        const row = get(sessionLoad, channel, chatId);
        return row ? toSession(row) : null;
      },
      async save(channel, chatId, state) {
        const node = state.node ?? '';
        const data = JSON.stringify(state.data);
        const expiresAt = sqliteDateTime(state.expiresAt);
        let changes: number;
        try {
          changes = await gate.write(() => {
            const now = sqliteDateTime(new Date());
            const result =
              state.version === 0
                ? sessionInsert.run(channel, chatId, node, data, expiresAt, now)
                : sessionUpdate.run(node, data, expiresAt, now, channel, chatId, state.version);
            return Number(result.changes);
          });
        } catch (error) {
          // The reply is still worth sending; only where the conversation stands is lost.
          if (isBusyError(error)) {
            onBusy?.(error);
            return;
          }
          throw error;
        }
        if (changes === 0) throw new StaleSessionError(channel, chatId, state.version);
      },
    },
    ledger: {
      async savingsSummary(memberId, recentLimit) {
        return toSavings(all(accountsStmt, memberId), all(recentStmt, memberId, recentLimit));
      },
      async activeLoans(memberId) {
        return all(loansStmt, memberId).map((r) => {
          const nextDueOn = strOrNull(r.nextDueOn);
          return toLoan(r, nextDueOn ? get(nextInstallmentStmt, r.id, nextDueOn) : undefined);
        });
      },
    },
    figures: {
      async latestReports(koperasiId, limit) {
        return all(reportsStmt, { p1: koperasiId, p2: limit }).map(toAnnualReport);
      },
      async memberShu(member) {
        return toMemberShu(get(memberShuStmt, { p1: member.koperasiId, p2: member.id }));
      },
    },
    async confirmAttendance(meetingId, memberId, attending, channel) {
      await gate.write(() => attendanceStmt.run(meetingId, memberId, attending ? 1 : 0, channel, sqliteDateTime(new Date())));
    },
    async upcomingEventsForMembers(member, now) {
      const events = all(memberEventsStmt, sqliteDateTime(now), MEMBER_EVENTS_READ);
      return events.length === 0 ? [] : memberEvents(events, get(audienceStmt, member.koperasiId));
    },
    async complaintsOf(memberId, limit) {
      return all(complaintsStmt, memberId, limit).map(toComplaint);
    },
    async currentRat(member, now) {
      const row = get(upcomingRatStmt, member.id, member.koperasiId, sqliteDateTime(now)) ?? get(latestRatStmt, member.id, member.koperasiId);
      return row ? toMeeting(row) : null;
    },
    async close() {
      db.close();
    },
  };
}

