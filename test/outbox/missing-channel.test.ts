/**
 * A process without a channel never closes that channel's rows: `kopbot outbox drain` and
 * `kopbot start` without TELEGRAM_BOT_TOKEN leave Telegram members' messages queued (the drain
 * says so and exits 1), and a drain with the token then sends them. Real processes, a real
 * SQLite file or PostgreSQL database, the local Bot API server.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { queueAnnouncement } from '../../src/domain/announcements.ts';
import { runKopbot, spawnKopbot } from '../helpers/cli.ts';
import { tempDir, TEST_ACTIVATION_CODE_SECRET } from '../helpers/app.ts';
import { addTelegramMembers, FakeBotApi } from '../helpers/fake-bot-api.ts';
import { until } from '../helpers/until.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { freePort } from '../telegram/helpers.ts';

const TELEGRAM_MEMBERS = 40;

/** Wait until the check holds (it reads the database another process writes). */
const eventually = (check: () => Promise<boolean>, timeoutMs: number, what: string) => until(check, timeoutMs, what, 20);

describe.each(['sqlite', 'postgresql'] as const)('on %s, a process without a member\'s channel', (kind) => {
  let dir: string;
  let postgres: TestPostgres | undefined;
  let url: string;
  let api: FakeBotApi;
  let app: App;
  let telegramMembers: number[];
  // On PostgreSQL there is no file beside the database to keep a generated key in.
  const secret = () => (postgres ? { ACTIVATION_CODE_SECRET: TEST_ACTIVATION_CODE_SECRET } : {});
  const base = () => ({ ...secret(), DATABASE_URL: url, LOG_LEVEL: 'warn', QUIET_HOURS: 'off', TELEGRAM_BOT_TOKEN: undefined, WHATSAPP_ENABLED: undefined });

  beforeAll(async () => {
    dir = tempDir('kopbot-missing-channel-');
    postgres = kind === 'postgresql' ? await createTestPostgres() : undefined;
    url = postgres?.url ?? `file:${join(dir, 'kopbot.db')}`;
    api = await new FakeBotApi().start();
    app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent', ...secret() });
    await seedDemo(app.db);
    telegramMembers = await addTelegramMembers(app.db, api, { koperasiCode: 'KPRI-SEJAHTERA', count: TELEGRAM_MEMBERS, firstChatId: 30_000 });
  });
  afterAll(async () => {
    await app.close();
    await api.close();
    await postgres?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const telegramRows = (broadcastId: number) =>
    app.db.outboxMessage.findMany({ where: { broadcastId, memberId: { in: telegramMembers } }, select: { state: true, attempts: true, lastError: true } });

  test('outbox drain without TELEGRAM_BOT_TOKEN says so, exits 1 and leaves the rows queued; with the token they are sent', async () => {
    const queued = await queueAnnouncement(app.domain, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Kantor tutup 25 Desember.', actor: 'test', now: new Date() });

    const without = await runKopbot(['outbox', 'drain'], base());
    expect(without.code).toBe(1);
    // Three demo members have a phone but no channel here: WhatsApp is needed for them too.
    expect(without.stderr).toBe(
      `Tidak dikirim dan tetap di antrean: ${TELEGRAM_MEMBERS} pesan menunggu Telegram (isi TELEGRAM_BOT_TOKEN lalu jalankan kopbot outbox drain lagi); ` +
        '3 pesan menunggu WhatsApp (WhatsApp dikirim oleh layanan: jalankan kopbot start dengan WHATSAPP_ENABLED=true).\n',
    );
    expect(without.stdout).toMatch(/^Outbox: 0 terkirim, 0 gagal, 1 dilewati/); // Nur Hayati: no phone, no identity
    expect(api.sent).toHaveLength(0);
    const untouched = await telegramRows(queued.broadcastId);
    expect(untouched).toHaveLength(TELEGRAM_MEMBERS);
    expect(untouched.every((r) => r.state === 'queued' && r.attempts === 0 && r.lastError === null)).toBe(true);

    // With the token (and WhatsApp left to the service), everything this command can send goes out.
    const withToken = await runKopbot(['outbox', 'drain'], { ...base(), TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url, WHATSAPP_ENABLED: 'true' });
    expect(withToken.stderr).toBe('');
    expect(withToken.code).toBe(0);
    expect(withToken.stdout).toMatch(new RegExp(`^Outbox: ${TELEGRAM_MEMBERS} terkirim, 0 gagal, 0 dilewati`));
    expect(new Set(api.sent.map((m) => m.chat_id)).size).toBe(TELEGRAM_MEMBERS);
    expect((await telegramRows(queued.broadcastId)).every((r) => r.state === 'sent')).toBe(true);
    // The demo members with a phone still wait for the service's WhatsApp, untouched.
    expect(await app.db.outboxMessage.count({ where: { broadcastId: queued.broadcastId, state: 'queued', attempts: 0 } })).toBe(3);
  }, 60_000);

  test('kopbot start without TELEGRAM_BOT_TOKEN leaves Telegram members\' rows queued', async () => {
    api.sent.length = 0;
    const queued = await queueAnnouncement(app.domain, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Rapat diundur.', actor: 'test', now: new Date() });
    const nur = await app.db.member.findFirstOrThrow({ where: { memberNumber: '004', koperasi: { code: 'KPRI-SEJAHTERA' } } });
    const service = spawnKopbot(['start'], { ...base(), PORT: String(await freePort()) });
    try {
      await service.saysOnStderr('berjalan di port');
      // The dispatcher's first pass has run once Nur Hayati's row (no phone, no identity) is closed:
      // the Telegram rows were due in the same claim.
      const nurRow = () => app.db.outboxMessage.findFirstOrThrow({ where: { broadcastId: queued.broadcastId, memberId: nur.id }, select: { state: true } });
      await eventually(async () => (await nurRow()).state === 'skipped', 30_000, 'the dispatcher\'s first pass');
    } finally {
      service.child.kill('SIGTERM');
    }
    const exit = await service.exited;
    const rows = await telegramRows(queued.broadcastId);
    expect(rows.filter((r) => r.state !== 'queued' || r.attempts !== 0)).toEqual([]);
    expect(api.sent).toHaveLength(0);
    expect(exit.code).toBe(0);
  }, 60_000);
});
