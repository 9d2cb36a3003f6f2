/**
 * The database part of `/health`: can the database be read, and written? A read alone says
 * "ok" while the disk is full and every member's message fails, so the probe also commits one
 * row. Its own connection, so the check never waits behind the service's work: on SQLite it
 * waits for no lock (busy: another process writes, which proves nothing is wrong) and never
 * holds up the event loop; on PostgreSQL a statement that takes over two seconds is a failure.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { isBusyError } from './busy.ts';
import { isPostgresUrl, sqlitePathOf } from './database.ts';
import { isCorruptError, isDiskFullError } from './faults.ts';
import { closePgPool, openPgPool, pgTimestamp, type pg } from './pg-pool.ts';
import { sqliteDateTime } from './sqlite-hot-path.ts';

export type DatabaseHealth =
  | { ok: true; koperasi: number; busy: boolean }
  | { ok: false; problem: 'disk_full' | 'corrupt' | 'unavailable'; detail: string };

export interface DatabaseProbe {
  check(now: Date): Promise<DatabaseHealth>;
  close(): Promise<void>;
}

export interface ProbeOptions {
  /**
   * How often the SQLite file is read whole for damage (`PRAGMA quick_check`, in a worker thread
   * so the event loop never waits for it). Default every 10 minutes; 0: at every check (tests).
   */
  integrityEveryMs?: number;
}

/** The probe for DATABASE_URL (connecting when first asked). */
export function openDatabaseProbe(url: string, options: ProbeOptions = {}): DatabaseProbe {
  return isPostgresUrl(url) ? new PostgresProbe(url) : new SqliteProbe(sqlitePathOf(url), options.integrityEveryMs ?? 10 * 60_000);
}

const BETTER_SQLITE3 = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * `PRAGMA quick_check` of the whole file on a connection of its own (so no page comes from a
 * cache that predates the damage), in a worker thread: it reads every page, a few hundred
 * milliseconds for a regency's data. Resolves with the first problem, or null when intact.
 */
function quickCheckInWorker(path: string): Promise<string | null> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    let db;
    try {
      db = new Database(workerData.path, { readonly: true, fileMustExist: true, timeout: 0 });
      const rows = db.pragma('quick_check');
      parentPort.postMessage(rows.length === 1 && rows[0].quick_check === 'ok' ? null : String(rows[0] && rows[0].quick_check));
    } catch (error) {
      const text = String((error && error.code) || '') + ' ' + String((error && error.message) || error);
      parentPort.postMessage(/SQLITE_(CORRUPT|NOTADB)|malformed|not a database/i.test(text) ? text.trim() : null);
    } finally {
      if (db) db.close();
    }`;
  return new Promise((resolve) => {
    const worker = new Worker(code, { eval: true, workerData: { path, driver: BETTER_SQLITE3 } });
    worker.once('message', (problem: string | null) => resolve(problem));
    // A worker that cannot run proves nothing about the file.
    worker.once('error', () => resolve(null));
    worker.once('exit', () => resolve(null));
  });
}

class SqliteProbe implements DatabaseProbe {
  readonly #path: string;
  readonly #integrityEveryMs: number;
  #db?: Database.Database;
  /** When the file was last read whole, and the damage found then (sticky: damage does not heal). */
  #integrityCheckedAt = Number.NEGATIVE_INFINITY;
  #damage: string | null = null;
  #integrityRun?: Promise<void>;

  constructor(path: string, integrityEveryMs: number) {
    this.#path = path;
    this.#integrityEveryMs = integrityEveryMs;
  }

  /**
   * A page damaged while the service runs (a failing disk, a copy over the live file) is seen by
   * reading the whole file now and then: the two small reads below touch only their own pages.
   */
  async #checkIntegrity(now: Date): Promise<void> {
    if (this.#damage !== null || now.getTime() - this.#integrityCheckedAt < this.#integrityEveryMs) return;
    this.#integrityRun ??= quickCheckInWorker(this.#path).then((problem) => {
      this.#integrityCheckedAt = now.getTime();
      if (problem) this.#damage = problem;
      this.#integrityRun = undefined;
    });
    await this.#integrityRun;
  }

  async check(now: Date): Promise<DatabaseHealth> {
    await this.#checkIntegrity(now);
    if (this.#damage !== null) return { ok: false, problem: 'corrupt', detail: `Basis data rusak: ${this.#damage}` };
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
    // The service may be stopped twice (a signal during its stop): closing again is nothing.
    await closePgPool(this.#pool);
  }
}

function failure(error: unknown): DatabaseHealth {
  const detail = (error as Error).message ?? String(error);
  if (isDiskFullError(error)) return { ok: false, problem: 'disk_full', detail: 'Disk penuh: basis data tidak bisa menyimpan apa pun.' };
  if (isCorruptError(error)) return { ok: false, problem: 'corrupt', detail: `Basis data rusak: ${detail}` };
  return { ok: false, problem: 'unavailable', detail: `Basis data tidak bisa dibaca atau ditulis: ${detail}` };
}
