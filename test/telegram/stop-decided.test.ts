/**
 * Exactly the answer once across a stop: a turn the core has taken (the session saved, the
 * complaint filed) whose reply has not gone out when the stop's deadline cancels it is parked
 * with that reply, and the restarted service sends it instead of taking the turn again from
 * the state the first one left. Polling and webhook, on SQLite and PostgreSQL.
 */
import { rmSync } from 'node:fs';
import { expect, test } from 'vitest';
import { tempDir, TESTS_ON_POSTGRES } from '../helpers/app.ts';
import { addTelegramMembers, type FakeBotApi, type FakeUser } from '../helpers/fake-bot-api.ts';
import { ask, startTelegramService, type TelegramTestService } from './helpers.ts';

const COMPLAINT = 'Setoran simpanan wajib saya tanggal 3 belum tercatat, tolong dicek';

interface Conversation {
  first: TelegramTestService;
  api: FakeBotApi;
  member: FakeUser;
  /** The session and the member's complaints, as stored now. */
  state(t: TelegramTestService): Promise<{ version?: number; node?: string; data?: string; tickets: string[] }>;
  /** Another service on the same database and Bot API. */
  another(): Promise<TelegramTestService>;
  /** Another service, stopped once it has settled this update. */
  restart(updateId: number): Promise<TelegramTestService>;
}

/**
 * A member in the middle of a two-step conversation: the bot has asked for the complaint
 * (step one). Everything is stopped and removed afterwards.
 */
async function atSecondStep(webhook: boolean, chatId: number, run: (c: Conversation) => Promise<void>): Promise<void> {
  const dir = tempDir('kopbot-tg-stop-decided-');
  const options = { webhook, dir, telegram: { stopDeadlineMs: 300, webhookHoldMs: 200 } } as const;
  const first = await startTelegramService(options);
  const api = first.api;
  const member = { id: chatId, first_name: 'Anggota' };
  const started: TelegramTestService[] = [];
  try {
    const [memberId] = await addTelegramMembers(first.service.app.db, api, { koperasiCode: 'KPRI-SEJAHTERA', count: 1, firstChatId: chatId });
    expect((await ask(first, member, 'pengaduan')).map((m) => m.text).join('\n')).toContain('tulis pengaduan');
    const another = async () => {
      const next = await startTelegramService({ ...options, seed: false, apiUrl: api.url });
      started.push(next);
      return next;
    };
    await run({
      first,
      api,
      member,
      async state(t) {
        const db = t.service.app.db;
        const session = await db.conversationSession.findUnique({ where: { channel_chatId: { channel: 'telegram', chatId: String(chatId) } } });
        const complaints = await db.complaint.findMany({ where: { memberId: memberId! } });
        return { version: session?.version, node: session?.node, data: session?.data, tickets: complaints.map((c) => c.ticket) };
      },
      another,
      async restart(updateId) {
        const second = await another();
        await second.service.telegram!.whenSettled(updateId);
        // Polling: Telegram delivered again what it was not told of, and has been told now.
        if (!webhook) await api.waitUntil(() => api.pendingUpdates === 0, { what: 'every update confirmed' });
        await second.service.stop();
        return second;
      },
    });
  } finally {
    for (const t of started) await t.dispose();
    await first.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Step two: the member sends the complaint. The core files it and decides the reply; Telegram
 * then says to wait 30 s, so the reply is still waiting when the service stops. The update's id.
 */
async function complaintHeldAtStop(first: TelegramTestService, api: FakeBotApi, member: FakeUser): Promise<number> {
  api.failNextFor(member.id, 'sendMessage', { code: 429, description: 'Too Many Requests: retry after 30', retryAfter: 30 });
  api.sendText(member, COMPLAINT);
  const updateId = api.lastUpdateId;
  await api.waitUntil(() => api.calls.some((c) => c.method === 'sendMessage' && c.status === 429 && Number(c.body.chat_id) === member.id), { what: 'the reply refused with a 429' });
  await first.service.stop();
  return updateId;
}

test.each([{ mode: 'long polling', webhook: false }, { mode: 'webhook', webhook: true }])(
  'by $mode, a reply decided but not sent when the stop deadline hits is sent after the restart as decided, once, and the turn is not taken again',
  ({ webhook }) =>
    atSecondStep(webhook, 32_000, async ({ first, api, member, state, restart }) => {
      const updateId = await complaintHeldAtStop(first, api, member);
      expect(api.messagesTo(member.id)).toHaveLength(1);
      const decided = await state(first);
      expect(decided.tickets).toHaveLength(1);

      const second = await restart(updateId);
      // The original answer, once: the ticket the first turn filed.
      expect(api.messagesTo(member.id).slice(1).map((m) => m.text)).toEqual([expect.stringContaining(`nomor tiket ${decided.tickets[0]}`)]);
      // The turn was not taken again: no second complaint, the session as the first turn left it.
      expect(await state(second)).toEqual(decided);
      expect(second.logs.join('')).toContain('parked before the restart are answered now');
    }),
);

test('a reply whose request was on its way at the stop deadline, with no answer from Telegram yet, is sent again after the restart: the same answer, the only duplicate', () =>
  atSecondStep(false, 32_100, async ({ first, api, member, state, restart }) => {
    // Telegram has the reply's request and has not answered when the service stops.
    const onItsWay = api.holdNextFor(member.id, 'sendMessage');
    api.sendText(member, COMPLAINT);
    const updateId = api.lastUpdateId;
    await onItsWay.arrived;
    await first.service.stop();
    const decided = await state(first);
    // Telegram delivers it after all (its answer never reached the stopped service).
    onItsWay.release();
    await api.waitForMessages(member.id, 2);

    const second = await restart(updateId);
    const filed = expect.stringContaining(`nomor tiket ${decided.tickets[0]}`);
    expect(api.messagesTo(member.id).slice(1).map((m) => m.text)).toEqual([filed, filed]);
    expect(await state(second)).toEqual(decided);
  }));

test.runIf(TESTS_ON_POSTGRES)('an instance standing by for the poll lock stops without wiping what the polling one parked; the next to poll sends it, once', () =>
  atSecondStep(false, 32_200, async ({ first, api, member, state, another, restart }) => {
    const standby = await another();
    await api.waitUntil(() => standby.logs.some((line) => line.includes('held by another instance')), { what: 'the second instance standing by' });
    const updateId = await complaintHeldAtStop(first, api, member);
    const decided = await state(first);
    await standby.service.stop();

    const next = restart(updateId);
    await api.waitUntil(() => api.messagesTo(member.id).length >= 2, { what: 'the parked reply sent' });
    const third = await next;
    expect(api.messagesTo(member.id).slice(1).map((m) => m.text)).toEqual([expect.stringContaining(`nomor tiket ${decided.tickets[0]}`)]);
    expect(await state(third)).toEqual(decided);
  }));

test('a reply decided before a stop and still parked long after is not sent as it was: the member is asked to send again, and the turn is not taken again', () =>
  atSecondStep(false, 32_200, async ({ first, api, member, state, restart }) => {
    const updateId = await complaintHeldAtStop(first, api, member);
    const decided = await state(first);
    // The service stays down for half an hour: the decided reply is as old as that when it could go out.
    const db = first.service.app.db;
    const [row] = await db.telegramParkedUpdate.findMany({ where: { updateId } });
    const stored = JSON.parse(row!.decided!) as { at: number; replies: unknown[] };
    expect(stored.replies.length).toBeGreaterThan(0);
    await db.telegramParkedUpdate.update({ where: { bot_updateId: { bot: row!.bot, updateId } }, data: { decided: JSON.stringify({ ...stored, at: stored.at - 30 * 60_000 }) } });

    const second = await restart(updateId);
    expect(api.messagesTo(member.id).slice(1).map((m) => m.text)).toEqual([expect.stringContaining('Silakan kirim lagi pesan Anda')]);
    expect(await state(second)).toEqual(decided);
  }));
