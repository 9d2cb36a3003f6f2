/**
 * Killing `kopbot outbox drain` with SIGKILL in the middle of a broadcast, then running it
 * again: every member gets the announcement, and only the few sends in flight at the kill can
 * arrive twice. Real processes, the real Telegram sender, the local Bot API server.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { createApp } from '../../src/app.ts';
import { seedDemo } from '../../src/domain/seed-demo.ts';
import { queueAnnouncement } from '../../src/outbox/broadcast.ts';
import { OutboxStore } from '../../src/outbox/outbox-store.ts';
import { sqlitePathOf } from '../../src/persistence/database.ts';
import { tempDir } from '../helpers/app.ts';
import { FakeBotApi } from '../helpers/fake-bot-api.ts';

const KOPBOT = fileURLToPath(new URL('../../bin/kopbot.js', import.meta.url));
const MEMBERS = 240;

function drain(env: NodeJS.ProcessEnv): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> } {
  const child = spawn(process.execPath, [KOPBOT, 'outbox', 'drain'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
  return { child, done };
}

test('a drain killed mid-broadcast loses no recipient when run again, and duplicates only what was in flight', async () => {
  const dir = tempDir('kopbot-crash-');
  const url = `file:${join(dir, 'kopbot.db')}`;
  const api = await new FakeBotApi().start();
  try {
    const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent' });
    const now = new Date('2026-11-23T03:00:00Z'); // 10.00 WIB, outside quiet hours in any case below
    await seedDemo(app.db, now);
    const koperasi = await app.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    await app.db.member.createMany({
      data: Array.from({ length: MEMBERS }, (_, i) => ({ koperasiId: koperasi.id, memberNumber: `T${i}`, name: `Anggota ${i}`, phone: `62813${String(10_000_000 + i)}` })),
    });
    const members = await app.db.member.findMany({ where: { memberNumber: { startsWith: 'T' } } });
    await app.db.channelIdentity.createMany({
      data: members.map((m, i) => ({ channel: 'telegram', externalId: String(20_000 + i), memberId: m.id, verifiedBy: 'contact', phone: m.phone })),
    });
    members.forEach((_, i) => api.addChat(20_000 + i));
    const store = new OutboxStore(sqlitePathOf(url));
    // Sent "now" by the wall clock, so the child processes (real time) find it due.
    const queued = await queueAnnouncement(app.db, store, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Pengumuman penting', actor: 'test', now: new Date() });
    store.close();
    await app.close();
    // The child processes run on the wall clock: quiet hours off, so the test does not depend on the hour.
    const env = { DATABASE_URL: url, TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url, LOG_LEVEL: 'warn', QUIET_HOURS: 'off' };

    const first = drain(env);
    const started = Date.now();
    while (api.sent.length < 60 && Date.now() - started < 20_000) await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(api.sent.length).toBeGreaterThanOrEqual(60);
    const atKill = api.sent.length;
    expect(atKill).toBeLessThan(MEMBERS);

    const second = drain(env);
    const finished = await second.done;
    expect(finished.code).toBe(0);
    expect(finished.out).toMatch(/Outbox: \d+ terkirim/);

    const perChat = new Map<number, number>();
    for (const m of api.sent) perChat.set(m.chat_id, (perChat.get(m.chat_id) ?? 0) + 1);
    for (let i = 0; i < MEMBERS; i++) expect(perChat.get(20_000 + i) ?? 0).toBeGreaterThanOrEqual(1);
    const duplicates = [...perChat.values()].reduce((sum, n) => sum + n - 1, 0);
    if (process.env.SHOW_FIGURES) console.log({ atKill, duplicates });
    // At most the sends under way at the kill (the sender keeps ~30 a second in flight at most).
    expect(duplicates).toBeLessThanOrEqual(40);
    const check = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent' });
    try {
      const rows = await check.db.outboxMessage.groupBy({ by: ['state'], where: { broadcastId: queued.broadcastId }, _count: true });
      const counts = Object.fromEntries(rows.map((r) => [r.state, r._count]));
      expect(counts.sent).toBe(MEMBERS);
      // The demo members have no channel a command line can use (no Telegram, WhatsApp off): unreachable.
      expect(counts.skipped).toBe(queued.recipients - MEMBERS);
      expect(counts.sending ?? 0).toBe(0);
    } finally {
      await check.close();
    }
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
