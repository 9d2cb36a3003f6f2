/** The native SQLite module, migrations and configuration: what a fresh machine must get right. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { applyMigrations, listMigrations, MIGRATIONS_DIR } from '../../src/persistence/migrate.ts';
import { openDatabase } from '../../src/persistence/database.ts';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { tempDir } from '../helpers/app.ts';
import { createTestPostgres } from '../helpers/postgres.ts';

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

  it('creates the database readable by its owner only, its WAL files too', async () => {
    const path = join(tempDir(), 'private.db');
    const db = await openDatabase(`file:${path}`);
    await db.koperasi.create({ data: { code: 'K', name: 'K', type: 'KSP' } });
    for (const file of [path, `${path}-wal`]) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    await db.$disconnect();
  });

  it('refuses a URL that is neither SQLite nor PostgreSQL with one sentence', async () => {
    await expect(openDatabase('mysql://127.0.0.1/test')).rejects.toThrow('DATABASE_URL harus berupa file:');
  });
});

describe('PostgreSQL', () => {
  it('keeps its schema the SQLite schema with another provider', () => {
    const sqlite = readFileSync('prisma/schema.prisma', 'utf8');
    const postgres = readFileSync('prisma/postgres/schema.prisma', 'utf8');
    const expected = sqlite
      .replace('provider = "sqlite"', 'provider = "postgresql"')
      .replace('output     = "../generated/prisma"', 'output     = "../../generated/prisma-pg"');
    expect(postgres).toBe(expected);
  });

  it('migrates a new database once, even when three instances start together', async () => {
    const pg = await createTestPostgres();
    try {
      const dbs = await Promise.all([openDatabase(pg.url), openDatabase(pg.url), openDatabase(pg.url)]);
      await dbs[0]!.koperasi.create({ data: { code: 'K', name: 'K', type: 'KSP' } });
      expect(await dbs[2]!.koperasi.count()).toBe(1);
      const rows = await dbs[1]!.$queryRawUnsafe<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM "_prisma_migrations"');
      expect(Number(rows[0]!.n)).toBe(readdirSync('prisma/postgres/migrations').length);
      await Promise.all(dbs.map((db) => db.$disconnect()));
    } finally {
      await pg.drop();
    }
  });

  it('refuses an unreachable server with one sentence naming it, without its password', async () => {
    const error = await openDatabase('postgresql://kopbot:rahasia@127.0.0.1:1/kopbot').then(() => new Error('opened'), (e: unknown) => e as Error);
    expect(error.message).toMatch(/^Basis data PostgreSQL 127\.0\.0\.1:1\/kopbot tidak bisa dibuka/);
    expect(error.message).not.toContain('rahasia');
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

  it('takes a webhook secret of 16 characters or more, and refuses others with one sentence', () => {
    expect(loadConfig({ TELEGRAM_WEBHOOK_SECRET: 'a1b2c3d4e5f6a7b8' }).TELEGRAM_WEBHOOK_SECRET).toBe('a1b2c3d4e5f6a7b8');
    for (const [secret, problem] of [
      ['kurang-panjang', 'terlalu pendek (14 karakter)'],
      ['rahasia dengan spasi!', 'hanya boleh huruf, angka, _ dan -'],
      ['x'.repeat(257), 'terlalu panjang'],
    ] as const) {
      expect(() => loadConfig({ TELEGRAM_WEBHOOK_SECRET: secret })).toThrow(ConfigError);
      try {
        loadConfig({ TELEGRAM_WEBHOOK_SECRET: secret });
      } catch (error) {
        expect((error as ConfigError).problems).toHaveLength(1);
        expect((error as ConfigError).problems[0]).toContain(`TELEGRAM_WEBHOOK_SECRET ${problem}`);
      }
    }
  });

  it('names every problem in one sentence each', () => {
    try {
      loadConfig({ PORT: '70000', TELEGRAM_BOT_TOKEN: 'abc', WHATSAPP_ENABLED: 'maybe', DATABASE_URL: 'mysql://x', TELEGRAM_WEBHOOK_SECRET: 'a' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'DATABASE_URL harus diawali file: (SQLite) atau postgresql:// (PostgreSQL).',
        'TELEGRAM_BOT_TOKEN bukan token bot Telegram yang sah (bentuknya 123456:ABC-…, dari BotFather).',
        'TELEGRAM_WEBHOOK_SECRET terlalu pendek (1 karakter): paling sedikit 16 huruf, angka, _ atau -, misalnya keluaran openssl rand -hex 16.',
        'WHATSAPP_ENABLED harus true atau false.',
        'PORT harus antara 1 dan 65535.',
      ]);
    }
  });
});
