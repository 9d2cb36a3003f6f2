/**
 * The database part of `/health`: can the database be read, and written? A read alone says
 * "ok" while the disk is full and every member's message fails, so the probe also commits one
 * row. Its own connection, so the check never waits behind the service's work: on SQLite it
 * waits for no lock (busy: another process writes, which proves nothing is wrong) and never
 * holds up the event loop; on PostgreSQL a statement that takes over two seconds is a failure.
 */
import Database from 'better-sqlite3';
import { isBusyError } from './busy.ts';
import { isPostgresUrl, sqlitePathOf } from './database.ts';
import { isCorruptError, isDiskFullError } from './faults.ts';
import { openPgPool, pgTimestamp, type pg } from './pg-pool.ts';
import { sqliteDateTime } from './sqlite-hot-path.ts';

export type DatabaseHealth =
  | { ok: true; koperasi: number; busy: boolean }
  | { ok: false; problem: 'disk_full' | 'corrupt' | 'unavailable'; detail: string };

export interface DatabaseProbe {
  check(now: Date): Promise<DatabaseHealth>;
  close(): Promise<void>;
}

/** The probe for DATABASE_URL (connecting when first asked). */
export function openDatabaseProbe(url: string): DatabaseProbe {
  return isPostgresUrl(url) ? new PostgresProbe(url) : new SqliteProbe(sqlitePathOf(url));
}

class SqliteProbe implements DatabaseProbe {
  readonly #path: string;
  #db?: Database.Database;

  constructor(path: string) {
    this.#path = path;
  }

  async check(now: Date): Promise<DatabaseHealth> {
    let koperasi: number;
    try {
      this.#db ??= new Database(this.#path, { timeout: 0, fileMustExist: true });
      koperasi = Number((this.#db.prepare('SELECT COUNT(*) AS n FROM Koperasi').get() as { n: number }).n);
    } catch (error) {
      return failure(error);
    }
    try {
      this.#db.prepare('INSERT INTO HealthProbe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at').run(sqliteDateTime(now));
      return { ok: true, koperasi, busy: false };
    } catch (error) {
      if (isBusyError(error)) return { ok: true, koperasi, busy: true };
      return failure(error);
    }
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
  }
}

class PostgresProbe implements DatabaseProbe {
  readonly #pool: pg.Pool;

  constructor(url: string) {
    this.#pool = openPgPool(url, { max: 1, statementTimeoutMs: 2_000, connectionTimeoutMs: 2_000 });
  }

  async check(now: Date): Promise<DatabaseHealth> {
    try {
      const counted = await this.#pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM "Koperasi"');
      await this.#pool.query('INSERT INTO "HealthProbe" ("id", "at") VALUES (1, $1) ON CONFLICT ("id") DO UPDATE SET "at" = excluded."at"', [pgTimestamp(now)]);
      return { ok: true, koperasi: Number(counted.rows[0]?.n ?? 0), busy: false };
    } catch (error) {
      return failure(error);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

function failure(error: unknown): DatabaseHealth {
  const detail = (error as Error).message ?? String(error);
  if (isDiskFullError(error)) return { ok: false, problem: 'disk_full', detail: 'Disk penuh: basis data tidak bisa menyimpan apa pun.' };
  if (isCorruptError(error)) return { ok: false, problem: 'corrupt', detail: `Basis data rusak: ${detail}` };
  return { ok: false, problem: 'unavailable', detail: `Basis data tidak bisa dibaca atau ditulis: ${detail}` };
}
