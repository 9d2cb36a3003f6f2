/**
 * A `pg` connection pool for the stores that talk to PostgreSQL directly (the Telegram budget,
 * the health probe, the per-message read path), reading values as Prisma writes them:
 * DateTime columns are `timestamp(3)` holding UTC; BIGINT columns are numbers (epoch
 * milliseconds, counts) or, when asked, bigints (money).
 */
import pg from 'pg';

/** `timestamp without time zone` is UTC here; pg would read it in the process's own zone. */
const TIMESTAMP = 1114;
const INT8 = 20;

function typesFor(int8: 'number' | 'bigint'): pg.CustomTypesConfig {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === TIMESTAMP) return (text: string) => new Date(`${text.replace(' ', 'T')}Z`);
      if (oid === INT8) return int8 === 'bigint' ? (text: string) => BigInt(text) : (text: string) => Number(text);
      return pg.types.getTypeParser(oid, format);
    },
  } as pg.CustomTypesConfig;
}

export interface PgPoolOptions {
  max: number;
  /** Abandon a statement after this long (the health probe must answer, not hang). */
  statementTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** BIGINT as bigint (money: rupiah amounts), not number (the default: epoch ms, counts). */
  int8?: 'number' | 'bigint';
}

export function openPgPool(url: string, options: PgPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max,
    types: typesFor(options.int8 ?? 'number'),
    ...(options.connectionTimeoutMs ? { connectionTimeoutMillis: options.connectionTimeoutMs } : {}),
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle connection the server dropped (a restart) is an 'error' event; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** End pool; a second close (an app closed twice, as on SQLite) is a no-op. */
export async function closePgPool(pool: pg.Pool): Promise<void> {
  if (pool.ending) return;
  await pool.end();
}

/** A Date as PostgreSQL `timestamp(3)` text in UTC (the zone suffix is ignored by the cast). */
export function pgTimestamp(at: Date): string {
  return at.toISOString();
}

/** Run work in one transaction on one connection of pool. */
export async function inPgTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export type { pg };
