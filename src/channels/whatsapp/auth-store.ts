/**
 * The WhatsApp session (Baileys' authentication state) kept in the service's database instead
 * of the multi-file store Baileys itself calls unfit for production.
 *
 * - Credentials: one row per session, rewritten whole on every `creds.update`; writes are
 *   chained so an older save can never land after a newer one.
 * - Signal keys: one row per (type, id). Baileys commits a key transaction as a single `set()`
 *   call (outside a transaction it may split a change per key type), and each `set()` is
 *   one atomic write of the session store (persistence/whatsapp-session-store.ts).
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
import type { WhatsAppKeyRow, WhatsAppSessionStore } from '../../persistence/whatsapp-session-store.ts';

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

/** Load (or start) the session kept in rows and return Baileys' auth state over it. */
export async function openWhatsAppAuthStore(rows: WhatsAppSessionStore): Promise<WhatsAppAuthStore> {
  const saved = await rows.loadCreds();
  const creds: AuthenticationCreds = saved !== null ? decode<AuthenticationCreds>(saved) : initAuthCreds();
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
      for (const { id, value } of await rows.loadKeys(type, ids)) {
        let parsed = decode<unknown>(value);
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
    const keys: WhatsAppKeyRow[] = [];
    for (const [type, entries] of Object.entries(data)) {
      for (const [id, value] of Object.entries(entries ?? {})) {
        keys.push({ type, id, value: value === null || value === undefined ? null : encode(value) });
      }
    }
    if (keys.length > 0) await rows.saveKeys(keys);
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
            await rows.saveCreds(data);
          }),
      );
      return saving;
    },
    async clear() {
      await store.flush();
      await rows.clear();
      // The object Baileys holds goes back to a fresh, unpaired state.
      for (const key of Object.keys(creds)) delete (creds as unknown as Record<string, unknown>)[key];
      Object.assign(creds, initAuthCreds());
    },
    async flush() {
      while (writing.size > 0) await Promise.allSettled([...writing]);
      await saving.catch(() => undefined);
    },
    purgeDeleted() {
      return rows.purgeDeleted();
    },
  };
  return store;
}
