/**
 * Database faults named and seen, through real processes on a real SQLite file: a damaged file
 * and a file from a newer kopbot are refused at start with one sentence; a full disk (a small
 * tmpfs, filled) makes /health answer 503, tells a member plainly that their complaint was not
 * saved, and tells the clerk "Disk penuh"; once space is freed, all is well again.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../src/app.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { sqlitePathOf } from '../../src/persistence/database.ts';
import { loadConfig } from '../../src/config.ts';
import { startService } from '../../src/service.ts';
import { captureLogs, tempDir } from '../helpers/app.ts';
import { runKopbot, spawnKopbot, type KopbotProcess } from '../helpers/cli.ts';
import { freePort } from '../telegram/helpers.ts';

const COMPLAINT = 'komplain, simpanan wajib saya bulan ini belum tercatat padahal sudah bayar di kantor\n';

/** A seeded database file in a directory of its own; closed, its WAL folded into the file. */
async function seededFile(dir: string): Promise<string> {
  const url = `file:${join(dir, 'koperasi.db')}`;
  const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent' });
  await seedDemo(app.db);
  await app.close();
  return url;
}

describe('a database kopbot must not use', () => {
  test('a file with a damaged page is refused at start with one sentence', async () => {
    const dir = tempDir('kopbot-corrupt-');
    try {
      const url = await seededFile(dir);
      const path = sqlitePathOf(url);
      const db = new Database(path);
      db.pragma('wal_checkpoint(TRUNCATE)');
      const pageSize = Number(db.pragma('page_size', { simple: true }));
      const root = Number((db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'Member'").get() as { rootpage: number }).rootpage);
      db.close();
      // The page's b-tree header overwritten, as a bad sector or a half-copied file leaves it.
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, (root - 1) * pageSize);
      closeSync(fd);

      const started = await runKopbot(['start'], { DATABASE_URL: url, PORT: String(await freePort()), LOG_LEVEL: 'warn' });
      expect(started.code).toBe(1);
      expect(started.stderr).toMatch(/^Basis data \S+koperasi\.db rusak \(.+\); kopbot tidak memakainya agar kerusakan tidak bertambah, pulihkan dari cadangan terakhir\.\n$/);
      // Every command, not only the service.
      const chat = await runKopbot(['chat', '--as', '0812-3456-7801'], { DATABASE_URL: url, LOG_LEVEL: 'warn' });
      expect(chat.code).toBe(1);
      expect(chat.stderr).toContain('rusak');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('a page damaged while the service runs turns /health to 503 "corrupt"', async () => {
    const dir = tempDir('kopbot-corrupt-live-');
    const url = await seededFile(dir);
    const { logger } = captureLogs('warn');
    const config = loadConfig({ DATABASE_URL: url, PORT: String(await freePort()), LOG_LEVEL: 'warn', WHATSAPP_ENABLED: 'false' });
    const service = await startService(config, logger, { scheduler: false, health: { integrityEveryMs: 0 } });
    try {
      const health = () => fetch(`http://127.0.0.1:${service.port}/health`).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));
      expect((await health()).status).toBe(200);
      const path = sqlitePathOf(url);
      const db = new Database(path);
      db.pragma('wal_checkpoint(TRUNCATE)');
      const pageSize = Number(db.pragma('page_size', { simple: true }));
      const root = Number((db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'SavingsAccount'").get() as { rootpage: number }).rootpage);
      db.close();
      // A bad sector under members' savings, while the service holds the file open.
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, (root - 1) * pageSize);
      closeSync(fd);
      const after = await health();
      expect(after.status).toBe(503);
      expect(after.body).toMatchObject({ status: 'error', database: 'corrupt' });
      expect(String(after.body.detail)).toMatch(/^Basis data rusak: /);
      // Damage does not heal: it stays 503 until someone restores the file.
      expect((await health()).status).toBe(503);
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('a file carrying a migration this version does not know is refused, not half-used', async () => {
    const dir = tempDir('kopbot-newer-');
    try {
      const url = await seededFile(dir);
      const db = new Database(sqlitePathOf(url));
      db.prepare("INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('x', 'x', '2030-01-01T00:00:00Z', '20300101000000_something_new', 1)").run();
      db.close();
      const started = await runKopbot(['start'], { DATABASE_URL: url, PORT: String(await freePort()), LOG_LEVEL: 'warn' });
      expect(started.code).toBe(1);
      expect(started.stderr).toBe(
        `Basis data ini dari versi kopbot yang lebih baru (${sqlitePathOf(url)} memuat migrasi 20300101000000_something_new yang tidak dikenal versi ini); jalankan versi kopbot yang membuatnya atau yang lebih baru.\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** A small tmpfs of our own (root only: mount). Without it the disk-full story cannot be told. */
function mountSmallDisk(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir]).status === 0;
}

describe.skipIf(process.platform !== 'linux')('a full disk', () => {
  const base = tempDir('kopbot-full-');
  const disk = join(base, 'disk');
  let mounted = false;
  let url: string;
  let service: KopbotProcess;
  let port: number;
  let keeper: Database.Database;
  const filler = join(disk, 'filler');

  beforeAll(async () => {
    mounted = mountSmallDisk(disk);
    if (!mounted) return;
    url = await seededFile(disk);
    // A connection held open keeps the -shm and -wal files in place while the disk is full.
    keeper = new Database(sqlitePathOf(url));
    port = await freePort();
    service = spawnKopbot(['start'], { DATABASE_URL: url, PORT: String(port), LOG_LEVEL: 'warn', QUIET_HOURS: 'off' });
    await service.saysOnStderr('berjalan di port');
  }, 60_000);
  afterAll(async () => {
    if (!mounted) return;
    service.child.kill('SIGTERM');
    await service.exited;
    keeper.close();
    spawnSync('umount', [disk]);
    rmSync(base, { recursive: true, force: true });
  });

  /** Fill every free byte, after folding the WAL into the file so the next write must grow it. */
  function fillDisk(): void {
    keeper.pragma('wal_checkpoint(TRUNCATE)');
    const fd = openSync(filler, 'w');
    try {
      for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
        const chunk = Buffer.alloc(size, 0x20);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  test('is seen by /health, said plainly to the member and the clerk, and over once space is freed', async (ctx) => {
    if (!mounted) ctx.skip();
    const env = { DATABASE_URL: url, LOG_LEVEL: 'warn', QUIET_HOURS: 'off' };
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    fillDisk();

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'error', database: 'disk_full' });

    const chat = await runKopbot(['chat', '--as', '0812-3456-7801'], env, COMPLAINT);
    const lost = chat.stdout;
    expect(lost).toContain('kami belum bisa menyimpan pengaduan atau pesan Anda karena penyimpanan server kami sedang penuh');
    expect(lost).toContain('Silakan coba lagi sebentar lagi.');
    expect(lost).not.toContain('gangguan');

    const clerk = await runKopbot(['broadcast', '--koperasi', 'KPRI-SEJAHTERA', '--text', 'Kantor tutup 25 Desember.'], env);
    expect(clerk.code).toBe(1);
    expect(clerk.stderr).toBe('Disk penuh: basis data tidak bisa menyimpan perubahan ini; kosongkan ruang disk di server, lalu jalankan perintah ini lagi.\n');

    unlinkSync(filler);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const saved = await runKopbot(['chat', '--as', '0812-3456-7801'], env, COMPLAINT);
    expect(saved.stdout).toMatch(/nomor tiket|tiket/i);
    expect(Number((keeper.prepare('SELECT COUNT(*) AS n FROM Complaint').get() as { n: number }).n)).toBe(1);
  }, 60_000);
});
