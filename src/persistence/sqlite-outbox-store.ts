/**
 * The outbox on the SQLite file the rest of the service uses, through prepared better-sqlite3
 * statements: every operation is ONE statement (or one synchronous transaction), so it is
 * atomic across processes without holding anything open. With one writer at a time, the claim
 * `UPDATE … WHERE id IN (SELECT … LIMIT)` cannot hand a row to two dispatchers.
 *
 * Column formats are Prisma's (DateTime as ISO text with "+00:00"), so Prisma reads the rows.
 *
 * Writes wait for this process's turn in the write gate (a Prisma transaction may hold the
 * lock across event-loop turns) and, the connection having no busy timeout, try again later
 * while another process writes (see write-gate.ts). Reads never wait in WAL mode; they are
 * answered at once (as promises, for the port's shape).
 */
import Database from 'better-sqlite3';
import {
  broadcastAuditDetail,
  officerMessages,
  type NewOutboxMessage,
  type OfficerMessage,
  type OutboxRow,
  type OutboxStore,
  type QueueBroadcast,
  type Reach,
  type Recipient,
  type StateCounts,
} from '../outbox/outbox-store.ts';
import { QueuedScan } from './outbox-scan.ts';
import { dateOrNull, EARLIEST_QUEUED_AFTER, identitiesSql, MEMBER_RECIPIENT, memberRecipient, OFFICER_RECIPIENT, officerRecipient, outboxRowOf, outboxSql, TOP_ID } from './outbox-sql.ts';
import { sqliteDateTime } from './sqlite-hot-path.ts';
import { writeGateFor, type WriteGate } from './write-gate.ts';

const { RECIPIENTS, DUE, DUE_QUEUED, DUE_LAPSED, AFTER_SAME, AFTER_LATER, CLAIM_ORDER, ROUTABLE_HERE, FAN_OUT, WAITING, TEXT_OF } = outboxSql('sqlite');
const IDENTITIES = identitiesSql('sqlite');

/** Lease up to @limit rows due in this way that this reach may claim, oldest first (one writer: no row twice). */
function claimStatement(due: string): string {
  return `
    UPDATE "OutboxMessage"
    SET "state" = 'sending', "leaseOwner" = @owner, "leaseUntil" = @leaseUntil, "attempts" = "attempts" + 1
    WHERE "id" IN (
      SELECT o."id" FROM ${RECIPIENTS}
      WHERE ${due} AND ${ROUTABLE_HERE}
      ORDER BY ${CLAIM_ORDER} LIMIT @limit)
    RETURNING "id", "idempotencyKey", "purpose", "topic", "koperasiId", "memberId", "officerId", "broadcastId",
      ${TEXT_OF('"OutboxMessage"')} AS "text", "notBefore", "attempts"`;
}

function reachParams(reach: Reach): { identityChannels: string; byPhone: number } {
  return { identityChannels: JSON.stringify(reach.identityChannels), byPhone: reach.byPhone ? 1 : 0 };
}

export class SqliteOutboxStore implements OutboxStore {
  readonly #db: Database.Database;
  readonly #gate: WriteGate;
  readonly #statements;
  readonly #scan = new QueuedScan();

  constructor(path: string) {
    // No busy wait on the event loop: a long import holding the write lock is waited for by the
    // gate's asynchronous retries (half a minute), the service answering meanwhile.
    this.#db = new Database(path, { timeout: 0 });
    this.#gate = writeGateFor(path);
    this.#db.pragma('synchronous = NORMAL');
    const db = this.#db;
    this.#statements = {
      insertBroadcast: db.prepare('INSERT INTO "Broadcast" ("koperasiId", "text", "actor", "sendAt", "recipients", "createdAt") VALUES (?, ?, ?, ?, 0, ?)'),
      fanOut: db.prepare(FAN_OUT),
      setRecipients: db.prepare('UPDATE "Broadcast" SET "recipients" = ? WHERE "id" = ?'),
      audit: db.prepare('INSERT INTO "AuditLog" ("at", "actor", "action", "koperasiId", "detail") VALUES (?, ?, ?, ?, ?)'),
      insertOne: db.prepare(`
        INSERT INTO "OutboxMessage" ("idempotencyKey", "purpose", "topic", "koperasiId", "memberId", "officerId", "text", "notBefore", "state", "attempts", "createdAt")
        VALUES (@idempotencyKey, @purpose, @topic, @koperasiId, @memberId, @officerId, @text, @notBefore, 'queued', 0, @now)
        ON CONFLICT ("idempotencyKey") WHERE "idempotencyKey" IS NOT NULL DO NOTHING`),
      claimLapsed: db.prepare(claimStatement(DUE_LAPSED)),
      claimQueuedSame: db.prepare(claimStatement(`${DUE_QUEUED} AND ${AFTER_SAME}`)),
      claimQueuedLater: db.prepare(claimStatement(`${DUE_QUEUED} AND ${AFTER_LATER}`)),
      waiting: db.prepare(WAITING),
      finish: db.prepare(`
        UPDATE "OutboxMessage" SET "state" = @state, "channel" = @channel, "lastError" = @error, "sentAt" = @sentAt, "leaseOwner" = NULL, "leaseUntil" = NULL
        WHERE "id" = @id AND "leaseOwner" = @owner`),
      renew: db.prepare(`UPDATE "OutboxMessage" SET "leaseUntil" = @leaseUntil WHERE "id" = @id AND "leaseOwner" = @owner AND "state" = 'sending'`),
      retryLater: db.prepare(`
        UPDATE "OutboxMessage" SET "state" = 'queued', "notBefore" = @notBefore, "channel" = @channel, "lastError" = @error, "leaseOwner" = NULL, "leaseUntil" = NULL,
          "attempts" = "attempts" - @refund
        WHERE "id" = @id AND "leaseOwner" = @owner`),
      member: db.prepare(MEMBER_RECIPIENT),
      identities: db.prepare(IDENTITIES.member),
      officer: db.prepare(OFFICER_RECIPIENT),
      officerIdentities: db.prepare(IDENTITIES.officer),
      counts: db.prepare('SELECT "state", COUNT(*) AS n FROM "OutboxMessage" GROUP BY "state"'),
      owners: db.prepare(`SELECT DISTINCT "leaseOwner" FROM "OutboxMessage" WHERE "state" = 'sending' AND "leaseOwner" IS NOT NULL`),
      release: db.prepare(`UPDATE "OutboxMessage" SET "state" = 'queued', "leaseOwner" = NULL, "leaseUntil" = NULL WHERE "state" = 'sending' AND "leaseOwner" = ?`),
      pendingDue: db.prepare(`SELECT COUNT(*) AS n FROM "OutboxMessage" o WHERE ${DUE}`),
      topId: db.prepare(TOP_ID),
      earliestQueuedAfter: db.prepare(EARLIEST_QUEUED_AFTER),
    };
  }

  async queueBroadcast(options: QueueBroadcast): Promise<{ broadcastId: number; recipients: number }> {
    const s = this.#statements;
    const queued = await this.#write(() => this.#db.transaction(() => {
      const now = sqliteDateTime(options.now);
      const broadcastId = Number(s.insertBroadcast.run(options.koperasiId, options.text, options.actor, sqliteDateTime(options.sendAt), now).lastInsertRowid);
      const recipients = s.fanOut.run({ broadcastId }).changes;
      s.setRecipients.run(recipients, broadcastId);
      s.audit.run(now, options.actor, 'broadcast.queue', options.koperasiId, broadcastAuditDetail(options, broadcastId, recipients));
      return { broadcastId, recipients };
    }).immediate());
    this.#scan.queued([options.sendAt]);
    return queued;
  }

  async queue(messages: readonly NewOutboxMessage[], now: Date): Promise<number> {
    const s = this.#statements;
    const added = await this.#write(() => this.#db.transaction(() => {
      let added = 0;
      for (const m of messages) {
        added += s.insertOne.run({ ...m, officerId: m.officerId ?? null, notBefore: sqliteDateTime(m.notBefore), now: sqliteDateTime(now) }).changes;
      }
      return added;
    }).immediate());
    this.#scan.queued(messages.map((m) => m.notBefore));
    return added;
  }

  queueForOfficers(officers: readonly { id: number; koperasiId: number | null }[], message: OfficerMessage, now: Date): Promise<number> {
    return this.queue(officerMessages(officers, message, now), now);
  }

  async claim(owner: string, now: Date, leaseUntil: Date, limit: number, reach: Reach): Promise<OutboxRow[]> {
    const params = { owner, now: sqliteDateTime(now), leaseUntil: sqliteDateTime(leaseUntil), ...reachParams(reach) };
    const s = this.#statements;
    // Rows whose dispatcher died first (they are the older), then the queue from where this
    // reach's last claim stopped reading (the rest of its notBefore, then later ones), each part
    // in the (state, notBefore, id) index's order: one ORDER BY over all would sort every due row.
    await this.#scan.catchUp(
      async () => Number((s.topId.get() as { top: number }).top),
      async (after) => dateOrNull((s.earliestQueuedAfter.get({ after }) as { earliest: unknown }).earliest),
    );
    const scan = this.#scan.start(reach, now);
    const after = { afterNotBefore: sqliteDateTime(scan.after.notBefore), afterId: scan.after.id };
    const { lapsed, queued } = await this.#write(() => this.#db.transaction(() => {
      const claimed = (statement: typeof s.claimLapsed, left: number) =>
        (statement.all({ ...params, ...after, limit: left }) as Record<string, unknown>[]).map(outboxRowOf);
      const lapsed = claimed(s.claimLapsed, limit);
      if (lapsed.length >= limit) return { lapsed, queued: null };
      const queued = claimed(s.claimQueuedSame, limit - lapsed.length);
      if (lapsed.length + queued.length < limit) queued.push(...claimed(s.claimQueuedLater, limit - lapsed.length - queued.length));
      return { lapsed, queued };
    }).immediate());
    if (queued) this.#scan.read(reach, now, scan, queued, limit - lapsed.length);
    return [...lapsed, ...(queued ?? [])].sort((a, b) => a.id - b.id);
  }

  async finish(id: number, owner: string, state: 'sent' | 'failed' | 'skipped', detail: { channel?: string; error?: string; at: Date }): Promise<boolean> {
    const params = { id, owner, state, channel: detail.channel ?? null, error: detail.error ?? null, sentAt: state === 'sent' ? sqliteDateTime(detail.at) : null };
    return (await this.#write(() => this.#statements.finish.run(params))).changes === 1;
  }

  async renewLease(id: number, owner: string, leaseUntil: Date): Promise<boolean> {
    const params = { id, owner, leaseUntil: sqliteDateTime(leaseUntil) };
    return (await this.#write(() => this.#statements.renew.run(params))).changes === 1;
  }

  async retryLater(id: number, owner: string, notBefore: Date, detail: { channel?: string; error?: string; countAttempt: boolean }): Promise<boolean> {
    const params = { id, owner, notBefore: sqliteDateTime(notBefore), channel: detail.channel ?? null, error: detail.error ?? null, refund: detail.countAttempt ? 0 : 1 };
    const given = (await this.#write(() => this.#statements.retryLater.run(params))).changes === 1;
    this.#scan.queued([notBefore]);
    return given;
  }

  async recipient(memberId: number): Promise<Recipient | null> {
    const m = this.#statements.member.get({ memberId }) as Record<string, unknown> | undefined;
    if (!m) return null;
    return memberRecipient(m, this.#statements.identities.all({ memberId }) as { channel: string; externalId: string }[]);
  }

  async officerRecipient(officerId: number): Promise<Recipient | null> {
    const o = this.#statements.officer.get({ officerId }) as Record<string, unknown> | undefined;
    if (!o) return null;
    return officerRecipient(o, this.#statements.officerIdentities.all({ officerId }) as { channel: string; externalId: string }[]);
  }

  async releaseDeadOwners(isDead: (owner: string) => boolean): Promise<number> {
    let released = 0;
    for (const { leaseOwner } of this.#statements.owners.all() as { leaseOwner: string }[]) {
      if (isDead(leaseOwner)) released += (await this.#write(() => this.#statements.release.run(leaseOwner))).changes;
    }
    // Queued again where they were, behind the cursor.
    if (released > 0) this.#scan.restart();
    return released;
  }

  async counts(): Promise<StateCounts> {
    const counts: StateCounts = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
    for (const row of this.#statements.counts.all() as { state: keyof StateCounts; n: number }[]) counts[row.state] = Number(row.n);
    return counts;
  }

  async waitingFor(now: Date, reach: Reach): Promise<{ channel: string; count: number }[]> {
    const rows = this.#statements.waiting.all({ now: sqliteDateTime(now), ...reachParams(reach) }) as { needs: string; n: number }[];
    return rows.map((r) => ({ channel: r.needs, count: Number(r.n) }));
  }

  async dueCount(now: Date): Promise<number> {
    return Number((this.#statements.pendingDue.get({ now: sqliteDateTime(now) }) as { n: number }).n);
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  #write<T>(work: () => T): Promise<T> {
    return this.#gate.write(work);
  }
}
