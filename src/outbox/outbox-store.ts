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
 *
 * Writes are asynchronous: each waits for this process's turn in the write gate (a Prisma
 * transaction may hold the lock across event-loop turns) and, the connection having no busy
 * timeout, tries again later while another process writes (see write-gate.ts). Reads are
 * synchronous: in WAL mode they never wait.
 */
import Database from 'better-sqlite3';
import { sqliteDateTime } from '../persistence/sqlite-hot-path.ts';
import { writeGateFor, type WriteGate } from '../persistence/write-gate.ts';

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

/**
 * What the channels of one process can reach: members' verified identities on these channels,
 * and (WhatsApp) any phone on file. Rows for others stay queued for a process that has them.
 */
export interface Reach {
  identityChannels: readonly string[];
  byPhone: boolean;
}

/** A row with its recipient: `o` the row, `m` its member, `f` its officer (either may be absent). */
const RECIPIENTS = 'OutboxMessage o LEFT JOIN Member m ON m.id = o.memberId LEFT JOIN Officer f ON f.id = o.officerId';

// A verified identity `ci` of member `m`: a phone-verified one only while its phone is still the
// member's on file (as in a conversation); a code-made link holds until a new code is issued.
const MEMBER_IDENTITY = "ci.memberId = m.id AND (ci.verifiedBy = 'code' OR (ci.verifiedBy IN ('phone', 'contact') AND ci.phone = m.phone))";
// An identity `ci` whose proof of officer `f`'s phone still holds: a link that phone made (the
// sender number, a Telegram contact) to the member who is that officer (the officer's cooperative,
// any for the Dinas, and the officer's name), who still has it on file. A link to another member
// who has the phone on file too proves the phone for that member only; a phone only remembered,
// or a link made by a code, proves nothing: numbers are recycled, and an old account must not get
// the officer's mail (the officer then gets it by WhatsApp). The desk's isLinkedMember is the same rule.
const OFFICER_IDENTITY = `ci.phone = f.phone AND ci.verifiedBy IN ('phone', 'contact')
  AND EXISTS (SELECT 1 FROM Member pm WHERE pm.id = ci.memberId AND pm.phone = ci.phone AND pm.status IN ('AKTIF', 'NONAKTIF')
    AND (f.koperasiId IS NULL OR pm.koperasiId = f.koperasiId) AND lower(trim(pm.name)) = lower(trim(f.name)))`;
// Due now: queued, or claimed by a process whose lease ran out.
const DUE = "o.notBefore <= @now AND (o.state = 'queued' OR (o.state = 'sending' AND o.leaseUntil < @now))";
const HERE = 'ci.channel IN (SELECT value FROM json_each(@identityChannels))';

/**
 * Whether a process with this reach (@identityChannels, @byPhone) may claim the row: it can
 * route it, or the row ends without any channel (no recipient, not active, opted out, or a
 * member with no verified identity and no phone at all). Mirrors the dispatcher's own checks,
 * so a process never claims, and so never closes, a row only another channel could deliver.
 */
const ROUTABLE_HERE = `(
  (o.memberId IS NULL AND o.officerId IS NULL)
  OR (o.memberId IS NOT NULL AND (
    m.id IS NULL OR m.status <> 'AKTIF'
    OR (o.topic = 'announcements' AND m.optOutAnnouncements) OR (o.topic = 'reminders' AND m.optOutReminders) OR (o.topic = 'invitations' AND m.optOutInvitations)
    OR (@byPhone AND m.phone IS NOT NULL)
    OR EXISTS (SELECT 1 FROM ChannelIdentity ci WHERE ${MEMBER_IDENTITY} AND ${HERE})
    OR (m.phone IS NULL AND NOT EXISTS (SELECT 1 FROM ChannelIdentity ci WHERE ${MEMBER_IDENTITY}))))
  OR (o.memberId IS NULL AND o.officerId IS NOT NULL AND (
    f.id IS NULL OR @byPhone
    OR EXISTS (SELECT 1 FROM ChannelIdentity ci WHERE ${OFFICER_IDENTITY} AND ${HERE}))))`;

function reachParams(reach: Reach): { identityChannels: string; byPhone: number } {
  return { identityChannels: JSON.stringify(reach.identityChannels), byPhone: reach.byPhone ? 1 : 0 };
}

export class OutboxStore {
  readonly #db: Database.Database;
  readonly #gate: WriteGate;
  readonly #statements;

  constructor(path: string) {
    // No busy wait on the event loop: a long import holding the write lock is waited for by the
    // gate's asynchronous retries (half a minute), the service answering meanwhile.
    this.#db = new Database(path, { timeout: 0 });
    this.#gate = writeGateFor(path);
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
          SELECT o.id FROM ${RECIPIENTS}
          WHERE ${DUE} AND ${ROUTABLE_HERE}
          ORDER BY o.notBefore, o.id LIMIT @limit)
        RETURNING id, idempotencyKey, purpose, topic, koperasiId, memberId, officerId, broadcastId,
          COALESCE(text, (SELECT b.text FROM Broadcast b WHERE b.id = OutboxMessage.broadcastId)) AS text, notBefore, attempts`),
      // Due rows no channel here can take, by the channel they wait for: the member's most
      // recently used verified identity elsewhere, else WhatsApp by the phone on file.
      waiting: db.prepare(`
        SELECT needs, COUNT(*) AS n FROM (
          SELECT COALESCE(
            (SELECT ci.channel FROM ChannelIdentity ci WHERE o.memberId IS NOT NULL AND ${MEMBER_IDENTITY} ORDER BY ci.updatedAt DESC, ci.id DESC LIMIT 1),
            (SELECT ci.channel FROM ChannelIdentity ci WHERE o.memberId IS NULL AND ${OFFICER_IDENTITY} ORDER BY ci.updatedAt DESC, ci.id DESC LIMIT 1),
            'whatsapp') AS needs
          FROM ${RECIPIENTS}
          WHERE ${DUE} AND NOT ${ROUTABLE_HERE})
        GROUP BY needs ORDER BY n DESC, needs`),
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
      identities: db.prepare(`
        SELECT ci.channel, ci.externalId FROM Member m JOIN ChannelIdentity ci ON ${MEMBER_IDENTITY}
        WHERE m.id = ?
        ORDER BY ci.updatedAt DESC, ci.id DESC`),
      officer: db.prepare(`
        SELECT o.id, o.name, o.phone, k.timezone FROM Officer o LEFT JOIN Koperasi k ON k.id = o.koperasiId WHERE o.id = ?`),
      officerIdentities: db.prepare(`
        SELECT ci.channel, ci.externalId FROM Officer f JOIN ChannelIdentity ci ON ${OFFICER_IDENTITY}
        WHERE f.id = ? ORDER BY ci.updatedAt DESC, ci.id DESC`),
      counts: db.prepare('SELECT state, COUNT(*) AS n FROM OutboxMessage GROUP BY state'),
      owners: db.prepare("SELECT DISTINCT leaseOwner FROM OutboxMessage WHERE state = 'sending' AND leaseOwner IS NOT NULL"),
      release: db.prepare("UPDATE OutboxMessage SET state = 'queued', leaseOwner = NULL, leaseUntil = NULL WHERE state = 'sending' AND leaseOwner = ?"),
      pendingDue: db.prepare(`SELECT COUNT(*) AS n FROM OutboxMessage o WHERE ${DUE}`),
    };
  }

  /**
   * Queue an announcement to every active member of a cooperative: one Broadcast row and one
   * outbox row per member, in one transaction. Returns the broadcast id and recipient count.
   */
  queueBroadcast(options: { koperasiId: number; text: string; actor: string; via?: Record<string, unknown>; sendAt: Date; now: Date }): Promise<{ broadcastId: number; recipients: number }> {
    const s = this.#statements;
    return this.#write(() => this.#db.transaction(() => {
      const now = sqliteDateTime(options.now);
      const broadcastId = Number(s.insertBroadcast.run(options.koperasiId, options.text, options.actor, sqliteDateTime(options.sendAt), now).lastInsertRowid);
      const recipients = s.fanOut.run({ broadcastId, koperasiId: options.koperasiId, notBefore: sqliteDateTime(options.sendAt), now }).changes;
      s.setRecipients.run(recipients, broadcastId);
      // The audit entry is part of the same transaction: either the broadcast and its record
      // exist, or neither does (so a failed command can simply be run again).
      const detail = JSON.stringify({
        broadcastId,
        recipients,
        sendAt: options.sendAt.toISOString(),
        length: options.text.length,
        ...(options.via ? { via: options.via } : {}),
      });
      s.audit.run(now, options.actor, 'broadcast.queue', options.koperasiId, detail);
      return { broadcastId, recipients };
    }).immediate());
  }

  /** Queue messages; an idempotency key already present is left as it is. Returns how many were new. */
  queue(messages: NewOutboxMessage[], now: Date): Promise<number> {
    const s = this.#statements;
    return this.#write(() => this.#db.transaction(() => {
      let added = 0;
      for (const m of messages) {
        added += s.insertOne.run({ ...m, officerId: m.officerId ?? null, notBefore: sqliteDateTime(m.notBefore), now: sqliteDateTime(now) }).changes;
      }
      return added;
    }).immediate());
  }

  /**
   * One message to each of these officers (board members, Dinas staff), keyed `<key>:o<id>`:
   * the jobs and the desk address officers this way.
   */
  queueForOfficers(
    officers: readonly { id: number; koperasiId: number | null }[],
    message: { key: string; purpose: string; topic: Topic; text: string },
    now: Date,
  ): Promise<number> {
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

  /** Claim up to `limit` due rows for `owner` until `leaseUntil`: only rows a process with this reach can close. */
  async claim(owner: string, now: Date, leaseUntil: Date, limit: number, reach: Reach): Promise<OutboxRow[]> {
    const params = { owner, now: sqliteDateTime(now), leaseUntil: sqliteDateTime(leaseUntil), limit, ...reachParams(reach) };
    const rows = (await this.#write(() => this.#statements.claim.all(params))) as Record<string, unknown>[];
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
  async finish(id: number, owner: string, state: 'sent' | 'failed' | 'skipped', detail: { channel?: string; error?: string; at: Date }): Promise<boolean> {
    const params = {
        id,
        owner,
        state,
        channel: detail.channel ?? null,
        error: detail.error ?? null,
      sentAt: state === 'sent' ? sqliteDateTime(detail.at) : null,
    };
    return (await this.#write(() => this.#statements.finish.run(params))).changes === 1;
  }

  /** Extend a claimed row's lease; false when it is no longer this owner's. */
  async renewLease(id: number, owner: string, leaseUntil: Date): Promise<boolean> {
    const params = { id, owner, leaseUntil: sqliteDateTime(leaseUntil) };
    return (await this.#write(() => this.#statements.renew.run(params))).changes === 1;
  }

  /** Give a claimed row back, due again at notBefore; `countAttempt: false` when nothing was tried (quiet hours). */
  async retryLater(id: number, owner: string, notBefore: Date, detail: { channel?: string; error?: string; countAttempt: boolean }): Promise<boolean> {
    const params = {
        id,
        owner,
        notBefore: sqliteDateTime(notBefore),
        channel: detail.channel ?? null,
        error: detail.error ?? null,
      refund: detail.countAttempt ? 0 : 1,
    };
    return (await this.#write(() => this.#statements.retryLater.run(params))).changes === 1;
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
  async releaseDeadOwners(isDead: (owner: string) => boolean): Promise<number> {
    let released = 0;
    for (const { leaseOwner } of this.#statements.owners.all() as { leaseOwner: string }[]) {
      if (isDead(leaseOwner)) released += (await this.#write(() => this.#statements.release.run(leaseOwner))).changes;
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
      identities: this.#statements.officerIdentities.all(officerId) as { channel: string; externalId: string }[],
    };
  }

  counts(): StateCounts {
    const counts: StateCounts = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
    for (const row of this.#statements.counts.all() as { state: keyof StateCounts; n: number }[]) counts[row.state] = Number(row.n);
    return counts;
  }

  /** Due rows a process with this reach leaves queued, by the channel each waits for (most first). */
  waitingFor(now: Date, reach: Reach): { channel: string; count: number }[] {
    const rows = this.#statements.waiting.all({ now: sqliteDateTime(now), ...reachParams(reach) }) as { needs: string; n: number }[];
    return rows.map((r) => ({ channel: r.needs, count: Number(r.n) }));
  }

  /** Rows that could be claimed now (due, and queued or with a lapsed lease). */
  dueCount(now: Date): number {
    return Number((this.#statements.pendingDue.get({ now: sqliteDateTime(now) }) as { n: number }).n);
  }

  close(): void {
    this.#db.close();
  }

  #write<T>(work: () => T): Promise<T> {
    return this.#gate.write(work);
  }
}
