/**
 * Applies the checked-in migrations (prisma/migrations/<name>/migration.sql) on start. It keeps
 * Prisma's own `_prisma_migrations` table, so `prisma migrate status`/`deploy` agree with it,
 * but it runs in-process: starting the service must not depend on spawning the Prisma CLI.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { corruptDatabaseError, isCorruptError, newerDatabaseError } from './faults.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" TEXT PRIMARY KEY NOT NULL,
  "checksum" TEXT NOT NULL,
  "finished_at" DATETIME,
  "migration_name" TEXT NOT NULL,
  "logs" TEXT,
  "rolled_back_at" DATETIME,
  "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
  "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function listMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) throw new Error(`folder migrasi ${dir} tidak ada`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Refuse a damaged file before anything writes to it: `PRAGMA quick_check` reads every page
 * (a few hundred milliseconds for a regency's data), and a file SQLite cannot even open as a
 * database is damaged too.
 */
function checkIntact(db: Database.Database, path: string): void {
  let problems: string[];
  try {
    problems = (db.pragma('quick_check') as { quick_check: string }[]).map((row) => row.quick_check);
  } catch (error) {
    if (isCorruptError(error)) throw corruptDatabaseError(path, (error as Error).message, { cause: error });
    throw error;
  }
  if (problems.length !== 1 || problems[0] !== 'ok') throw corruptDatabaseError(path, `PRAGMA quick_check: ${problems[0] ?? 'tidak ada jawaban'}`);
}

/** Apply pending migrations to the SQLite file at path; returns the names applied. */
export function applyMigrations(path: string, dir: string): string[] {
  const db = new Database(path, { timeout: 15_000 });
  try {
    try {
      // WAL lets the service read while an import writes, and survives a crash mid-write.
      db.pragma('journal_mode = WAL');
    } catch (error) {
      if (isCorruptError(error)) throw corruptDatabaseError(path, (error as Error).message, { cause: error });
      throw error;
    }
    checkIntact(db, path);
    db.exec(MIGRATIONS_TABLE);
    const applied = new Set(
      (db.prepare('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL').all() as {
        migration_name: string;
      }[]).map((row) => row.migration_name),
    );
    const migrations = listMigrations(dir);
    // A migration this version does not ship was applied by a newer kopbot: its tables and
    // columns are not what this code expects, so nothing here may read or write them.
    const known = new Set(migrations.map((m) => m.name));
    const unknown = [...applied].filter((name) => !known.has(name)).sort();
    if (unknown.length > 0) throw newerDatabaseError(path, unknown);
    const done: string[] = [];
    const isApplied = db.prepare('SELECT 1 FROM _prisma_migrations WHERE migration_name = ? AND finished_at IS NOT NULL AND rolled_back_at IS NULL');
    for (const migration of migrations) {
      if (applied.has(migration.name)) continue;
      const ran = db.transaction(() => {
        // Checked again under the write lock: the service and a command started together must
        // not both apply the same migration.
        if (isApplied.get(migration.name)) return false;
        db.exec(migration.sql);
        db.prepare(
          'INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (?, ?, ?, ?, 1)',
        ).run(randomUUID(), migration.checksum, new Date().toISOString(), migration.name);
        return true;
      }).immediate();
      if (ran) done.push(migration.name);
    }
    return done;
  } finally {
    db.close();
  }
}
