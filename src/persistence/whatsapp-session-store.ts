/**
 * The rows of a WhatsApp session (Baileys' authentication state, encoded by the channel as
 * text): one credentials row per session, one row per signal key (type, id). Prisma's model
 * API and one raw upsert with quoted identifiers, the same on SQLite and PostgreSQL.
 *
 * A key write is ONE SQL statement (an upsert of all its rows; a deleted key becomes a null
 * value), so it is atomic without an interactive transaction — which on the SQLite driver
 * adapter would swallow the process's other writes (see services.ts).
 */
import { Prisma } from '../../generated/prisma/client.ts';
import type { Db } from './database.ts';

/** SQLite allows 32,766 bound parameters; five per row leaves a wide margin at 2,000 rows. */
const ROWS_PER_STATEMENT = 2_000;

export interface WhatsAppKeyRow {
  type: string;
  id: string;
  /** The encoded key; null for a key deleted (purged later by purgeDeleted). */
  value: string | null;
}

/** The store port of one session's rows. */
export interface WhatsAppSessionStore {
  readonly session: string;
  loadCreds(): Promise<string | null>;
  saveCreds(data: string): Promise<void>;
  /** The stored (not deleted) values of the keys of type among ids. */
  loadKeys(type: string, ids: readonly string[]): Promise<{ id: string; value: string }[]>;
  /** Write these keys at once (one statement for any set Baileys makes). */
  saveKeys(rows: readonly WhatsAppKeyRow[], now?: Date): Promise<void>;
  /** Forget the session: keys first, then credentials. */
  clear(): Promise<void>;
  /** Remove the rows of deleted keys; returns how many. */
  purgeDeleted(): Promise<number>;
}

export function openWhatsAppSessionStore(db: Db, session = 'default'): WhatsAppSessionStore {
  return {
    session,
    async loadCreds() {
      const row = await db.whatsAppCreds.findUnique({ where: { session } });
      return row?.data ?? null;
    },
    async saveCreds(data) {
      await db.whatsAppCreds.upsert({ where: { session }, create: { session, data }, update: { data } });
    },
    async loadKeys(type, ids) {
      if (ids.length === 0) return [];
      const rows = await db.whatsAppKey.findMany({
        where: { session, type, id: { in: [...ids] }, value: { not: null } },
        select: { id: true, value: true },
      });
      return rows.map(({ id, value }) => ({ id, value: value! }));
    },
    async saveKeys(keys, now = new Date()) {
      const rows = keys.map(({ type, id, value }) => Prisma.sql`(${session}, ${type}, ${id}, ${value}, ${now})`);
      // Only a set larger than any Baileys makes would be split.
      for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
        await db.$executeRaw`
          INSERT INTO "WhatsAppKey" ("session", "type", "id", "value", "updatedAt")
          VALUES ${Prisma.join(rows.slice(start, start + ROWS_PER_STATEMENT))}
          ON CONFLICT ("session", "type", "id") DO UPDATE SET "value" = excluded."value", "updatedAt" = excluded."updatedAt"`;
      }
    },
    async clear() {
      // Keys first: credentials without keys fail at the next login and are cleared again,
      // while keys without credentials would be mistaken for a fresh device's.
      await db.whatsAppKey.deleteMany({ where: { session } });
      await db.whatsAppCreds.deleteMany({ where: { session } });
    },
    async purgeDeleted() {
      return db.whatsAppKey.deleteMany({ where: { session, value: null } }).then((r) => r.count);
    },
  };
}
