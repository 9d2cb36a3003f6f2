/**
 * The service runs the scheduler and the dispatcher: a RAT reminder that fell due while the
 * service was down is queued once at start and delivered through the Telegram channel, and a
 * second start queues nothing again. A broadcast queued from the command line while the
 * service runs is picked up by its dispatcher. On SQLite and on PostgreSQL.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { expect, test } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { queueAnnouncement } from '../../src/domain/announcements.ts';
import { startService } from '../../src/service.ts';
import { captureLogs, tempDir, TEST_ACTIVATION_CODE_SECRET } from '../helpers/app.ts';
import { FakeBotApi } from '../helpers/fake-bot-api.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { freePort } from '../telegram/helpers.ts';
import { until } from '../whatsapp/helpers.ts';

test.each(['sqlite', 'postgresql'] as const)('on %s, the service queues a missed RAT reminder once at start and delivers it; broadcasts queued meanwhile go out too', async (kind) => {
  const dir = tempDir('kopbot-outbox-service-');
  const postgres = kind === 'postgresql' ? await createTestPostgres() : undefined;
  const api = await new FakeBotApi().start();
  try {
    const config = loadConfig({
      DATABASE_URL: postgres?.url ?? `file:${join(dir, 'kopbot.db')}`,
      ...(postgres ? { ACTIVATION_CODE_SECRET: TEST_ACTIVATION_CODE_SECRET } : {}),
      TELEGRAM_BOT_TOKEN: api.token,
      TELEGRAM_API_ROOT: api.url,
      PORT: String(await freePort()),
      QUIET_HOURS: 'off',
    });
    const first = await startService(config, captureLogs().logger, { telegram: { reconnectMs: { first: 50, cap: 200 } }, outbox: { intervalMs: 100 } });
    await seedDemo(first.app.db);
    const siti = await first.app.db.member.findFirstOrThrow({ where: { memberNumber: '001', koperasi: { code: 'KPRI-SEJAHTERA' } } });
    await first.app.db.channelIdentity.create({ data: { channel: 'telegram', externalId: '501', memberId: siti.id, verifiedBy: 'contact', phone: siti.phone } });
    api.addChat(501);
    // The RAT is in two days: its 3-day reminder fell due yesterday, while "the service was down".
    await first.app.db.meeting.updateMany({ where: { kind: 'RAT' }, data: { startsAt: new Date(Date.now() + 2 * 86_400_000) } });
    await first.stop();

    const second = await startService(config, captureLogs().logger, { telegram: { reconnectMs: { first: 50, cap: 200 } }, outbox: { intervalMs: 100 } });
    try {
      await until(() => api.messagesTo(501).length >= 1, 10_000, 'the reminder');
      expect(api.messagesTo(501)[0]!.text).toContain('Pengingat dari KPRI Sejahtera Kraksaan');
      expect(api.messagesTo(501)[0]!.text).toContain('2 hari lagi'); // the 3-day reminder, saying the real distance
      const store = second.outbox.store;
      await queueAnnouncement({ ...second.app.domain, outbox: store }, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Rapat pengurus diundur.', actor: 'cli', now: new Date() });
      await until(() => api.messagesTo(501).some((m) => m.text === 'Rapat pengurus diundur.'), 10_000, 'the broadcast');
    } finally {
      await second.stop();
    }
    const third = await startService(config, captureLogs().logger, { telegram: { reconnectMs: { first: 50, cap: 200 } }, outbox: { intervalMs: 100 } });
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const reminders = await third.app.db.outboxMessage.count({ where: { purpose: 'rat_reminder' } });
      const active = await third.app.db.member.count({ where: { status: 'AKTIF', koperasi: { meetings: { some: { kind: 'RAT' } } } } });
      expect(reminders).toBe(active); // once per member, not once per start
      expect(api.messagesTo(501).filter((m) => m.text.includes('Pengingat'))).toHaveLength(1);
    } finally {
      await third.stop();
    }
  } finally {
    await api.close();
    await postgres?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
