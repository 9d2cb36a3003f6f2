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

/** Apply pending migrations to the SQLite file at path; returns the names applied. */
export function applyMigrations(path: string, dir: string): string[] {
  const db = new Database(path, { timeout: 15_000 });
  try {
    // WAL lets the service read while an import writes, and survives a crash mid-write.
    db.pragma('journal_mode = WAL');
    db.exec(MIGRATIONS_TABLE);
    const applied = new Set(
      (db.prepare('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL').all() as {
        migration_name: string;
      }[]).map((row) => row.migration_name),
    );
    const done: string[] = [];
    const isApplied = db.prepare('SELECT 1 FROM _prisma_migrations WHERE migration_name = ? AND finished_at IS NOT NULL AND rolled_back_at IS NULL');
    for (const migration of listMigrations(dir)) {
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
