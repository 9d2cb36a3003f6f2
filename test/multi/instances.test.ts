/**
 * Three `kopbot start` processes on one PostgreSQL database behave as one service: a broadcast
 * to 5,000 members and due RAT reminders go out over the local Bot API stand-in; the instance
 * that long-polls the bot is SIGKILLed mid-drain; every member still gets each message, twice
 * at most for the sends the dead instance had under way, and another instance takes polling
 * over and answers members.
 *
 * Real processes, the real PostgreSQL, the real Telegram sender (30 messages a second for the
 * bot, shared by the three through the database): about four minutes on this machine.
 *
 * WhatsApp cannot take part here: the socket stand-in lives in the test's own process, and the
 * service would otherwise dial WhatsApp's servers. Its takeover runs in-process with two lock
 * holders on one database in instance-lock.test.ts.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect, test } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { terminalMessage } from '../../src/channels/terminal/terminal-channel.ts';
import { queueBimtekInvitations } from '../../src/jobs/bimtek.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { queueRatReminders } from '../../src/jobs/run-due.ts';
import { queueAnnouncement } from '../../src/domain/announcements.ts';
import { spawnKopbot, unusedPort, type KopbotProcess } from '../helpers/cli.ts';
import { addTelegramMembers, FakeBotApi } from '../helpers/fake-bot-api.ts';
import { until } from '../helpers/until.ts';
import { createTestPostgres } from '../helpers/postgres.ts';

const MEMBERS = Number(process.env.MULTI_MEMBERS ?? 5_000);
/** Members of a second cooperative, whose RAT is two days away: its reminders are due now. */
const REMINDED = 150;
const FIRST_CHAT = 300_000;
const REMINDED_FIRST_CHAT = 400_000;
const ANNOUNCEMENT = 'Pengumuman uji tiga instans: kantor koperasi tutup hari Senin.';

/** Wait for a condition the processes bring about (looked at every 100 ms: it reads the database). */
const eventually = (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => until(check, timeoutMs, what, 100);

test('three instances on one PostgreSQL: a broadcast and reminders survive an instance killed mid-drain, sent once each', async () => {
  const postgres = await createTestPostgres();
  const api = await new FakeBotApi().start();
  const secret = randomBytes(24).toString('base64url');
  const processes: KopbotProcess[] = [];
  const sql = new pg.Client({ connectionString: postgres.url });
  try {
    // The data, as an operator would have it before starting the instances.
    const app = await createApp({ DATABASE_URL: postgres.url, LOG_LEVEL: 'silent', ACTIVATION_CODE_SECRET: secret });
    const now = new Date();
    await seedDemo(app.db, now);
    await addTelegramMembers(app.db, api, { koperasiCode: 'KPRI-SEJAHTERA', count: MEMBERS, firstChatId: FIRST_CHAT });
    const other = await app.db.koperasi.create({ data: { code: 'KSP-MAJU', name: 'KSP Maju Bersama', type: 'KSP' } });
    await app.db.meeting.create({
      data: { koperasiId: other.id, key: 'RAT:2026', kind: 'RAT', bookYear: 2026, startsAt: new Date(now.getTime() + 2 * 86_400_000), place: 'Balai Desa', agenda: 'Laporan pengurus' },
    });
    await addTelegramMembers(app.db, api, { koperasiCode: 'KSP-MAJU', count: REMINDED, firstChatId: REMINDED_FIRST_CHAT });
    const broadcast = await queueAnnouncement(app.domain, { koperasiCode: 'KPRI-SEJAHTERA', text: ANNOUNCEMENT, actor: 'test', now });
    const reminders = await queueRatReminders({ domain: app.domain, now });
    expect(reminders.queued).toBeGreaterThanOrEqual(REMINDED);
    await app.close();

    // Three instances. WhatsApp off (see above); quiet hours off, so the hour of the run does not matter.
    const env = {
      DATABASE_URL: postgres.url,
      ACTIVATION_CODE_SECRET: secret,
      TELEGRAM_BOT_TOKEN: api.token,
      TELEGRAM_API_ROOT: api.url,
      LOG_LEVEL: 'info',
      QUIET_HOURS: 'off',
      WHATSAPP_ENABLED: 'false',
    };
    for (let i = 0; i < 3; i++) processes.push(spawnKopbot(['start'], { ...env, PORT: String(await unusedPort()) }));
    await Promise.all(processes.map((p) => p.saysOnStderr('service started')));
    // The instances still alive that took the bot's poll lock (each says so in its log).
    const polling = () =>
      processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null && p.stderr().split('\n').some((line) => line.includes('instance lock taken') && line.includes('telegram-poll')));
    await eventually(() => polling().length === 1, 30_000, 'one instance to poll the bot');

    // Mid-drain, the instance polling the bot dies.
    const broadcastSent = () => api.sent.filter((m) => m.text.includes(ANNOUNCEMENT)).length;
    await eventually(() => broadcastSent() >= MEMBERS / 5, 120_000, 'a fifth of the announcements sent');
    await sql.connect();
    const victim = polling()[0]!;
    const claimedBy = async (pid: number) =>
      Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM "OutboxMessage" WHERE state = 'sending' AND "leaseOwner" LIKE $1`, [`%:${pid}:%`])).rows[0]!.n);
    // Mid-drain for it too: it has messages claimed and under way.
    await eventually(async () => (await claimedBy(victim.child.pid!)) > 0, 60_000, 'the instance to kill to have messages under way');
    victim.child.kill('SIGKILL');
    // What it had claimed and not finished: the only messages that may go out twice.
    const claimed = await sql.query<{ chat: string; purpose: string }>(
      `SELECT ci."externalId" AS chat, o.purpose FROM "OutboxMessage" o
       JOIN "ChannelIdentity" ci ON ci."memberId" = o."memberId" AND ci.channel = 'telegram'
       WHERE o.state = 'sending' AND o."leaseOwner" LIKE $1`,
      [`%:${victim.child.pid}:%`],
    );
    const inFlight = new Set(claimed.rows.map((r) => `${r.chat}:${r.purpose === 'rat_reminder' ? 'reminder' : 'announcement'}`));
    expect(inFlight.size).toBeGreaterThan(0);
    expect((await victim.exited).signal).toBe('SIGKILL');
    const atKill = api.sent.length;

    // Another instance takes polling over within a minute, and answers a member.
    await eventually(() => polling().length === 1, 60_000, 'another instance to poll the bot');
    const member = { id: FIRST_CHAT + 7, first_name: 'Anggota' };
    const before = api.messagesTo(member.id).length;
    api.sendText(member, 'bantuan');
    await eventually(() => api.messagesTo(member.id).length > before, 60_000, 'the member answered after the takeover');

    // The drain finishes on the survivors.
    const open = async () =>
      Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM "OutboxMessage" WHERE state IN ('queued', 'sending') AND "memberId" IN (SELECT "memberId" FROM "ChannelIdentity" WHERE channel = 'telegram' AND "memberId" IS NOT NULL)`)).rows[0]!.n);
    await eventually(async () => (await open()) === 0, 600_000, 'every Telegram message sent');

    const perChat = new Map<string, number>();
    for (const m of api.sent) {
      const kind = m.text.includes(ANNOUNCEMENT) ? 'announcement' : /RAT/.test(m.text) ? 'reminder' : 'other';
      const key = `${m.chat_id}:${kind}`;
      perChat.set(key, (perChat.get(key) ?? 0) + 1);
    }
    for (let i = 0; i < MEMBERS; i++) expect(perChat.get(`${FIRST_CHAT + i}:announcement`) ?? 0, `member ${i}`).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < REMINDED; i++) expect(perChat.get(`${REMINDED_FIRST_CHAT + i}:reminder`) ?? 0, `reminded member ${i}`).toBeGreaterThanOrEqual(1);
    const twice = [...perChat.entries()].filter(([key, n]) => !key.endsWith(':other') && n > 1);
    const duplicates = twice.reduce((sum, [, n]) => sum + n - 1, 0);
    if (process.env.SHOW_FIGURES) console.log({ atKill, inFlight: inFlight.size, duplicates, sent: api.sent.length });
    // Each message that arrived twice was one the dead instance had under way, and arrived twice only.
    expect(twice.filter(([key, n]) => !inFlight.has(key) || n > 2)).toEqual([]);
    expect(duplicates).toBeLessThanOrEqual(inFlight.size);
    const states = await sql.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM "OutboxMessage" WHERE "broadcastId" = $1 GROUP BY state`, [broadcast.broadcastId]);
    const counts = Object.fromEntries(states.rows.map((r) => [r.state, Number(r.n)]));
    expect(counts.sent).toBe(MEMBERS);
    expect(counts.sending ?? 0).toBe(0);
  } finally {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exited));
    await sql.end().catch(() => undefined);
    await api.close();
    await postgres.drop();
  }
}, 900_000);

test('twelve "bimtek ya" at once, spread over three instances on one PostgreSQL, for five seats give five seats', async () => {
  const postgres = await createTestPostgres();
  const secret = randomBytes(24).toString('base64url');
  const clock = () => new Date('2026-11-23T03:00:00Z');
  const apps: App[] = [];
  try {
    for (let i = 0; i < 3; i++) apps.push(await createApp({ DATABASE_URL: postgres.url, LOG_LEVEL: 'silent', ACTIVATION_CODE_SECRET: secret }, { clock }));
    const [first] = apps as [App];
    await seedDemo(first.db, clock());
    const kpri = await first.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    const phones = Array.from({ length: 12 }, (_, i) => `6281255501${String(i).padStart(2, '0')}`);
    await first.db.officer.createMany({ data: phones.map((phone, i) => ({ koperasiId: kpri.id, name: `Pengurus ${i}`, phone, role: 'PENGURUS' })) });
    for (const app of apps) app.officers.refresh();
    const event = await first.db.event.findFirstOrThrow({ where: { forMembers: false } });
    await first.db.event.update({ where: { id: event.id }, data: { capacity: 5 } });
    await queueBimtekInvitations({ domain: first.domain, now: clock() });

    const answers = await Promise.all(phones.map((phone, i) => apps[i % 3]!.engine.handle(terminalMessage(phone, 'bimtek ya'))));
    const texts = answers.map((a) => a.replies.map((r) => r.text).join('\n'));
    expect(texts.filter((x) => x.includes('terdaftar sebagai peserta'))).toHaveLength(5);
    expect(texts.filter((x) => x.includes('daftar tunggu nomor'))).toHaveLength(7);
    expect(await first.db.eventInvitation.count({ where: { eventId: event.id, status: 'accepted' } })).toBe(5);
  } finally {
    for (const app of apps) await app.close();
    await postgres.drop();
  }
}, 120_000);
