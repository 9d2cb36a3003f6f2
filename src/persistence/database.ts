/**
 * Opening the database: the SQLite file is created and migrated on first use, then handed to
 * Prisma through the better-sqlite3 driver adapter (no engine binary, see toolchain notes).
 */
import { mkdirSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../../generated/prisma/client.ts';
import { applyMigrations, MIGRATIONS_DIR } from './migrate.ts';
import { retryWhileBusy } from './busy.ts';
import { DatabaseError, DiskFullError, isDiskFullError } from './faults.ts';

export { DatabaseError };

export type Db = PrismaClient;

/** The file behind a `file:` URL, resolved against the working directory. */
export function sqlitePathOf(url: string): string {
  const path = url.slice('file:'.length).split('?')[0] ?? '';
  if (path === '' || path === ':memory:') throw new DatabaseError('DATABASE_URL harus menunjuk ke sebuah berkas, misalnya file:./data/koperasi.db.');
  return resolve(path);
}

export interface OpenOptions {
  migrationsDir?: string;
}

/** Open (creating and migrating if needed) the database at url. */
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Db> {
  if (!url.startsWith('file:')) {
    throw new DatabaseError(
      'Versi ini baru mendukung SQLite (DATABASE_URL=file:…); dukungan PostgreSQL untuk banyak instans menyusul.',
    );
  }
  const path = sqlitePathOf(url);
  try {
    mkdirSync(dirname(path), { recursive: true });
    applyMigrations(path, options.migrationsDir ?? MIGRATIONS_DIR);
  } catch (error) {
    if (error instanceof DatabaseError) throw error;
    if (isDiskFullError(error)) throw new DiskFullError({ cause: error });
    throw new DatabaseError(`Basis data ${path} tidak bisa dibuka atau dimigrasi: ${(error as Error).message}`, { cause: error });
  }
  // timeout: how long a writer waits for another process's write lock (the CLI and the service share the file).
  // timestampFormat: ISO text, as the better-sqlite3 statements (hot path, outbox) write and compare it.
  const client = new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: `file:${path}`, timeout: 15_000 }, { timestampFormat: 'iso8601' }) });
  await client.$connect();
  // In WAL mode NORMAL still survives a crash of the process; only an OS crash or power cut can
  // lose the last commits. FULL would fsync on every message's session write.
  await client.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  return withBusyRetry(client, dirname(path));
}

/**
 * Whether the disk holding the database has no room left. Prisma does not always keep SQLite's
 * SQLITE_FULL: a commit that fails on a full disk is rolled back by SQLite, and Prisma then
 * reports only that its own rollback found no transaction. Asked only once a query has failed.
 */
function diskIsFull(dir: string): boolean {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

/**
 * Every query tried again, briefly, when SQLite answers "busy"; a failure on a full disk is a DiskFullError. With two processes on one file
 * (two instances, or the service and `kopbot chat`), Prisma's own transactions (an upsert, a
 * nested write) begin as readers and fail at once with SQLITE_BUSY_SNAPSHOT when the other
 * process wrote meanwhile: the driver's busy timeout does not apply there. A busy operation
 * changed nothing, so trying it again is safe. Inside an interactive transaction the retries
 * give up quickly and the caller's own retry (retryWhileBusy) starts the transaction again.
 */
function withBusyRetry(client: PrismaClient, dir: string): Db {
  const extended = client.$extends({
    query: {
      async $allOperations({ args, query }) {
        try {
          return await retryWhileBusy(() => query(args), [10, 25, 50, 100, 200, 400, 800, 1600]);
        } catch (error) {
          // A full disk is named, whatever Prisma made of it.
          if (!isDiskFullError(error) && diskIsFull(dir)) throw new DiskFullError({ cause: error });
          throw error;
        }
      },
    },
  });
  // A query-only extension keeps the client's shape; the rest of the code keeps its type.
  return extended as unknown as Db;
}
