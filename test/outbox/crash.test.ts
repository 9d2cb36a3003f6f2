/**
 * Killing `kopbot outbox drain` with SIGKILL in the middle of a broadcast, then running it
 * again: every member gets the announcement, and only the few sends in flight at the kill can
 * arrive twice. Real processes, the real Telegram sender, the local Bot API server; on SQLite
 * and on PostgreSQL (DATABASE_URL=postgresql://…, a database of the test's own).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createApp } from '../../src/app.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { queueAnnouncement } from '../../src/domain/announcements.ts';
import { openOutboxStore } from '../../src/persistence/outbox-stores.ts';
import { tempDir, TEST_ACTIVATION_CODE_SECRET } from '../helpers/app.ts';
import { spawnKopbot } from '../helpers/cli.ts';
import { addTelegramMembers, FakeBotApi } from '../helpers/fake-bot-api.ts';
import { createTestPostgres } from '../helpers/postgres.ts';

const MEMBERS = 240;

test.each(['sqlite', 'postgresql'] as const)('on %s, a drain killed mid-broadcast loses no recipient when run again, and duplicates only what was in flight', async (kind) => {
  const dir = tempDir('kopbot-crash-');
  const postgres = kind === 'postgresql' ? await createTestPostgres() : undefined;
  const url = postgres?.url ?? `file:${join(dir, 'kopbot.db')}`;
  // On PostgreSQL there is no file beside the database to keep a generated key in.
  const secret = postgres ? { ACTIVATION_CODE_SECRET: TEST_ACTIVATION_CODE_SECRET } : {};
  const api = await new FakeBotApi().start();
  try {
    const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent', ...secret });
    const now = new Date('2026-11-23T03:00:00Z'); // 10.00 WIB, outside quiet hours in any case below
    await seedDemo(app.db, now);
    await addTelegramMembers(app.db, api, { koperasiCode: 'KPRI-SEJAHTERA', count: MEMBERS, firstChatId: 20_000 });
    const store = openOutboxStore(url);
    // Sent "now" by the wall clock, so the child processes (real time) find it due.
    const queued = await queueAnnouncement({ ...app.domain, outbox: store }, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Pengumuman penting', actor: 'test', now: new Date() });
    await store.close();
    await app.close();
    // The child processes run on the wall clock: quiet hours off, so the test does not depend on the hour.
    // WhatsApp is the service's: the demo members with a phone are left to it.
    const env = { ...secret, DATABASE_URL: url, TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url, LOG_LEVEL: 'warn', QUIET_HOURS: 'off', WHATSAPP_ENABLED: 'true' };
    const drain = () => spawnKopbot(['outbox', 'drain'], env);

    const first = drain();
    const started = Date.now();
    while (api.sent.length < 60 && Date.now() - started < 20_000) await new Promise((resolve) => setTimeout(resolve, 20));
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    expect(api.sent.length).toBeGreaterThanOrEqual(60);
    const atKill = api.sent.length;
    expect(atKill).toBeLessThan(MEMBERS);

    const second = drain();
    const finished = await second.exited;
    expect(finished.code).toBe(0);
    expect(finished.stdout).toMatch(/Outbox: \d+ terkirim/);

    const perChat = new Map<number, number>();
    for (const m of api.sent) perChat.set(m.chat_id, (perChat.get(m.chat_id) ?? 0) + 1);
    for (let i = 0; i < MEMBERS; i++) expect(perChat.get(20_000 + i) ?? 0).toBeGreaterThanOrEqual(1);
    const duplicates = [...perChat.values()].reduce((sum, n) => sum + n - 1, 0);
    if (process.env.SHOW_FIGURES) console.log({ atKill, duplicates });
    // At most the sends under way at the kill (the sender keeps ~30 a second in flight at most).
    expect(duplicates).toBeLessThanOrEqual(40);
    const check = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent', ...secret });
    try {
      const rows = await check.db.outboxMessage.groupBy({ by: ['state'], where: { broadcastId: queued.broadcastId }, _count: true });
      const counts = Object.fromEntries(rows.map((r) => [r.state, r._count]));
      expect(counts.sent).toBe(MEMBERS);
      // The demo members with a phone wait, untouched, for the service's WhatsApp; Nur Hayati
      // (no phone, no identity) is the only one no channel can reach.
      expect(counts.queued).toBe(queued.recipients - MEMBERS - 1);
      expect(counts.skipped).toBe(1);
      expect(counts.sending ?? 0).toBe(0);
    } finally {
      await check.close();
    }
  } finally {
    await api.close();
    await postgres?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
