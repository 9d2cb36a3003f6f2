/** The native SQLite module, migrations and configuration: what a fresh machine must get right. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { applyMigrations, listMigrations, MIGRATIONS_DIR } from '../../src/persistence/migrate.ts';
import { openDatabase } from '../../src/persistence/database.ts';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { tempDir } from '../helpers/app.ts';

describe('database', () => {
  it('loads the native better-sqlite3 module', () => {
    const db = new Database(':memory:');
    expect(db.prepare('select 1 + 1 as two').get()).toEqual({ two: 2 });
    db.close();
  });

  it('migrates a new file once, in WAL mode, recorded where Prisma records it', () => {
    const path = join(tempDir(), 'm.db');
    expect(applyMigrations(path, MIGRATIONS_DIR)).toEqual(listMigrations(MIGRATIONS_DIR).map((m) => m.name));
    expect(applyMigrations(path, MIGRATIONS_DIR)).toEqual([]);
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const rows = db.prepare('select migration_name, checksum from _prisma_migrations').all();
    expect(rows).toHaveLength(listMigrations(MIGRATIONS_DIR).length);
    db.close();
  });

  it('stores money beyond 32 bits exactly', async () => {
    const db = await openDatabase(`file:${join(tempDir(), 'money.db')}`);
    const koperasi = await db.koperasi.create({ data: { code: 'K', name: 'K', type: 'KSP' } });
    const member = await db.member.create({ data: { koperasiId: koperasi.id, memberNumber: '1', name: 'A' } });
    const big = 9_007_199_254_740_993n; // above 2^53: a float would round it
    await db.savingsAccount.create({ data: { memberId: member.id, kind: 'wajib', label: 'W', balance: big, asOf: '2026-01-01' } });
    expect((await db.savingsAccount.findFirstOrThrow()).balance).toBe(big);
    await db.$disconnect();
  });

  it('refuses a PostgreSQL URL with a clear sentence in this version', async () => {
    await expect(openDatabase('postgresql://127.0.0.1/test')).rejects.toThrow('baru mendukung SQLite');
  });
});

describe('configuration', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      DATABASE_URL: 'file:./data/koperasi.db',
      TELEGRAM_API_ROOT: 'https://api.telegram.org',
      WHATSAPP_ENABLED: false,
      PORT: 3000,
      LOG_LEVEL: 'info',
      TZ: 'Asia/Jakarta',
    });
  });

  it('names every problem in one sentence each', () => {
    try {
      loadConfig({ PORT: '70000', TELEGRAM_BOT_TOKEN: 'abc', WHATSAPP_ENABLED: 'maybe', DATABASE_URL: 'mysql://x' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'DATABASE_URL harus diawali file: (SQLite) atau postgresql:// (PostgreSQL).',
        'TELEGRAM_BOT_TOKEN bukan token bot Telegram yang sah (bentuknya 123456:ABC-…, dari BotFather).',
        'WHATSAPP_ENABLED harus true atau false.',
        'PORT harus antara 1 dan 65535.',
      ]);
    }
  });
});
