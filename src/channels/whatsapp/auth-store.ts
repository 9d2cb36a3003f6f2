/**
 * The WhatsApp session (Baileys' authentication state) kept in the service's database instead
 * of the multi-file store Baileys itself calls unfit for production.
 *
 * - Credentials: one row per session, rewritten whole on every `creds.update`; writes are
 *   chained so an older save can never land after a newer one.
 * - Signal keys: one row per (type, id). Baileys commits a key transaction as a single `set()`
 *   call (outside a transaction it may split a change per key type), and each `set()` is
 *   written as ONE SQL statement (an upsert of all its rows; a deleted key becomes a null
 *   value), so it is atomic without an interactive transaction — which on the SQLite driver
 *   adapter would swallow the process's other writes (see services.ts).
 *   Deleted rows are purged by `purgeDeleted()`, a single statement that is safe at any time.
 */
import {
  BufferJSON,
  initAuthCreds,
  proto,
  type AuthenticationCreds,
  type AuthenticationState,
  type SignalDataSet,
  type SignalDataTypeMap,
  type SignalKeyStore,
} from '@whiskeysockets/baileys';
import { Prisma } from '../../../generated/prisma/client.ts';
import type { Db } from '../../persistence/database.ts';

/** SQLite allows 32,766 bound parameters; five per row leaves a wide margin at 2,000 rows. */
const ROWS_PER_STATEMENT = 2_000;

export interface WhatsAppAuthStore {
  state: AuthenticationState;
  /** Write the current credentials (call on every `creds.update`). */
  saveCreds(): Promise<void>;
  /** Whether the stored credentials belong to a device WhatsApp has paired (QR or code). */
  readonly paired: boolean;
  /** Forget the session: credentials and keys (after WhatsApp logged the device out). */
  clear(): Promise<void>;
  /** Remove the rows of deleted keys. */
  purgeDeleted(): Promise<number>;
  /** Wait for every credential and key write under way (before the database is closed). */
  flush(): Promise<void>;
}

function encode(value: unknown): string {
  return JSON.stringify(value, BufferJSON.replacer);
}

function decode<T>(text: string): T {
  return JSON.parse(text, BufferJSON.reviver) as T;
}

/** Load (or start) the session called `session` and return Baileys' auth state over it. */
export async function openWhatsAppAuthStore(db: Db, session = 'default'): Promise<WhatsAppAuthStore> {
  const row = await db.whatsAppCreds.findUnique({ where: { session } });
  const creds: AuthenticationCreds = row ? decode<AuthenticationCreds>(row.data) : initAuthCreds();
  let saving: Promise<void> = Promise.resolve();
  const writing = new Set<Promise<unknown>>();
  const tracked = <T>(work: Promise<T>): Promise<T> => {
    writing.add(work);
    void work.finally(() => writing.delete(work)).catch(() => undefined);
    return work;
  };

  const keys: SignalKeyStore = {
    async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
      const found: { [id: string]: SignalDataTypeMap[T] } = {};
      if (ids.length === 0) return found;
      const rows = await db.whatsAppKey.findMany({
        where: { session, type, id: { in: ids }, value: { not: null } },
        select: { id: true, value: true },
      });
      for (const { id, value } of rows) {
        let parsed = decode<unknown>(value!);
        // Baileys expects a protobuf object here, not the plain JSON it was saved as.
        if (type === 'app-state-sync-key') parsed = proto.Message.AppStateSyncKeyData.fromObject(parsed as object);
        found[id] = parsed as SignalDataTypeMap[T];
      }
      return found;
    },
    set(data: SignalDataSet) {
      return tracked(writeKeys(data));
    },
  };

  async function writeKeys(data: SignalDataSet): Promise<void> {
    const now = new Date();
    const rows: Prisma.Sql[] = [];
    for (const [type, entries] of Object.entries(data)) {
      for (const [id, value] of Object.entries(entries ?? {})) {
        rows.push(Prisma.sql`(${session}, ${type}, ${id}, ${value === null || value === undefined ? null : encode(value)}, ${now})`);
      }
    }
    if (rows.length === 0) return;
    // One statement is one atomic write. Only a set larger than any Baileys makes would be split.
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      await db.$executeRaw`
        INSERT INTO "WhatsAppKey" ("session", "type", "id", "value", "updatedAt")
        VALUES ${Prisma.join(rows.slice(start, start + ROWS_PER_STATEMENT))}
        ON CONFLICT ("session", "type", "id") DO UPDATE SET "value" = excluded."value", "updatedAt" = excluded."updatedAt"`;
    }
  }

  const store: WhatsAppAuthStore = {
    state: { creds, keys },
    get paired() {
      // Set by a successful pairing either way; `me` alone is also set by asking for a code.
      return creds.account !== undefined && creds.account !== null;
    },
    saveCreds() {
      // Serialised now, written in order: each save carries the state of its own moment.
      const data = encode(creds);
      saving = tracked(
        saving
          .catch(() => undefined)
          .then(async () => {
            await db.whatsAppCreds.upsert({ where: { session }, create: { session, data }, update: { data } });
          }),
      );
      return saving;
    },
    async clear() {
      await store.flush();
      // Keys first: credentials without keys fail at the next login and are cleared again,
      // while keys without credentials would be mistaken for a fresh device's.
      await db.whatsAppKey.deleteMany({ where: { session } });
      await db.whatsAppCreds.deleteMany({ where: { session } });
      // The object Baileys holds goes back to a fresh, unpaired state.
      for (const key of Object.keys(creds)) delete (creds as unknown as Record<string, unknown>)[key];
      Object.assign(creds, initAuthCreds());
    },
    async flush() {
      while (writing.size > 0) await Promise.allSettled([...writing]);
      await saving.catch(() => undefined);
    },
    async purgeDeleted() {
      return db.whatsAppKey.deleteMany({ where: { session, value: null } }).then((r) => r.count);
    },
  };
  return store;
}
