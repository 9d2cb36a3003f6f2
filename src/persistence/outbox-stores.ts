/**
 * Opening the outbox store a DATABASE_URL names. The database must be open (migrated) already:
 * openDatabase does that, and every entry point opens it first (createApp).
 */
import type { OutboxStore } from '../outbox/outbox-store.ts';
import { isPostgresUrl, sqlitePathOf } from './database.ts';
import { PostgresOutboxStore } from './postgres-outbox-store.ts';
import { SqliteOutboxStore } from './sqlite-outbox-store.ts';

export function openOutboxStore(url: string): OutboxStore {
  return isPostgresUrl(url) ? new PostgresOutboxStore(url) : new SqliteOutboxStore(sqlitePathOf(url));
}
