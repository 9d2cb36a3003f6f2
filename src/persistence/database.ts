/**
 * Opening the database: the SQLite file is created and migrated on first use, then handed to
 * Prisma through the better-sqlite3 driver adapter (no engine binary, see toolchain notes).
 */
import { chmodSync, existsSync, mkdirSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client.ts';
import { PrismaClient as PostgresPrismaClient } from '../../generated/prisma-pg/client.ts';
import { applyPostgresMigrations, describePostgresUrl } from './migrate-postgres.ts';
import { applyMigrations, MIGRATIONS_DIR } from './migrate.ts';
import { retryWhileBusy } from './busy.ts';
import { DatabaseError, DiskFullError, isDiskFullError } from './faults.ts';
import { writeGateFor, type WriteGate } from './write-gate.ts';

export { DatabaseError };

/**
 * The Prisma client of either store. Both generated clients come from one model
 * (prisma/postgres/schema.prisma is prisma/schema.prisma with another provider, checked by a
 * test), so they have the same model API; the SQLite client's type stands for both.
 */
export type Db = PrismaClient;

export type StoreKind = 'sqlite' | 'postgresql';

/** Which store a DATABASE_URL names. */
export function storeKindOf(url: string): StoreKind {
  return isPostgresUrl(url) ? 'postgresql' : 'sqlite';
}

/** Which store a client (or one of its transactions) talks to, for the few raw statements that differ. */
export function storeKindOfClient(client: object): StoreKind {
  return (client as { _activeProvider?: string })._activeProvider === 'postgresql' ? 'postgresql' : 'sqlite';
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgresql://') || url.startsWith('postgres://');
}

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
  if (isPostgresUrl(url)) return openPostgres(url);
  if (!url.startsWith('file:')) {
    throw new DatabaseError('DATABASE_URL harus berupa file:… (SQLite) atau postgresql://… (PostgreSQL).');
  }
  const path = sqlitePathOf(url);
  try {
    mkdirSync(dirname(path), { recursive: true });
    const created = !existsSync(path);
    applyMigrations(path, options.migrationsDir ?? MIGRATIONS_DIR);
    // Members' money data and the WhatsApp session live here: readable by the service's user
    // only (SQLite gives its -wal and -shm files the same mode).
    if (created) chmodSync(path, 0o600);
  } catch (error) {
    if (error instanceof DatabaseError) throw error;
    if (isDiskFullError(error)) throw new DiskFullError({ cause: error });
    throw new DatabaseError(`Basis data ${path} tidak bisa dibuka atau dimigrasi: ${(error as Error).message}`, { cause: error });
  }
  // timeout 0: SQLite's busy handler sleeps on the thread that runs it, which here is the event
  // loop: while another process (an import) held the write lock, every member would wait, for up
  // to the whole timeout. A busy statement fails at once instead and is tried again after an
  // asynchronous pause (withBusyRetry), so everyone else keeps being answered meanwhile.
  // timestampFormat: ISO text, as the better-sqlite3 statements (hot path, outbox) write and compare it.
  const adapter = new PrismaBetterSQLite3({ url: `file:${path}`, timeout: 0 }, { timestampFormat: 'iso8601' });
  const client = new PrismaClient({ adapter: gatePrismaTransactions(adapter, writeGateFor(path)) });
  await client.$connect();
  // In WAL mode NORMAL still survives a crash of the process; only an OS crash or power cut can
  // lose the last commits. FULL would fsync on every message's session write.
  await client.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  return withBusyRetry(client, dirname(path));
}

/** Connection pool size per process for PostgreSQL (each instance has its own pool). */
const POSTGRES_POOL = 10;

async function openPostgres(url: string): Promise<Db> {
  try {
    await applyPostgresMigrations(url);
  } catch (error) {
    if (error instanceof DatabaseError) throw error;
    throw new DatabaseError(`Basis data PostgreSQL ${describePostgresUrl(url)} tidak bisa dibuka atau dimigrasi: ${(error as Error).message}`, { cause: error });
  }
  const client = new PostgresPrismaClient({ adapter: new PrismaPg({ connectionString: url, max: POSTGRES_POOL }) });
  await client.$connect();
  // Same model, same API (see Db): the SQLite client's type stands for both.
  return client as unknown as Db;
}

/** What gatePrismaTransactions touches of a driver adapter (its types are Prisma's internals). */
interface GatedTransaction {
  commit(): Promise<void>;
  rollback(): Promise<void>;
  queryRaw(...args: never[]): Promise<unknown>;
  executeRaw(...args: never[]): Promise<unknown>;
}
interface GatedAdapter {
  startTransaction(...args: never[]): Promise<GatedTransaction>;
  /** The adapter's better-sqlite3 connection. */
  client?: { inTransaction: boolean };
}
type AnyAsync = (...args: unknown[]) => Promise<unknown>;

/**
 * Every Prisma transaction holds the process's write gate from BEGIN until the connection is out
 * of it (see write-gate.ts): the hot path's and the outbox's writes wait for it asynchronously
 * instead of sleeping in SQLite's busy handler on the thread that would finish it. The gate is
 * let go when SQLite says the transaction is over, not only when Prisma calls commit or rollback:
 * Prisma skips both when its COMMIT or ROLLBACK statement fails (a full disk), and the gate must
 * not stay shut then. Statements outside a transaction are synchronous and need nothing.
 */
function gatePrismaTransactions(factory: PrismaBetterSQLite3, gate: WriteGate): PrismaBetterSQLite3 {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const gated = adapter as unknown as GatedAdapter;
    const start = gated.startTransaction.bind(adapter) as (...args: unknown[]) => Promise<GatedTransaction>;
    gated.startTransaction = async (...args: unknown[]) => {
      const release = await gate.acquire();
      let tx: GatedTransaction;
      try {
        tx = await start(...args);
      } catch (error) {
        release();
        throw error;
      }
      const releaseWhenOver = () => {
        if (gated.client?.inTransaction === false) release();
      };
      for (const method of ['queryRaw', 'executeRaw'] as const) {
        const run = (tx[method] as AnyAsync).bind(tx);
        (tx[method] as AnyAsync) = (...query: unknown[]) => run(...query).finally(releaseWhenOver);
      }
      for (const method of ['commit', 'rollback'] as const) {
        const end = tx[method].bind(tx);
        tx[method] = () => end().finally(release);
      }
      return tx;
    };
    return adapter;
  };
  return factory;
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

/** Pauses between tries of a busy statement: about 15 seconds in all, as the busy timeout was. */
const STATEMENT_BUSY_DELAYS_MS = [5, 10, 25, 50, 100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000, 2000, 2000];

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
          return await retryWhileBusy(() => query(args), STATEMENT_BUSY_DELAYS_MS);
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
