/**
 * Activation codes are stored under a keyed hash (HMAC-SHA256), so that a copy of the database
 * alone does not give the codes away: eight characters from 31 are few enough to try them all
 * against an unkeyed hash. The key is ACTIVATION_CODE_SECRET, or, on SQLite when that is unset,
 * a random key generated on first start and kept next to the database file (readable by its
 * owner only). On PostgreSQL there is no file beside the database, and a key kept in the
 * database would be copied with it: ACTIVATION_CODE_SECRET is required there (every instance
 * sets the same one). Whoever holds the database and the key can still try codes; the attempt
 * limits guard the bot.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config.ts';
import { DatabaseError, isPostgresUrl, sqlitePathOf, type Db } from './database.ts';

/** The file the generated key is kept in, in the database's directory. */
export const KEY_FILE = 'kopbot-activation-code.key';
const HMAC_PREFIX = 'hmac-sha256:';

const keys = new WeakMap<Db, Buffer>();

/** The configured secret, or the key kept next to the SQLite file (created on first start). */
export function loadActivationCodeKey(databaseUrl: string, secret?: string): Buffer {
  if (secret !== undefined) return Buffer.from(secret, 'utf8');
  if (isPostgresUrl(databaseUrl)) {
    throw new ConfigError([
      'ACTIVATION_CODE_SECRET: wajib diisi bila DATABASE_URL=postgresql://… (paling sedikit 32 karakter acak, misalnya dari `openssl rand -base64 32`; sama di setiap instance)',
    ]);
  }
  const file = join(dirname(sqlitePathOf(databaseUrl)), KEY_FILE);
  try {
    // "wx": two processes starting at once cannot both write a key; the second reads the first's.
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new DatabaseError(`Kunci kode aktivasi ${file} tidak bisa dibuat: ${(error as Error).message}`, { cause: error });
    }
  }
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 32) {
    throw new DatabaseError(`Kunci kode aktivasi ${file} rusak (terlalu pendek). Pulihkan berkasnya dari cadangan, atau isi ACTIVATION_CODE_SECRET.`);
  }
  return Buffer.from(key, 'utf8');
}

/** Codes issued and redeemed through this database connection are hashed under this key. */
export function useActivationCodeKey(db: Db, key: Buffer): void {
  keys.set(db, key);
}

function keyOf(db: Db): Buffer {
  const key = keys.get(db);
  if (!key) throw new Error('activation code key not loaded for this database (open it with createApp)');
  return key;
}

/** Activation codes are compared without case, spaces or dashes: "ab12-cd34" = "AB12CD34". */
function canonical(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

/** What is stored for a new code. */
export function hashActivationCode(db: Db, code: string): string {
  return HMAC_PREFIX + createHmac('sha256', keyOf(db)).update(canonical(code)).digest('hex');
}

/**
 * Whether a typed code is the one stored. Only keyed hashes match: codes stored before the
 * keyed hash were voided by migration 20261201140000 (their bare SHA-256 gave them away).
 */
export function activationCodeMatches(db: Db, stored: string, code: string): boolean {
  return stored.startsWith(HMAC_PREFIX) && stored === hashActivationCode(db, code);
}
