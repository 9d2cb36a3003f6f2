/**
 * The outbox and the scheduled jobs on real SQLite and PostgreSQL, with a fake clock; Telegram delivery
 * through the real sender against the local Bot API server (flood limits and 429s included).
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import pino from 'pino';
import { TelegramSender } from '../../src/channels/telegram/telegram-sender.ts';
import { telegramOutbound } from '../../src/outbox/channels.ts';
import { endOfQuietHours, inQuietHours, OutboxDispatcher, type OutboundChannel, type SendOutcome } from '../../src/outbox/dispatcher.ts';
import { queueAnnouncement } from '../../src/domain/announcements.ts';
import type { OutboxStore } from '../../src/outbox/outbox-store.ts';
import { openOutboxStore } from '../../src/persistence/outbox-stores.ts';
import { queueGempurReminders, queueRatReminders } from '../../src/jobs/run-due.ts';
import { queueInstallmentReminders } from '../../src/jobs/installments.ts';
import { queueBimtekReminders } from '../../src/jobs/bimtek.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { FakeBotApi } from '../helpers/fake-bot-api.ts';

const quiet = pino({ level: 'silent' });

/** A channel that records what it was asked to send, like a phone would receive it. */
function recordingChannel(name: string, options: { target?: 'phone' | 'identity'; outcome?: (target: string) => SendOutcome; delayMs?: number } = {}) {
  const sent: { target: string; text: string }[] = [];
  const channel: OutboundChannel = {
    channel: name,
    reaches: options.target ?? 'identity',
    target: (r) => (options.target === 'phone' ? r.phone : (r.identities.find((i) => i.channel === name)?.externalId ?? null)),
    async send(target, text) {
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const outcome = options.outcome?.(target) ?? { ok: true };
      if (outcome.ok) sent.push({ target, text });
      return outcome;
    },
  };
  return { channel, sent };
}

describe.each([
  { name: 'SQLite', postgres: false },
  { name: 'PostgreSQL', postgres: true },
])('outbox on $name', ({ postgres }) => {
  let t: TestApp;
  let store: OutboxStore;
  const clock = { now: new Date('2026-11-23T03:00:00Z') };
  beforeEach(async () => {
    clock.now = new Date('2026-11-23T03:00:00Z'); // Monday 10.00 WIB
    t = await createTestApp(clock.now, { postgres });
    await seedDemo(t.db, clock.now);
    store = openOutboxStore(t.url);
  });
  afterEach(async () => {
    await store.close();
    await t.dispose();
  });

  const siti = () => t.db.member.findFirstOrThrow({ where: { memberNumber: '001', koperasi: { code: 'KPRI-SEJAHTERA' } } });
  const dispatcher = (channels: OutboundChannel[], extra: Partial<ConstructorParameters<typeof OutboxDispatcher>[0]> = {}) =>
    new OutboxDispatcher({ store, channels, logger: quiet, clock: () => clock.now, ...extra });

  test('a broadcast queues one row per active member in one go, is audited, and is delivered once', async () => {
    const queued = await queueAnnouncement({ ...t.domain, outbox: store }, { koperasiCode: 'kpri-sejahtera', text: 'Kantor tutup 25 Desember.', actor: 'cli', now: clock.now });
    const active = await t.db.member.count({ where: { koperasi: { code: 'KPRI-SEJAHTERA' }, status: 'AKTIF' } });
    expect(queued.recipients).toBe(active);
    const audit = await t.db.auditLog.findFirstOrThrow({ where: { action: 'broadcast.queue' } });
    expect(JSON.parse(audit.detail)).toMatchObject({ broadcastId: queued.broadcastId, recipients: active });

    const wa = recordingChannel('whatsapp', { target: 'phone' });
    const first = await dispatcher([wa.channel]).drain();
    // Nur Hayati has no phone: nobody can reach her, and the row says so.
    expect(first).toMatchObject({ sent: active - 1, skipped: 1 });
    expect(wa.sent.every((m) => m.text === 'Kantor tutup 25 Desember.')).toBe(true);
    expect(new Set(wa.sent.map((m) => m.target)).size).toBe(active - 1);
    const second = await dispatcher([wa.channel]).drain();
    expect(second.sent).toBe(0);
    const rows = await t.db.outboxMessage.findMany({ where: { broadcastId: queued.broadcastId } });
    expect(rows.filter((r) => r.state === 'sent').every((r) => r.sentAt !== null && r.channel === 'whatsapp')).toBe(true);
    expect(rows.find((r) => r.state === 'skipped')!.lastError).toBe('unreachable');
  });

  test('opted-out and former members are skipped; quiet hours hold messages until 06.00 local', async () => {
    const member = await siti();
    await t.db.member.update({ where: { id: member.id }, data: { optOutAnnouncements: true } });
    // 22.30 WIB: quiet.
    clock.now = new Date('2026-11-23T15:30:00Z');
    await queueAnnouncement({ ...t.domain, outbox: store }, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Info', actor: 'cli', now: clock.now });
    const wa = recordingChannel('whatsapp', { target: 'phone' });
    const night = await dispatcher([wa.channel]).drain();
    expect(wa.sent).toEqual([]);
    expect(night).toMatchObject({ skipped: 1, deferred: await t.db.outboxMessage.count({ where: { state: 'queued' } }) }); // Siti opted out
    const siti_ = await t.db.outboxMessage.findFirstOrThrow({ where: { memberId: member.id } });
    expect(siti_).toMatchObject({ state: 'skipped', lastError: 'opted_out' });
    const waiting = await t.db.outboxMessage.findMany({ where: { state: 'queued' } });
    expect(waiting.length).toBeGreaterThan(0);
    // They wait until 06.00 WIB (23.00 UTC), not counted as attempts.
    expect(waiting.every((r) => r.notBefore.toISOString() === '2026-11-23T23:00:00.000Z' && r.attempts === 0)).toBe(true);
    clock.now = new Date('2026-11-23T22:59:00Z');
    expect((await dispatcher([wa.channel]).drain()).sent).toBe(0);
    clock.now = new Date('2026-11-23T23:00:00Z');
    // In the morning: everyone but Nur Hayati, who has no phone (unreachable).
    expect(await dispatcher([wa.channel]).drain()).toMatchObject({ sent: waiting.length - 1, skipped: 1 });
    expect(wa.sent.map((m) => m.target)).not.toContain(member.phone);
  });

  test('quiet hours wrap midnight in the cooperative\'s own zone', () => {
    const quietHours = { from: 21, to: 6 };
    expect(inQuietHours(new Date('2026-11-23T13:59:00Z'), 'Asia/Jakarta', quietHours)).toBe(false); // 20.59 WIB
    expect(inQuietHours(new Date('2026-11-23T14:00:00Z'), 'Asia/Jakarta', quietHours)).toBe(true); // 21.00 WIB
    expect(inQuietHours(new Date('2026-11-23T22:59:00Z'), 'Asia/Jakarta', quietHours)).toBe(true); // 05.59 WIB
    expect(inQuietHours(new Date('2026-11-23T13:30:00Z'), 'Asia/Makassar', quietHours)).toBe(true); // 21.30 WITA
    expect(endOfQuietHours(new Date('2026-11-23T14:00:00Z'), 'Asia/Jakarta', quietHours).toISOString()).toBe('2026-11-23T23:00:00.000Z');
    expect(endOfQuietHours(new Date('2026-11-23T20:00:00Z'), 'Asia/Jakarta', quietHours).toISOString()).toBe('2026-11-23T23:00:00.000Z');
  });

  test('blocked on one channel, the member is tried on the other; transient errors are retried later, then given up', async () => {
    const member = await siti();
    await t.db.channelIdentity.create({ data: { channel: 'telegram', externalId: '501', memberId: member.id, verifiedBy: 'contact', phone: member.phone } });
    await store.queue([{ idempotencyKey: 'test:1', purpose: 'test', topic: 'announcements', koperasiId: member.koperasiId, memberId: member.id, text: 'Halo', notBefore: clock.now }], clock.now);
    const tg = recordingChannel('telegram', { outcome: () => ({ ok: false, permanent: true, reason: 'blocked' }) });
    const wa = recordingChannel('whatsapp', { target: 'phone' });
    expect((await dispatcher([wa.channel, tg.channel]).drain()).sent).toBe(1);
    expect(wa.sent).toEqual([{ target: member.phone, text: 'Halo' }]);
    expect(await t.db.outboxMessage.findFirstOrThrow({ where: { idempotencyKey: 'test:1' } })).toMatchObject({ state: 'sent', channel: 'whatsapp' });

    await store.queue([{ idempotencyKey: 'test:2', purpose: 'test', topic: 'announcements', koperasiId: member.koperasiId, memberId: member.id, text: 'Lagi', notBefore: clock.now }], clock.now);
    const flaky = recordingChannel('whatsapp', { target: 'phone', outcome: () => ({ ok: false, permanent: false, reason: 'timeout' }) });
    const d = dispatcher([flaky.channel], { maxAttempts: 3 });
    expect((await d.drain()).retrying).toBe(1);
    let row = await t.db.outboxMessage.findFirstOrThrow({ where: { idempotencyKey: 'test:2' } });
    expect(row).toMatchObject({ state: 'queued', attempts: 1, lastError: 'whatsapp:timeout' });
    expect(row.notBefore.getTime()).toBeGreaterThan(clock.now.getTime());
    for (let i = 0; i < 3; i++) {
      clock.now = new Date(clock.now.getTime() + 7 * 3_600_000);
      if (inQuietHours(clock.now, 'Asia/Jakarta', { from: 21, to: 6 })) clock.now = endOfQuietHours(clock.now, 'Asia/Jakarta', { from: 21, to: 6 });
      await d.drain();
    }
    row = await t.db.outboxMessage.findFirstOrThrow({ where: { idempotencyKey: 'test:2' } });
    expect(row.state).toBe('failed');
    expect(row.attempts).toBe(3);
    expect(row.lastError).toContain('gave up after 3 attempts');
  });

  test('queueing the same key twice queues it once', async () => {
    const message = { idempotencyKey: 'same', purpose: 'test', topic: 'reminders' as const, koperasiId: null, memberId: null, text: 'x', notBefore: clock.now };
    expect(await store.queue([message, message], clock.now)).toBe(1);
    expect(await store.queue([message], clock.now)).toBe(0);
  });

  test('two dispatchers on one database send each row once', async () => {
    for (let i = 0; i < 30; i++) await queueAnnouncement({ ...t.domain, outbox: store }, { koperasiCode: 'KPRI-SEJAHTERA', text: `Pengumuman ${i}`, actor: 'cli', now: clock.now });
    const other = openOutboxStore(t.url);
    try {
      const a = recordingChannel('whatsapp', { target: 'phone', delayMs: 1 });
      const b = recordingChannel('whatsapp', { target: 'phone', delayMs: 1 });
      const one = new OutboxDispatcher({ store, channels: [a.channel], logger: quiet, clock: () => clock.now, batch: 7 });
      const two = new OutboxDispatcher({ store: other, channels: [b.channel], logger: quiet, clock: () => clock.now, batch: 7 });
      await Promise.all([one.drain(), two.drain()]);
      const all = [...a.sent, ...b.sent].map((m) => `${m.target}|${m.text}`);
      expect(a.sent.length).toBeGreaterThan(0);
      expect(b.sent.length).toBeGreaterThan(0);
      expect(new Set(all).size).toBe(all.length);
      expect(await t.db.outboxMessage.count({ where: { state: 'sent' } })).toBe(all.length);
    } finally {
      await other.close();
    }
  });

  test('a lease that ran out makes the row claimable again; a live one does not', async () => {
    await store.queue([{ idempotencyKey: 'lease', purpose: 'test', topic: 'reminders', koperasiId: null, memberId: null, text: 'x', notBefore: clock.now }], clock.now);
    const until = new Date(clock.now.getTime() + 60_000);
    const any = { identityChannels: [], byPhone: true };
    expect(await store.claim('a', clock.now, until, 10, any)).toHaveLength(1);
    expect(await store.claim('b', new Date(clock.now.getTime() + 30_000), until, 10, any)).toHaveLength(0);
    expect(await store.claim('b', new Date(clock.now.getTime() + 61_000), new Date(clock.now.getTime() + 120_000), 10, any)).toHaveLength(1);
    // The first owner's late answer no longer counts.
    const [row] = await store.claim('c', new Date(clock.now.getTime() + 121_000), new Date(clock.now.getTime() + 200_000), 10, any);
    expect(await store.finish(row!.id, 'a', 'sent', { at: clock.now })).toBe(false);
    expect(await store.finish(row!.id, 'c', 'sent', { at: clock.now })).toBe(true);
  });

  test('Telegram deliveries keep to its limits and wait out a 429\'s retry_after', async () => {
    const api = await new FakeBotApi().start();
    try {
      const members = await t.db.member.findMany({ where: { koperasi: { code: 'KPRI-SEJAHTERA' }, status: 'AKTIF' } });
      for (const [i, m] of members.entries()) {
        const chatId = 9000 + i;
        api.addChat(chatId);
        // Verified by a shared contact (the phone on file), or by an activation code when there is none.
        await t.db.channelIdentity.create({
          data: { channel: 'telegram', externalId: String(chatId), memberId: m.id, verifiedBy: m.phone ? 'contact' : 'code', phone: m.phone },
        });
      }
      api.failNext('sendMessage', { code: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
      const { Telegram } = await import('telegraf');
      const telegram = new Telegram(api.token, { apiRoot: api.url });
      const sender = new TelegramSender((method, payload) => telegram.callApi(method as never, payload as never), quiet);
      await queueAnnouncement({ ...t.domain, outbox: store }, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Rapat *pengurus* & anggota <penting>', actor: 'cli', now: clock.now });
      const started = Date.now();
      const summary = await dispatcher([telegramOutbound(sender)]).drain();
      expect(summary.sent).toBe(members.length);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000); // the retry_after was waited out
      expect(api.sent).toHaveLength(members.length); // and the refused send was not counted twice
      expect(api.sent[0]!.text).toBe('Rapat pengurus & anggota <penting>');
      expect(api.floodRefusals).toBe(0);
    } finally {
      await api.close();
    }
  });

  describe('RAT reminders', () => {
    /** The demo RAT moved to Saturday 9 January 2027, 09.00 WIB. */
    const RAT = new Date('2027-01-09T02:00:00Z');
    beforeEach(async () => {
      await t.db.meeting.updateMany({ where: { kind: 'RAT', koperasi: { code: 'KPRI-SEJAHTERA' } }, data: { startsAt: RAT, heldAt: null } });
      await t.db.meeting.deleteMany({ where: { kind: 'RAT', NOT: { koperasi: { code: 'KPRI-SEJAHTERA' } } } });
    });
    const run = (iso: string) => queueRatReminders({ domain: { ...t.domain, outbox: store }, now: new Date(iso) });
    const active = () => t.db.member.count({ where: { koperasi: { code: 'KPRI-SEJAHTERA' }, status: 'AKTIF' } });

    test('each fires once at 08.00 local on its day: 14, 3 and 1 days before', async () => {
      const everyone = (await active()) + 1; // the members and the one board member of the demo
      expect((await run('2026-12-26T00:59:00Z')).queued).toBe(0); // 26 Dec 07.59 WIB
      expect((await run('2026-12-26T01:00:00Z')).queued).toBe(everyone); // 08.00 WIB, 14 days before
      expect((await run('2026-12-26T05:00:00Z')).queued).toBe(0); // again the same day: nothing new
      expect((await run('2027-01-05T23:00:00Z')).queued).toBe(0); // 6 Jan 06.00 WIB: not yet
      expect((await run('2027-01-06T01:00:00Z')).queued).toBe(everyone); // 3 days before
      expect((await run('2027-01-08T01:00:00Z')).queued).toBe(everyone); // 1 day before
      expect((await run('2027-01-09T03:00:00Z')).queued).toBe(0); // after it began
      // The board got each one too, with the tally against the quorum.
      const board = await t.db.outboxMessage.findMany({ where: { purpose: 'rat_board_reminder' } });
      expect(board).toHaveLength(3);
      expect(board[0]!.officerId).not.toBeNull();
      expect(board[0]!.text).toContain('Konfirmasi hadir sejauh ini: 0 dari');
      const texts = await t.db.outboxMessage.findMany({ where: { purpose: 'rat_reminder' }, select: { text: true }, distinct: ['text'], orderBy: { id: 'asc' } });
      expect(texts.map((r) => r.text)).toEqual([
        expect.stringContaining('14 hari lagi, Sabtu, 9 Januari 2027, 09.00 WIB'),
        expect.stringContaining('3 hari lagi'),
        expect.stringContaining('besok'),
      ]);
    });

    test('a RAT set less than 14 days ahead is announced with the real distance, not "14 hari lagi"', async () => {
      // Set on Monday 4 January, five days ahead: the 14-day reminder is due at once.
      expect((await run('2027-01-04T01:00:00Z')).queued).toBe((await active()) + 1);
      const [member, board] = await Promise.all(
        ['rat_reminder', 'rat_board_reminder'].map((purpose) => t.db.outboxMessage.findFirstOrThrow({ where: { purpose }, orderBy: { id: 'desc' } })),
      );
      expect(member!.idempotencyKey).toContain(':d14:');
      expect(member!.text).toContain('*Rapat Anggota Tahunan* 5 hari lagi, Sabtu, 9 Januari 2027, 09.00 WIB');
      expect(board!.text).toContain('*RAT* 5 hari lagi');
      expect([member!.text, board!.text].join()).not.toContain('14 hari lagi');
      // Moved to this very afternoon: the 1-day reminder for the new date says "hari ini", not "besok".
      await t.db.meeting.updateMany({ where: { kind: 'RAT' }, data: { startsAt: new Date('2027-01-06T08:00:00Z') } });
      expect((await run('2027-01-06T03:00:00Z')).queued).toBe((await active()) + 1);
      const today = await t.db.outboxMessage.findFirstOrThrow({ where: { purpose: 'rat_reminder' }, orderBy: { id: 'desc' } });
      expect(today.text).toContain('*Rapat Anggota Tahunan* hari ini, Rabu, 6 Januari 2027, 15.00 WIB');
    });

    test('a reminder missed while the service was down is sent once when it comes back; one it superseded is not', async () => {
      // Down from 20 December to 7 January: the 14- and 3-day reminders both fell due meanwhile.
      expect((await run('2027-01-07T02:00:00Z')).queued).toBe((await active()) + 1);
      expect((await run('2027-01-07T02:05:00Z')).queued).toBe(0);
      const keys = (await t.db.outboxMessage.findMany({ where: { purpose: { in: ['rat_reminder', 'rat_board_reminder'] } } })).map((r) => r.idempotencyKey);
      expect(keys.every((k) => k?.includes(':d3:'))).toBe(true);
      expect(await t.db.jobRun.count()).toBe(1);
    });

    test('moving the RAT date sends the reminder for the new date; opted-out members get none', async () => {
      const member = await siti();
      await t.db.member.update({ where: { id: member.id }, data: { optOutReminders: true } });
      await run('2027-01-06T01:00:00Z');
      await t.db.meeting.updateMany({ where: { kind: 'RAT' }, data: { startsAt: new Date('2027-01-16T02:00:00Z') } });
      // Ten days before the new date, the 14-day reminder for it is due (late): members learn the new date now.
      expect((await run('2027-01-06T02:00:00Z')).queued).toBe((await active()) + 1);
      const moved = await t.db.outboxMessage.findFirstOrThrow({ where: { purpose: 'rat_reminder' }, orderBy: { id: 'desc' } });
      expect(moved.text).toContain('10 hari lagi, Sabtu, 16 Januari 2027');
      expect((await run('2027-01-06T02:05:00Z')).queued).toBe(0);
      expect((await run('2027-01-13T01:00:00Z')).queued).toBe((await active()) + 1);
      clock.now = new Date('2027-01-13T01:00:00Z');
      const wa = recordingChannel('whatsapp', { target: 'phone' });
      await dispatcher([wa.channel]).drain();
      expect(wa.sent.map((m) => m.target)).not.toContain(member.phone);
      expect(wa.sent.some((m) => m.text.includes('16 Januari 2027'))).toBe(true);
    });
  });

  test('installment reminders go to members who asked: 3 days before, on the day, 7 days late, once each, at 08.00', async () => {
    const member = await siti();
    const loan = await t.db.loan.findFirstOrThrow({ where: { memberId: member.id } });
    await t.db.loan.update({ where: { id: loan.id }, data: { nextDueOn: '2026-12-10' } });
    const run = (iso: string) => queueInstallmentReminders({ domain: { ...t.domain, outbox: store }, now: new Date(iso) });
    expect((await run('2026-12-07T01:00:00Z')).queued).toBe(0); // not asked for yet
    expect(await t.say(member.phone!, 'ingatkan angsuran')).toContain('kami akan mengingatkan angsuran');
    expect((await run('2026-12-07T00:59:00Z')).queued).toBe(0);
    expect((await run('2026-12-07T01:00:00Z')).queued).toBe(1);
    expect((await run('2026-12-07T09:00:00Z')).queued).toBe(0);
    expect((await run('2026-12-10T01:00:00Z')).queued).toBe(1);
    expect((await run('2026-12-17T01:00:00Z')).queued).toBe(1);
    expect((await run('2026-12-19T01:00:00Z')).queued).toBe(0); // past the last one: the next import brings the next date
    const texts = (await t.db.outboxMessage.findMany({ where: { purpose: 'installment_reminder' }, orderBy: { id: 'asc' } })).map((r) => r.text);
    expect(texts[0]).toContain('jatuh tempo 3 hari lagi, Kamis, 10 Desember 2026');
    expect(texts[1]).toContain('jatuh tempo *hari ini*');
    expect(texts[2]).toContain('belum tercatat lunas');
    expect(texts.every((x) => x!.includes(`*Rp${Number(loan.installment).toLocaleString('id-ID')}*`))).toBe(true);
    // A due date imported two days ahead: the "3 days before" reminder goes at once, saying two.
    await t.db.loan.update({ where: { id: loan.id }, data: { nextDueOn: '2026-12-21' } });
    expect((await run('2026-12-19T01:00:00Z')).queued).toBe(1);
    const late = await t.db.outboxMessage.findFirstOrThrow({ where: { purpose: 'installment_reminder' }, orderBy: { id: 'desc' } });
    expect(late.text).toContain('jatuh tempo 2 hari lagi, Senin, 21 Desember 2026');
    expect(await t.say(member.phone!, 'stop pengingat angsuran')).toContain('pengingat angsuran dihentikan');
    await t.db.loan.update({ where: { id: loan.id }, data: { nextDueOn: '2027-01-10' } });
    expect((await run('2027-01-07T01:00:00Z')).queued).toBe(0);
  });

  test('a bimtek reminder says "besok" the day before, and "hari ini" for one set for today', async () => {
    const officer = await t.db.officer.findFirstOrThrow({ where: { role: 'PENGURUS' } });
    const event = (startsAt: Date, title: string) =>
      t.db.event.create({ data: { title, topic: 'pelatihan', startsAt, place: 'Aula Dinas', capacity: 10, organiser: 'dinas' } }).then(async (e) => {
        await t.db.eventInvitation.create({ data: { eventId: e.id, officerId: officer.id, status: 'accepted' } });
        return e;
      });
    await event(new Date('2026-11-25T02:00:00Z'), 'Bimtek RAT'); // Wednesday 09.00 WIB
    await event(new Date('2026-11-24T07:00:00Z'), 'Bimtek mendadak'); // Tuesday 14.00 WIB, set on the morning itself
    const run = (iso: string) => queueBimtekReminders({ domain: { ...t.domain, outbox: store }, now: new Date(iso) });
    expect((await run('2026-11-24T03:00:00Z')).queued).toBe(2); // Tuesday 10.00 WIB
    const texts = (await t.db.outboxMessage.findMany({ where: { purpose: 'bimtek_reminder' }, orderBy: { id: 'asc' } })).map((r) => r.text);
    expect(texts).toEqual([
      'Pengingat: besok *Bimtek RAT*, Rabu, 25 November 2026, 09.00 WIB, di Aula Dinas. Sampai jumpa!',
      'Pengingat: hari ini *Bimtek mendadak*, Selasa, 24 November 2026, 14.00 WIB, di Aula Dinas. Sampai jumpa!',
    ]);
  });

  test('Gempur Koperasi reminds the boards of cooperatives without a RAT for the last book year, more often toward 31 March', async () => {
    const run = (iso: string) => queueGempurReminders({ domain: { ...t.domain, outbox: store }, now: new Date(iso) });
    expect((await run('2027-01-02T00:59:00Z')).queued).toBe(0);
    expect((await run('2027-01-02T01:00:00Z')).queued).toBe(1); // KPRI Sejahtera's one board member
    expect((await run('2027-01-20T01:00:00Z')).queued).toBe(0);
    // Down for all of March: only the latest stage goes out.
    expect((await run('2027-03-27T03:00:00Z')).queued).toBe(1);
    const texts = (await t.db.outboxMessage.findMany({ where: { purpose: 'gempur_reminder' }, orderBy: { id: 'asc' } })).map((r) => r.text);
    expect(texts[0]).toContain('belum tercatat melaksanakan RAT tahun buku 2026');
    expect(texts[1]).toContain('tinggal beberapa hari lagi (31 Maret 2027)');
    // Once the RAT is recorded as held, the reminders stop.
    const kpri = await t.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    await t.db.ratHeld.create({ data: { koperasiId: kpri.id, bookYear: 2026, heldOn: '2027-03-28' } });
    expect((await run('2027-04-01T01:00:00Z')).queued).toBe(0);
    await t.db.ratHeld.deleteMany();
    expect((await run('2027-07-01T01:00:00Z')).queued).toBe(0); // past the legal limit: the field officers take over
  });

  test('a result that cannot be written at once (database busy) is written later; the message is not sent again', async () => {
    await queueAnnouncement({ ...t.domain, outbox: store }, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Sekali saja', actor: 'cli', now: clock.now });
    const wa = recordingChannel('whatsapp', { target: 'phone' });
    const finish = store.finish.bind(store);
    let failures = 2;
    store.finish = (...args: Parameters<OutboxStore['finish']>) => {
      if (args[2] === 'sent' && failures-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      return finish(...args);
    };
    const first = await dispatcher([wa.channel]).drain();
    store.finish = finish;
    const second = await dispatcher([wa.channel]).drain();
    expect(first.sent).toBe(wa.sent.length);
    expect(second.sent).toBe(0);
    expect(new Set(wa.sent.map((m) => m.target)).size).toBe(wa.sent.length);
    expect(await t.db.outboxMessage.count({ where: { state: 'sent' } })).toBe(wa.sent.length);
  });

  test('a channel that is reconnecting costs no attempt: the other channel is used, or the row waits', async () => {
    const member = await siti();
    await t.db.channelIdentity.create({ data: { channel: 'telegram', externalId: '501', memberId: member.id, verifiedBy: 'contact', phone: member.phone } });
    const down: OutboundChannel = { channel: 'whatsapp', reaches: 'phone', target: (r) => r.phone, send: async () => ({ ok: false, permanent: false, reason: 'not_connected', unavailable: true }) };
    const tg = recordingChannel('telegram');
    const queue = (key: string) =>
      store.queue([{ idempotencyKey: key, purpose: 'test', topic: 'announcements', koperasiId: member.koperasiId, memberId: member.id, text: key, notBefore: clock.now }], clock.now);
    await queue('via-telegram');
    await t.db.channelIdentity.updateMany({ data: { updatedAt: new Date('2020-01-01T00:00:00Z') } }); // WhatsApp is tried first
    expect((await dispatcher([down, tg.channel]).drain()).sent).toBe(1);
    expect(tg.sent.map((m) => m.text)).toEqual(['via-telegram']);
    await queue('waits');
    expect((await dispatcher([down]).drain()).deferred).toBe(1);
    expect(await t.db.outboxMessage.findFirstOrThrow({ where: { idempotencyKey: 'waits' } })).toMatchObject({ state: 'queued', attempts: 0 });
  });

  test('outbox drain leaves to the service (WhatsApp) a member its own channels refuse', async () => {
    const member = await siti();
    await t.db.channelIdentity.create({ data: { channel: 'telegram', externalId: '501', memberId: member.id, verifiedBy: 'contact', phone: member.phone } });
    await store.queue([{ idempotencyKey: 'blocked', purpose: 'test', topic: 'announcements', koperasiId: member.koperasiId, memberId: member.id, text: 'x', notBefore: clock.now }], clock.now);
    const blocked = recordingChannel('telegram', { outcome: () => ({ ok: false, permanent: true, reason: 'blocked' }) });
    expect((await dispatcher([blocked.channel], { elsewhere: ['whatsapp'] }).drain()).deferred).toBe(1);
    const row = await t.db.outboxMessage.findFirstOrThrow({ where: { idempotencyKey: 'blocked' } });
    expect(row).toMatchObject({ state: 'queued', attempts: 0 });
    expect(row.lastError).toContain('telegram:blocked');
  });

  test('a process without a member\'s channel leaves the row queued, untouched; unreachable means no identity and no phone', async () => {
    const member = await siti();
    const ahmad = await t.db.member.findFirstOrThrow({ where: { memberNumber: '002', koperasi: { code: 'KPRI-SEJAHTERA' } } });
    const nur = await t.db.member.findFirstOrThrow({ where: { memberNumber: '004', koperasi: { code: 'KPRI-SEJAHTERA' } } });
    // Siti reaches the bot on Telegram only (linked with a code, no phone on file); Nur Hayati has neither.
    await t.db.member.update({ where: { id: member.id }, data: { phone: null } });
    await t.db.channelIdentity.create({ data: { channel: 'telegram', externalId: '501', memberId: member.id, verifiedBy: 'code' } });
    const queued = await queueAnnouncement({ ...t.domain, outbox: store }, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Info', actor: 'cli', now: clock.now });
    const state = async (memberId: number) => t.db.outboxMessage.findFirstOrThrow({ where: { broadcastId: queued.broadcastId, memberId } });

    // No channel at all (a `kopbot start` with nothing configured): only rows no channel could ever take are closed.
    const none = dispatcher([]);
    expect(none.reach).toEqual({ identityChannels: [], byPhone: false });
    expect(await none.drain()).toMatchObject({ sent: 0, failed: 0, skipped: 1 });
    expect(await t.db.outboxMessage.count({ where: { broadcastId: queued.broadcastId, state: 'queued', attempts: 0 } })).toBe(queued.recipients - 1);
    expect(await state(nur.id)).toMatchObject({ state: 'skipped', lastError: 'unreachable' });

    // WhatsApp only: the members with a phone get it; Siti's Telegram row waits, never claimed.
    const wa = recordingChannel('whatsapp', { target: 'phone' });
    expect(await dispatcher([wa.channel]).drain()).toMatchObject({ sent: queued.recipients - 2, skipped: 0, deferred: 0 });
    expect(wa.sent.map((m) => m.target)).toContain(ahmad.phone);
    expect(await state(member.id)).toMatchObject({ state: 'queued', attempts: 0, lastError: null });
    expect(await store.waitingFor(clock.now, dispatcher([wa.channel]).reach)).toEqual([{ channel: 'telegram', count: 1 }]);

    // With Telegram, it goes out.
    const tg = recordingChannel('telegram');
    expect(await dispatcher([tg.channel]).drain()).toMatchObject({ sent: 1 });
    expect(tg.sent).toEqual([{ target: '501', text: 'Info' }]);
    expect(await state(member.id)).toMatchObject({ state: 'sent', channel: 'telegram' });
  });

  test('an identity whose phone is no longer the member\'s on file is not a route', async () => {
    const member = await siti();
    await t.db.channelIdentity.create({ data: { channel: 'telegram', externalId: '501', memberId: member.id, verifiedBy: 'contact', phone: '6281299999999' } });
    expect((await store.recipient(member.id))!.identities).toEqual([]);
  });
});
