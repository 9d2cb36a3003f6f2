/**
 * The outbox table, on the SQLite file the rest of the service uses, through prepared
 * better-sqlite3 statements: every operation is ONE statement (or one synchronous
 * transaction), so it is atomic across processes without holding anything open.
 *
 * - Queueing a broadcast to a cooperative is one `INSERT … SELECT` over its members (100,000
 *   rows in well under a second), never an array in JavaScript.
 * - A unique idempotency key (purpose + target + occurrence) makes queueing the same reminder
 *   twice a no-op (`ON CONFLICT DO NOTHING`).
 * - Claiming is one `UPDATE … RETURNING` that sets a lease: two dispatchers never get the same
 *   row, and a row whose lease ran out (its process died mid-send) can be claimed again.
 *
 * Column formats are Prisma's (DateTime as ISO text with "+00:00"), so Prisma reads the rows.
 */
import Database from 'better-sqlite3';
import { sqliteDateTime } from '../persistence/sqlite-hot-path.ts';

export type Topic = 'announcements' | 'reminders' | 'invitations';
export type OutboxState = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface OutboxRow {
  id: number;
  idempotencyKey: string;
  purpose: string;
  topic: Topic;
  koperasiId: number | null;
  memberId: number | null;
  officerId: number | null;
  broadcastId: number | null;
  text: string;
  notBefore: Date;
  attempts: number;
}

export interface NewOutboxMessage {
  idempotencyKey: string;
  purpose: string;
  topic: Topic;
  koperasiId: number | null;
  memberId: number | null;
  /** For a message to a board member or Dinas officer (memberId null). */
  officerId?: number | null;
  text: string;
  notBefore: Date;
}

export interface Recipient {
  /** The member's id, or null for an officer. */
  memberId: number | null;
  name: string;
  phone: string | null;
  status: string;
  timezone: string;
  optOut: Record<Topic, boolean>;
  /** Verified identities, most recently used first. */
  identities: { channel: string; externalId: string }[];
}

export interface StateCounts {
  queued: number;
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
}

export class OutboxStore {
  readonly #db: Database.Database;
  readonly #statements;

  constructor(path: string) {
    // A generous busy wait: a long import may hold the write lock for seconds.
    this.#db = new Database(path, { timeout: 15_000 });
    this.#db.pragma('synchronous = NORMAL');
    const db = this.#db;
    this.#statements = {
      insertBroadcast: db.prepare('INSERT INTO Broadcast (koperasiId, text, actor, sendAt, recipients, createdAt) VALUES (?, ?, ?, ?, 0, ?)'),
      fanOut: db.prepare(`
        INSERT INTO OutboxMessage (idempotencyKey, purpose, topic, koperasiId, memberId, broadcastId, text, notBefore, state, attempts, createdAt)
        SELECT 'announcement:b' || @broadcastId || ':m' || m.id, 'announcement', 'announcements', m.koperasiId, m.id, @broadcastId, NULL, @notBefore, 'queued', 0, @now
        FROM Member m
        WHERE m.koperasiId = @koperasiId AND m.status = 'AKTIF'
        ON CONFLICT (idempotencyKey) DO NOTHING`),
      setRecipients: db.prepare('UPDATE Broadcast SET recipients = ? WHERE id = ?'),
      audit: db.prepare('INSERT INTO AuditLog (at, actor, action, koperasiId, detail) VALUES (?, ?, ?, ?, ?)'),
      insertOne: db.prepare(`
        INSERT INTO OutboxMessage (idempotencyKey, purpose, topic, koperasiId, memberId, officerId, text, notBefore, state, attempts, createdAt)
        VALUES (@idempotencyKey, @purpose, @topic, @koperasiId, @memberId, @officerId, @text, @notBefore, 'queued', 0, @now)
        ON CONFLICT (idempotencyKey) DO NOTHING`),
      claim: db.prepare(`
        UPDATE OutboxMessage
        SET state = 'sending', leaseOwner = @owner, leaseUntil = @leaseUntil, attempts = attempts + 1
        WHERE id IN (
          SELECT id FROM OutboxMessage
          WHERE notBefore <= @now AND (state = 'queued' OR (state = 'sending' AND leaseUntil < @now))
          ORDER BY notBefore, id LIMIT @limit)
        RETURNING id, idempotencyKey, purpose, topic, koperasiId, memberId, officerId, broadcastId,
          COALESCE(text, (SELECT b.text FROM Broadcast b WHERE b.id = OutboxMessage.broadcastId)) AS text, notBefore, attempts`),
      finish: db.prepare(`
        UPDATE OutboxMessage SET state = @state, channel = @channel, lastError = @error, sentAt = @sentAt, leaseOwner = NULL, leaseUntil = NULL
        WHERE id = @id AND leaseOwner = @owner`),
      renew: db.prepare("UPDATE OutboxMessage SET leaseUntil = @leaseUntil WHERE id = @id AND leaseOwner = @owner AND state = 'sending'"),
      retryLater: db.prepare(`
        UPDATE OutboxMessage SET state = 'queued', notBefore = @notBefore, channel = @channel, lastError = @error, leaseOwner = NULL, leaseUntil = NULL,
          attempts = attempts - @refund
        WHERE id = @id AND leaseOwner = @owner`),
      member: db.prepare(`
        SELECT m.id, m.name, m.phone, m.status, m.optOutAnnouncements, m.optOutReminders, m.optOutInvitations, k.timezone
        FROM Member m JOIN Koperasi k ON k.id = m.koperasiId WHERE m.id = ?`),
      // A phone-verified identity counts only while its phone is still the member's on file (as in
      // a conversation); a code-made link holds until a new code is issued.
      identities: db.prepare(`
        SELECT ci.channel, ci.externalId FROM ChannelIdentity ci JOIN Member m ON m.id = ci.memberId
        WHERE ci.memberId = ? AND (ci.verifiedBy = 'code' OR (ci.verifiedBy IN ('phone', 'contact') AND ci.phone = m.phone))
        ORDER BY ci.updatedAt DESC, ci.id DESC`),
      officer: db.prepare(`
        SELECT o.id, o.name, o.phone, k.timezone FROM Officer o LEFT JOIN Koperasi k ON k.id = o.koperasiId WHERE o.id = ?`),
      officerIdentities: db.prepare(`
        SELECT channel, externalId FROM ChannelIdentity
        WHERE phone = ? AND verifiedBy IN ('phone', 'contact') ORDER BY updatedAt DESC, id DESC`),
      counts: db.prepare('SELECT state, COUNT(*) AS n FROM OutboxMessage GROUP BY state'),
      owners: db.prepare("SELECT DISTINCT leaseOwner FROM OutboxMessage WHERE state = 'sending' AND leaseOwner IS NOT NULL"),
      release: db.prepare("UPDATE OutboxMessage SET state = 'queued', leaseOwner = NULL, leaseUntil = NULL WHERE state = 'sending' AND leaseOwner = ?"),
      pendingDue: db.prepare(`SELECT COUNT(*) AS n FROM OutboxMessage WHERE notBefore <= ? AND (state = 'queued' OR (state = 'sending' AND leaseUntil < ?))`),
    };
  }

  /**
   * Queue an announcement to every active member of a cooperative: one Broadcast row and one
   * outbox row per member, in one transaction. Returns the broadcast id and recipient count.
   */
  queueBroadcast(options: { koperasiId: number; text: string; actor: string; sendAt: Date; now: Date }): { broadcastId: number; recipients: number } {
    const s = this.#statements;
    return this.#db.transaction(() => {
      const now = sqliteDateTime(options.now);
      const broadcastId = Number(s.insertBroadcast.run(options.koperasiId, options.text, options.actor, sqliteDateTime(options.sendAt), now).lastInsertRowid);
      const recipients = s.fanOut.run({ broadcastId, koperasiId: options.koperasiId, notBefore: sqliteDateTime(options.sendAt), now }).changes;
      s.setRecipients.run(recipients, broadcastId);
      // The audit entry is part of the same transaction: either the broadcast and its record
      // exist, or neither does (so a failed command can simply be run again).
      const detail = JSON.stringify({ broadcastId, recipients, sendAt: options.sendAt.toISOString(), length: options.text.length });
      s.audit.run(now, options.actor, 'broadcast.queue', options.koperasiId, detail);
      return { broadcastId, recipients };
    }).immediate();
  }

  /** Queue messages; an idempotency key already present is left as it is. Returns how many were new. */
  queue(messages: NewOutboxMessage[], now: Date): number {
    const s = this.#statements;
    return this.#db.transaction(() => {
      let added = 0;
      for (const m of messages) {
        added += s.insertOne.run({ ...m, officerId: m.officerId ?? null, notBefore: sqliteDateTime(m.notBefore), now: sqliteDateTime(now) }).changes;
      }
      return added;
    }).immediate();
  }

  /**
   * One message to each of these officers (board members, Dinas staff), keyed `<key>:o<id>`:
   * the jobs and the desk address officers this way.
   */
  queueForOfficers(
    officers: readonly { id: number; koperasiId: number | null }[],
    message: { key: string; purpose: string; topic: Topic; text: string },
    now: Date,
  ): number {
    return this.queue(
      officers.map((o) => ({
        idempotencyKey: `${message.key}:o${o.id}`,
        purpose: message.purpose,
        topic: message.topic,
        koperasiId: o.koperasiId,
        memberId: null,
        officerId: o.id,
        text: message.text,
        notBefore: now,
      })),
      now,
    );
  }

  /** Claim up to `limit` due rows for `owner` until `leaseUntil`. */
  claim(owner: string, now: Date, leaseUntil: Date, limit: number): OutboxRow[] {
    const rows = this.#statements.claim.all({ owner, now: sqliteDateTime(now), leaseUntil: sqliteDateTime(leaseUntil), limit }) as Record<string, unknown>[];
    return rows
      .map((r) => ({
        id: Number(r.id),
        idempotencyKey: String(r.idempotencyKey),
        purpose: String(r.purpose),
        topic: r.topic as Topic,
        koperasiId: r.koperasiId === null ? null : Number(r.koperasiId),
        memberId: r.memberId === null ? null : Number(r.memberId),
        officerId: r.officerId === null ? null : Number(r.officerId),
        broadcastId: r.broadcastId === null ? null : Number(r.broadcastId),
        text: String(r.text ?? ''),
        notBefore: new Date(String(r.notBefore)),
        attempts: Number(r.attempts),
      }))
      .sort((a, b) => a.id - b.id);
  }

  /** Mark a claimed row done (sent, failed for good, or skipped). False when the lease was lost. */
  finish(id: number, owner: string, state: 'sent' | 'failed' | 'skipped', detail: { channel?: string; error?: string; at: Date }): boolean {
    return (
      this.#statements.finish.run({
        id,
        owner,
        state,
        channel: detail.channel ?? null,
        error: detail.error ?? null,
        sentAt: state === 'sent' ? sqliteDateTime(detail.at) : null,
      }).changes === 1
    );
  }

  /** Extend a claimed row's lease; false when it is no longer this owner's. */
  renewLease(id: number, owner: string, leaseUntil: Date): boolean {
    return this.#statements.renew.run({ id, owner, leaseUntil: sqliteDateTime(leaseUntil) }).changes === 1;
  }

  /** Give a claimed row back, due again at notBefore; `countAttempt: false` when nothing was tried (quiet hours). */
  retryLater(id: number, owner: string, notBefore: Date, detail: { channel?: string; error?: string; countAttempt: boolean }): boolean {
    return (
      this.#statements.retryLater.run({
        id,
        owner,
        notBefore: sqliteDateTime(notBefore),
        channel: detail.channel ?? null,
        error: detail.error ?? null,
        refund: detail.countAttempt ? 0 : 1,
      }).changes === 1
    );
  }

  recipient(memberId: number): Recipient | null {
    const m = this.#statements.member.get(memberId) as Record<string, unknown> | undefined;
    if (!m) return null;
    const identities = this.#statements.identities.all(memberId) as { channel: string; externalId: string }[];
    return {
      memberId,
      name: String(m.name),
      phone: m.phone === null ? null : String(m.phone),
      status: String(m.status),
      timezone: String(m.timezone),
      optOut: { announcements: Boolean(m.optOutAnnouncements), reminders: Boolean(m.optOutReminders), invitations: Boolean(m.optOutInvitations) },
      identities,
    };
  }

  /**
   * Give back the rows of dispatchers that are known to be dead (a process of this machine that
   * no longer exists, killed mid-broadcast), without waiting for their leases to run out.
   */
  releaseDeadOwners(isDead: (owner: string) => boolean): number {
    let released = 0;
    for (const { leaseOwner } of this.#statements.owners.all() as { leaseOwner: string }[]) {
      if (isDead(leaseOwner)) released += this.#statements.release.run(leaseOwner).changes;
    }
    return released;
  }

  /**
   * An officer as a recipient: the phone on file (WhatsApp), and the channel identities that
   * verified that same phone (a Telegram contact). Officers cannot opt out of their work mail.
   */
  officerRecipient(officerId: number): Recipient | null {
    const o = this.#statements.officer.get(officerId) as Record<string, unknown> | undefined;
    if (!o) return null;
    const phone = String(o.phone);
    return {
      memberId: null,
      name: String(o.name),
      phone,
      status: 'AKTIF',
      timezone: o.timezone === null ? 'Asia/Jakarta' : String(o.timezone),
      optOut: { announcements: false, reminders: false, invitations: false },
      identities: this.#statements.officerIdentities.all(phone) as { channel: string; externalId: string }[],
    };
  }

  counts(): StateCounts {
    const counts: StateCounts = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
    for (const row of this.#statements.counts.all() as { state: keyof StateCounts; n: number }[]) counts[row.state] = Number(row.n);
    return counts;
  }

  /** Rows that could be claimed now (due, and queued or with a lapsed lease). */
  dueCount(now: Date): number {
    const at = sqliteDateTime(now);
    return Number((this.#statements.pendingDue.get(at, at) as { n: number }).n);
  }

  close(): void {
    this.#db.close();
  }
}
