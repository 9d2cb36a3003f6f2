/**
 * The outbox on PostgreSQL, for one or several instances on one database. The rules are the
 * SQLite store's, in the same SQL (outbox-sql.ts); what PostgreSQL needs besides:
 *
 * - Claiming locks the picked rows `FOR UPDATE SKIP LOCKED` in the statement that leases them.
 *   Under READ COMMITTED a plain `UPDATE … WHERE id IN (SELECT … LIMIT)` lets two instances
 *   pick the same due rows from their snapshots and both lease them; with the lock, a row
 *   another instance is claiming is skipped, and one it has just claimed is re-checked against
 *   its new version (no longer due) and left out.
 * - Queueing many messages is one `INSERT … SELECT FROM unnest(…)`: one statement, one round trip.
 * - DateTime columns are `timestamp(3)` holding UTC (Prisma's convention): instants go in as
 *   ISO text (the zone suffix is ignored by a timestamp cast, and the text is UTC) and come back
 *   read as UTC, whatever the server's or this process's time zone.
 */
import pg from 'pg';
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

const { RECIPIENTS, DUE, DUE_QUEUED, DUE_LAPSED, AFTER, CLAIM_ORDER, ROUTABLE_HERE, FAN_OUT, WAITING, TEXT_OF } = outboxSql('postgresql');
const IDENTITIES = identitiesSql('postgresql');

/** A statement with `@name` parameters, numbered for PostgreSQL ($1, $2, …; a name used twice is one parameter). */
interface Named {
  text: string;
  names: string[];
}

export function compileNamed(sql: string): Named {
  const names: string[] = [];
  const text = sql.replace(/@(\w+)/g, (_, name: string) => {
    let index = names.indexOf(name);
    if (index < 0) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  return { text, names };
}

const TIMESTAMP_OID = 1114;

/** timestamp (without zone) columns hold UTC: read them as UTC, not in this process's zone. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMP_OID && format !== 'binary') return (value: string) => new Date(`${value.replace(' ', 'T')}Z`);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

const utc = (date: Date) => date.toISOString();

/**
 * Lease up to @limit rows due in this way that this reach may claim, oldest first. The rows are
 * locked as they are picked, skipping any another instance is claiming; one it claimed since
 * this statement's snapshot is re-checked when locked, found no longer due, and left out.
 */
function claimStatement(due: string): Named {
  return compileNamed(`
    WITH picked AS (
      SELECT o."id" FROM ${RECIPIENTS}
      WHERE ${due} AND ${ROUTABLE_HERE}
      ORDER BY ${CLAIM_ORDER} LIMIT @limit
      FOR UPDATE OF o SKIP LOCKED)
    UPDATE "OutboxMessage" x
    SET "state" = 'sending', "leaseOwner" = @owner, "leaseUntil" = @leaseUntil, "attempts" = x."attempts" + 1
    FROM picked WHERE x."id" = picked."id"
    RETURNING x."id", x."idempotencyKey", x."purpose", x."topic", x."koperasiId", x."memberId", x."officerId", x."broadcastId",
      ${TEXT_OF('x')} AS "text", x."notBefore", x."attempts"`);
}

const STATEMENTS = {
  insertBroadcast: compileNamed(`
    INSERT INTO "Broadcast" ("koperasiId", "text", "actor", "sendAt", "recipients", "createdAt")
    VALUES (@koperasiId, @text, @actor, @sendAt, 0, @now) RETURNING "id"`),
  fanOut: compileNamed(FAN_OUT),
  setRecipients: compileNamed('UPDATE "Broadcast" SET "recipients" = @recipients WHERE "id" = @broadcastId'),
  audit: compileNamed(`INSERT INTO "AuditLog" ("at", "actor", "action", "koperasiId", "detail") VALUES (@now, @actor, 'broadcast.queue', @koperasiId, @detail)`),
  insertMany: compileNamed(`
    INSERT INTO "OutboxMessage" ("idempotencyKey", "purpose", "topic", "koperasiId", "memberId", "officerId", "text", "notBefore", "state", "attempts", "createdAt")
    SELECT k, p, t, kid, mid, oid, x, nb, 'queued', 0, CAST(@now AS timestamp(3))
    FROM unnest(CAST(@keys AS text[]), CAST(@purposes AS text[]), CAST(@topics AS text[]), CAST(@koperasiIds AS int[]),
      CAST(@memberIds AS int[]), CAST(@officerIds AS int[]), CAST(@texts AS text[]), CAST(@notBefores AS timestamp(3)[]))
      AS n(k, p, t, kid, mid, oid, x, nb)
    ON CONFLICT ("idempotencyKey") WHERE "idempotencyKey" IS NOT NULL DO NOTHING`),
  claimLapsed: claimStatement(DUE_LAPSED),
  claimQueued: claimStatement(`${DUE_QUEUED} AND ${AFTER}`),
  waiting: compileNamed(WAITING),
  finish: compileNamed(`
    UPDATE "OutboxMessage" SET "state" = @state, "channel" = @channel, "lastError" = @error, "sentAt" = @sentAt, "leaseOwner" = NULL, "leaseUntil" = NULL
    WHERE "id" = @id AND "leaseOwner" = @owner`),
  renew: compileNamed(`UPDATE "OutboxMessage" SET "leaseUntil" = @leaseUntil WHERE "id" = @id AND "leaseOwner" = @owner AND "state" = 'sending'`),
  retryLater: compileNamed(`
    UPDATE "OutboxMessage" SET "state" = 'queued', "notBefore" = @notBefore, "channel" = @channel, "lastError" = @error, "leaseOwner" = NULL, "leaseUntil" = NULL,
      "attempts" = "attempts" - @refund
    WHERE "id" = @id AND "leaseOwner" = @owner`),
  member: compileNamed(MEMBER_RECIPIENT),
  identities: compileNamed(IDENTITIES.member),
  officer: compileNamed(OFFICER_RECIPIENT),
  officerIdentities: compileNamed(IDENTITIES.officer),
  counts: compileNamed('SELECT "state", COUNT(*) AS n FROM "OutboxMessage" GROUP BY "state"'),
  owners: compileNamed(`SELECT DISTINCT "leaseOwner" FROM "OutboxMessage" WHERE "state" = 'sending' AND "leaseOwner" IS NOT NULL`),
  release: compileNamed(`UPDATE "OutboxMessage" SET "state" = 'queued', "leaseOwner" = NULL, "leaseUntil" = NULL WHERE "state" = 'sending' AND "leaseOwner" = @owner`),
  pendingDue: compileNamed(`SELECT COUNT(*) AS n FROM "OutboxMessage" o WHERE ${DUE}`),
  topId: compileNamed(TOP_ID),
  earliestQueuedAfter: compileNamed(EARLIEST_QUEUED_AFTER),
} satisfies Record<string, Named>;

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

function run(on: Queryable, statement: Named, params: Record<string, unknown>): Promise<pg.QueryResult<Record<string, unknown>>> {
  return on.query<Record<string, unknown>>(statement.text, statement.names.map((name) => {
    if (!(name in params)) throw new Error(`outbox: parameter @${name} missing`);
    return params[name];
  }));
}

function reachParams(reach: Reach): { identityChannels: string[]; byPhone: boolean } {
  return { identityChannels: [...reach.identityChannels], byPhone: reach.byPhone };
}

/** A fan-out of this many rows refreshes the outbox's planner statistics. */
const ANALYZE_AFTER_ROWS = 10_000;

/** Connections per store: the dispatcher's writes are short single statements. */
const POOL_SIZE = 4;

export class PostgresOutboxStore implements OutboxStore {
  readonly #pool: pg.Pool;
  readonly #scan = new QueuedScan();

  constructor(url: string, options: { poolSize?: number } = {}) {
    this.#pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? POOL_SIZE, types });
    // An idle connection the server dropped must not take the process down; the next query reconnects.
    this.#pool.on('error', () => undefined);
  }

  async queueBroadcast(options: QueueBroadcast): Promise<{ broadcastId: number; recipients: number }> {
    const queued = await this.#transaction(async (client) => {
      const base = { koperasiId: options.koperasiId, actor: options.actor, now: utc(options.now) };
      const inserted = await run(client, STATEMENTS.insertBroadcast, { ...base, text: options.text, sendAt: utc(options.sendAt) });
      const broadcastId = Number(inserted.rows[0]!.id);
      const recipients = (await run(client, STATEMENTS.fanOut, { broadcastId })).rowCount ?? 0;
      await run(client, STATEMENTS.setRecipients, { recipients, broadcastId });
      await run(client, STATEMENTS.audit, { ...base, detail: broadcastAuditDetail(options, broadcastId, recipients) });
      return { broadcastId, recipients };
    });
    // After the commit: a claim reading before it cannot have moved past these rows unseen.
    this.#scan.queued([options.sendAt]);
    // A large fan-out leaves the planner's statistics behind the table until autovacuum comes
    // round (up to a minute): meanwhile each claim of a million queued rows took 1.3 s instead of
    // 12 ms. Sampled, so quick (~0.2 s for a million); a failure only leaves that to autovacuum.
    if (queued.recipients >= ANALYZE_AFTER_ROWS) await this.#pool.query('ANALYZE "OutboxMessage"').catch(() => undefined);
    return queued;
  }

  async queue(messages: readonly NewOutboxMessage[], now: Date): Promise<number> {
    if (messages.length === 0) return 0;
    const result = await run(this.#pool, STATEMENTS.insertMany, {
      now: utc(now),
      keys: messages.map((m) => m.idempotencyKey),
      purposes: messages.map((m) => m.purpose),
      topics: messages.map((m) => m.topic),
      koperasiIds: messages.map((m) => m.koperasiId),
      memberIds: messages.map((m) => m.memberId),
      officerIds: messages.map((m) => m.officerId ?? null),
      texts: messages.map((m) => m.text),
      notBefores: messages.map((m) => utc(m.notBefore)),
    });
    this.#scan.queued(messages.map((m) => m.notBefore));
    return result.rowCount ?? 0;
  }

  queueForOfficers(officers: readonly { id: number; koperasiId: number | null }[], message: OfficerMessage, now: Date): Promise<number> {
    return this.queue(officerMessages(officers, message, now), now);
  }

  async claim(owner: string, now: Date, leaseUntil: Date, limit: number, reach: Reach): Promise<OutboxRow[]> {
    const params = { owner, now: utc(now), leaseUntil: utc(leaseUntil), ...reachParams(reach) };
    // Rows whose dispatcher died first (they are the older), then the queue from where this
    // reach's last claim stopped reading; each statement claims atomically, so two of them need
    // no transaction around them.
    await this.#scan.catchUp(
      async () => Number((await run(this.#pool, STATEMENTS.topId, {})).rows[0]!.top),
      async (after) => dateOrNull((await run(this.#pool, STATEMENTS.earliestQueuedAfter, { after })).rows[0]!.earliest),
    );
    const scan = this.#scan.start(reach, now);
    const lapsed = (await run(this.#pool, STATEMENTS.claimLapsed, { ...params, limit })).rows.map(outboxRowOf);
    if (lapsed.length >= limit) return lapsed.sort((a, b) => a.id - b.id);
    const after = { afterNotBefore: utc(scan.after.notBefore), afterId: scan.after.id };
    const queued = (await run(this.#pool, STATEMENTS.claimQueued, { ...params, ...after, limit: limit - lapsed.length })).rows.map(outboxRowOf);
    this.#scan.read(reach, now, scan, queued, limit - lapsed.length);
    return [...lapsed, ...queued].sort((a, b) => a.id - b.id);
  }

  async finish(id: number, owner: string, state: 'sent' | 'failed' | 'skipped', detail: { channel?: string; error?: string; at: Date }): Promise<boolean> {
    const params = { id, owner, state, channel: detail.channel ?? null, error: detail.error ?? null, sentAt: state === 'sent' ? utc(detail.at) : null };
    return (await run(this.#pool, STATEMENTS.finish, params)).rowCount === 1;
  }

  async renewLease(id: number, owner: string, leaseUntil: Date): Promise<boolean> {
    return (await run(this.#pool, STATEMENTS.renew, { id, owner, leaseUntil: utc(leaseUntil) })).rowCount === 1;
  }

  async retryLater(id: number, owner: string, notBefore: Date, detail: { channel?: string; error?: string; countAttempt: boolean }): Promise<boolean> {
    const params = { id, owner, notBefore: utc(notBefore), channel: detail.channel ?? null, error: detail.error ?? null, refund: detail.countAttempt ? 0 : 1 };
    const given = (await run(this.#pool, STATEMENTS.retryLater, params)).rowCount === 1;
    this.#scan.queued([notBefore]);
    return given;
  }

  async recipient(memberId: number): Promise<Recipient | null> {
    const [member, identities] = await Promise.all([run(this.#pool, STATEMENTS.member, { memberId }), run(this.#pool, STATEMENTS.identities, { memberId })]);
    const m = member.rows[0];
    return m ? memberRecipient(m, identities.rows as { channel: string; externalId: string }[]) : null;
  }

  async officerRecipient(officerId: number): Promise<Recipient | null> {
    const [officer, identities] = await Promise.all([run(this.#pool, STATEMENTS.officer, { officerId }), run(this.#pool, STATEMENTS.officerIdentities, { officerId })]);
    const o = officer.rows[0];
    return o ? officerRecipient(o, identities.rows as { channel: string; externalId: string }[]) : null;
  }

  async releaseDeadOwners(isDead: (owner: string) => boolean): Promise<number> {
    let released = 0;
    for (const { leaseOwner } of (await run(this.#pool, STATEMENTS.owners, {})).rows as { leaseOwner: string }[]) {
      if (isDead(leaseOwner)) released += (await run(this.#pool, STATEMENTS.release, { owner: leaseOwner })).rowCount ?? 0;
    }
    // Queued again where they were, behind the cursor.
    if (released > 0) this.#scan.restart();
    return released;
  }

  async counts(): Promise<StateCounts> {
    const counts: StateCounts = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
    for (const row of (await run(this.#pool, STATEMENTS.counts, {})).rows as { state: keyof StateCounts; n: string }[]) counts[row.state] = Number(row.n);
    return counts;
  }

  async waitingFor(now: Date, reach: Reach): Promise<{ channel: string; count: number }[]> {
    const { rows } = await run(this.#pool, STATEMENTS.waiting, { now: utc(now), ...reachParams(reach) });
    return (rows as { needs: string; n: string }[]).map((r) => ({ channel: r.needs, count: Number(r.n) }));
  }

  async dueCount(now: Date): Promise<number> {
    return Number((await run(this.#pool, STATEMENTS.pendingDue, { now: utc(now) })).rows[0]!.n);
  }

  /** Close the pool (once: closing again does nothing, as with the SQLite store). */
  async close(): Promise<void> {
    if (!this.#pool.ended && !this.#pool.ending) await this.#pool.end();
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      // A connection whose ROLLBACK fails is broken: it leaves the pool instead of going back.
      const broken = await client.query('ROLLBACK').then(() => undefined, (rollbackError: Error) => rollbackError);
      client.release(broken);
      throw error;
    }
  }
}
