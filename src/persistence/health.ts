/**
 * The database part of `/health`: can the file be read, and written? A read alone says "ok"
 * while the disk is full and every member's message fails, so the probe also commits one row.
 * Its own connection waits for no lock (busy: another process writes, which proves nothing is
 * wrong), so the check never holds up the event loop.
 */
import Database from 'better-sqlite3';
import { isBusyError } from './busy.ts';
import { isCorruptError, isDiskFullError } from './faults.ts';
import { sqliteDateTime } from './sqlite-hot-path.ts';

export type DatabaseHealth =
  | { ok: true; koperasi: number; busy: boolean }
  | { ok: false; problem: 'disk_full' | 'corrupt' | 'unavailable'; detail: string };

export class DatabaseProbe {
  readonly #path: string;
  #db?: Database.Database;

  constructor(path: string) {
    this.#path = path;
  }

  check(now: Date): DatabaseHealth {
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

  close(): void {
    this.#db?.close();
    this.#db = undefined;
  }
}

function failure(error: unknown): DatabaseHealth {
  const detail = (error as Error).message ?? String(error);
  if (isDiskFullError(error)) return { ok: false, problem: 'disk_full', detail: 'Disk penuh: basis data tidak bisa menyimpan apa pun.' };
  if (isCorruptError(error)) return { ok: false, problem: 'corrupt', detail: `Basis data rusak: ${detail}` };
  return { ok: false, problem: 'unavailable', detail: `Basis data tidak bisa dibaca atau ditulis: ${detail}` };
}
