/**
 * One send budget per bot across processes: the service and two `kopbot outbox drain` send
 * as the same bot against the local Bot API (30 messages a second, 429 beyond). Together they
 * keep Telegram's limit, and members' replies go ahead of the broadcast.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { createApp } from '../../src/app.ts';
import { Telegram } from 'telegraf';
import { TelegramSender } from '../../src/channels/telegram/telegram-sender.ts';
import { openDatabase } from '../../src/persistence/database.ts';
import { openTelegramStore, type SendBudget } from '../../src/persistence/telegram-store.ts';
import { createTestPostgres } from '../helpers/postgres.ts';
import { createLogger } from '../../src/logger.ts';
import { FakeBotApi } from '../helpers/fake-bot-api.ts';
import { queueAnnouncement } from '../../src/domain/announcements.ts';
import { tempDir } from '../helpers/app.ts';
import { addTelegramMembers } from '../helpers/fake-bot-api.ts';
import { startTelegramService, useKopbotProcesses } from './helpers.ts';

const kopbot = useKopbotProcesses('kopbot-tg-budget-');

const MEMBERS = 300;
const ASKING = 60;

test('the service and two outbox drains share one budget: no 429 storm, and every member reply goes ahead of the broadcast', async () => {
  const api = kopbot.api;
  await kopbot.seedMembers(MEMBERS, 40_000, async (app) => {
    await queueAnnouncement(app.domain, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Pengumuman: setoran simpanan wajib bulan ini', actor: 'test', now: new Date() });
  });
  const service = await kopbot.start();
  kopbot.spawn(['outbox', 'drain']);
  kopbot.spawn(['outbox', 'drain']);
  // The broadcast is under way in all three processes.
  const broadcast = () => api.sent.filter((m) => m.text.startsWith('Pengumuman')).length;
  await api.waitUntil(() => broadcast() >= 40, { what: 'the broadcast under way' });

  // Members write in the middle of it (chats that got the broadcast too).
  const asked = new Map<number, number>();
  for (let i = 0; i < ASKING; i++) {
    const chatId = 40_000 + MEMBERS - 1 - i;
    asked.set(chatId, Date.now());
    api.sendText({ id: chatId, first_name: `Anggota ${i}` }, 'ok');
  }
  const replyTo = (chatId: number) => api.messagesTo(chatId).find((m) => !m.text.startsWith('Pengumuman'));
  await api.waitUntil(() => [...asked.keys()].every((chatId) => replyTo(chatId) !== undefined), { timeoutMs: 20_000, what: 'every member answered' });
  const waits = [...asked].map(([chatId, at]) => replyTo(chatId)!.at - at).sort((a, b) => a - b);
  const p99 = waits[Math.ceil(waits.length * 0.99) - 1]!;
  const sentMeanwhile = broadcast();

  // Together within Telegram's limit: at most a stray 429 from arrival jitter, not thousands.
  expect(api.floodRefusals).toBeLessThanOrEqual(3);
  // 60 replies need two seconds of the whole budget; ahead of the broadcast they take about that.
  expect(p99).toBeLessThan(4_000);
  const health = (await (await fetch(`http://127.0.0.1:${/port (\d+)/.exec(service.stderr())![1]}/health`)).json()) as { telegram?: { repliesLost: number } };
  expect(health.telegram).toEqual({ repliesLost: 0 });
  if (process.env.SHOW_FIGURES) console.log({ p50: waits[Math.floor(waits.length / 2)], p99, floodRefusals: api.floodRefusals, sentMeanwhile });
}, 60_000);

test('a reply waits out 429s for up to 60 s instead of giving up after ten; beyond that it is lost, logged and counted in /health', async () => {
  // The sender's clock: each wait moves it on at once, so a minute of 429s takes no real minute.
  let clock = Date.now();
  const t = await startTelegramService({ telegram: { sender: { now: () => clock, sleep: async (ms) => void (clock += ms) } } });
  try {
    await addTelegramMembers(t.service.app.db, t.api, { koperasiCode: 'KPRI-SEJAHTERA', count: 1, firstChatId: 30_000 });
    const member = { id: 30_000, first_name: 'Anggota' };
    const refusedFor = () => t.api.calls.filter((c) => c.method === 'sendMessage' && c.status === 429 && Number(c.body.chat_id) === member.id).length;

    // Twelve 429s of 4 s each: 48 s of waiting, within the minute; the reply arrives, once.
    t.api.failNextFor(member.id, 'sendMessage', { code: 429, description: 'Too Many Requests: retry after 4', retryAfter: 4 }, 12);
    const started = clock;
    t.api.sendText(member, 'ok');
    await t.api.waitForMessages(member.id, 1);
    expect(refusedFor()).toBe(12);
    expect(clock - started).toBeGreaterThanOrEqual(48_000);
    expect(t.api.messagesTo(member.id)).toHaveLength(1);

    // Telegram says 30 s, then 30 s again: past the minute, the reply is given up as lost.
    t.api.failNextFor(member.id, 'sendMessage', { code: 429, description: 'Too Many Requests: retry after 30', retryAfter: 30 }, 5);
    t.api.sendText(member, 'ok');
    await t.api.waitUntil(() => t.logs.some((line) => line.includes('reply lost')), { what: 'the reply given up' });
    expect(refusedFor()).toBe(14);
    expect(t.api.messagesTo(member.id)).toHaveLength(1);
    const health = (await (await fetch(`http://127.0.0.1:${t.service.port}/health`)).json()) as { telegram?: { repliesLost: number } };
    expect(health.telegram).toEqual({ repliesLost: 1 });
  } finally {
    await t.dispose();
  }
});

/** A migrated database of each store, its URL, and how to remove it. */
const BUDGET_STORES = [
  {
    name: 'SQLite',
    async open() {
      const dir = tempDir('kopbot-tg-budget-row-');
      const url = `file:${join(dir, 'kopbot.db')}`;
      const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent' });
      return { url, dispose: async () => { await app.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const pg = await createTestPostgres();
      const db = await openDatabase(pg.url);
      return { url: pg.url, dispose: async () => { await db.$disconnect(); await pg.drop(); } };
    },
  },
] as const;

describe.each(BUDGET_STORES)('on $name', (kind) => {
  test('the budget row: 30 a window for all processes together, a reserve for replies while members write, none held back once they are quiet', async () => {
    const database = await kind.open();
    const stores = [openTelegramStore(database.url), openTelegramStore(database.url)]; // two processes' connections
    try {
      const [service, drain] = stores.map((store) => store.budget('7000001', { window: { count: 30, ms: 1_000 }, replyReserve: 5 })) as [SendBudget, SendBudget];
      // Epoch milliseconds, as the sender passes them (beyond a 32-bit column).
      const t0 = Date.parse('2026-12-01T03:00:00Z');
      // Nobody has written lately: a broadcast from the drain may use the whole window.
      for (let i = 0; i < 30; i++) expect(await drain.take('outbox', t0)).toBe(0);
      // Then the window is full for everyone, the service's reply included.
      expect(await service.take('reply', t0 + 10)).toBeGreaterThan(0);
      // While that reply waits, the drain holds back even once the window has room again.
      expect(await drain.take('outbox', t0 + 1_101)).toBeGreaterThan(0);
      expect(await service.take('reply', t0 + 1_101)).toBe(0);
      // Members are writing now: outbox sends leave 5 slots of every window to replies.
      const t1 = t0 + 1_500;
      for (let i = 0; i < 24; i++) expect(await drain.take('outbox', t1)).toBe(0);
      expect(await drain.take('outbox', t1)).toBeGreaterThan(0);
      for (let i = 0; i < 5; i++) expect(await service.take('reply', t1)).toBe(0);
      expect(await service.take('reply', t1)).toBeGreaterThan(0);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await database.dispose();
    }
  });

  test('takes from many processes at once never give one window more than 30 slots', async () => {
    const database = await kind.open();
    const stores = Array.from({ length: 4 }, () => openTelegramStore(database.url));
    try {
      const t0 = Date.parse('2026-12-01T03:00:00Z');
      const budgets = stores.map((store) => store.budget('7000002', { window: { count: 30, ms: 1_000 } }));
      const answers = await Promise.all(budgets.flatMap((budget) => Array.from({ length: 20 }, () => Promise.resolve(budget.take('outbox', t0)))));
      expect(answers.filter((wait) => wait === 0)).toHaveLength(30);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await database.dispose();
    }
  });

  test('the poll state comes back after a restart; answered ids only while fresh, parked updates and their decided replies however old', async () => {
    const database = await kind.open();
    const store = openTelegramStore(database.url);
    try {
      const saved = new Date('2026-12-01T03:00:00Z');
      const decided = [{ update_id: 13, replies: [{ text: 'Pengaduan Anda sudah kami terima.', parse_mode: 'HTML' }], at: Date.parse('2026-12-01T02:59:00Z') }];
      const a = { owner: 'host-a:3000' };
      await store.savePollState('7000003', { answeredAhead: [11, 12], parked: [{ update_id: 13 }, { update_id: 14 }], decided }, a, saved);
      expect(await store.pollState('7000003', { ...a, all: false }, new Date(saved.getTime() + 60_000))).toEqual({ answeredAhead: [11, 12], parked: [{ update_id: 13 }, { update_id: 14 }], decided });
      expect(await store.pollState('7000003', { ...a, all: false }, new Date(saved.getTime() + 25 * 3_600_000))).toEqual({ answeredAhead: [], parked: [{ update_id: 13 }, { update_id: 14 }], decided });
      // 14 answered: the next save leaves 13 alone.
      await store.savePollState('7000003', { answeredAhead: [], parked: [{ update_id: 13 }], decided }, a, saved);
      expect((await store.pollState('7000003', { ...a, all: true }, saved)).parked).toEqual([{ update_id: 13 }]);
    } finally {
      await store.close();
      await database.dispose();
    }
  });

  test('instances behind a webhook park side by side: none writes over another\'s, and each parked update is taken on by one', async () => {
    const database = await kind.open();
    const [a, b, c] = [openTelegramStore(database.url), openTelegramStore(database.url), openTelegramStore(database.url)];
    try {
      const at = new Date('2026-12-01T03:00:00Z');
      const soon = new Date(at.getTime() + 60_000);
      const replies = [{ text: 'Terima kasih.' }];
      const decidedAt = at.getTime() - 1_000;
      await a.savePollState('7000004', { answeredAhead: [], parked: [{ update_id: 21 }, { update_id: 22 }], decided: [{ update_id: 22, replies, at: decidedAt }] }, { owner: 'a' }, at);
      await b.savePollState('7000004', { answeredAhead: [], parked: [{ update_id: 31 }], decided: [] }, { owner: 'b' }, at);
      // B answered its 31 and has nothing parked now: A's rows stay.
      await b.savePollState('7000004', { answeredAhead: [], parked: [], decided: [] }, { owner: 'b' }, at);
      // A third instance starting a minute later takes on nothing: A is alive and answers its own.
      expect((await c.pollState('7000004', { owner: 'c', all: false }, soon)).parked).toEqual([]);
      // A restarted (the same host and port) takes its own back, decided replies included.
      expect(await a.pollState('7000004', { owner: 'a', all: false }, soon)).toEqual({ answeredAhead: [], parked: [{ update_id: 21 }, { update_id: 22 }], decided: [{ update_id: 22, replies, at: decidedAt }] });
      // A stops with 22 still parked: left for whoever starts next, and taken on by one of two starting at once.
      await a.savePollState('7000004', { answeredAhead: [], parked: [{ update_id: 22 }], decided: [{ update_id: 22, replies, at: decidedAt }] }, { owner: 'a', release: true }, soon);
      const [byB, byC] = await Promise.all([b.pollState('7000004', { owner: 'b', all: false }, soon), c.pollState('7000004', { owner: 'c', all: false }, soon)]);
      expect([...byB.parked, ...byC.parked]).toEqual([{ update_id: 22 }]);
      expect([...byB.decided, ...byC.decided]).toEqual([{ update_id: 22, replies, at: decidedAt }]);
      // An instance that died with updates parked: after five minutes, the next to start takes them on.
      await b.savePollState('7000004', { answeredAhead: [], parked: [{ update_id: 41 }], decided: [] }, { owner: 'b-died' }, soon);
      expect((await c.pollState('7000004', { owner: 'c', all: false }, new Date(soon.getTime() + 4 * 60_000))).parked).not.toContainEqual({ update_id: 41 });
      expect((await c.pollState('7000004', { owner: 'c', all: false }, new Date(soon.getTime() + 6 * 60_000))).parked).toContainEqual({ update_id: 41 });
      // Taken on, the row is renewed: a fourth instance claiming a minute later leaves it to C.
      expect((await b.pollState('7000004', { owner: 'd', all: false }, new Date(soon.getTime() + 7 * 60_000))).parked).not.toContainEqual({ update_id: 41 });
      // C renews its rows by claiming again: still its own five minutes on.
      await c.pollState('7000004', { owner: 'c', all: false }, new Date(soon.getTime() + 10 * 60_000));
      expect((await b.pollState('7000004', { owner: 'd', all: false }, new Date(soon.getTime() + 12 * 60_000))).parked).not.toContainEqual({ update_id: 41 });
      // Long polling: the instance that polls now takes on everything, whoever parked it.
      await a.savePollState('7000004', { answeredAhead: [], parked: [{ update_id: 51 }], decided: [] }, { owner: 'a' }, soon);
      expect((await b.pollState('7000004', { owner: 'b', all: true }, soon)).parked.map((u) => u.update_id)).toEqual(expect.arrayContaining([22, 41, 51]));
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
      await database.dispose();
    }
  });
});

test('an outbox send that a member\'s reply waits behind in its chat goes at the reply\'s priority, ahead of the rest of the broadcast', async () => {
  const api = await new FakeBotApi().start();
  try {
    for (let chat = 1; chat <= 6; chat++) api.addChat(chat);
    const telegram = new Telegram(api.token, { apiRoot: api.url });
    let clock = 1_000_000;
    const sender = new TelegramSender((method, payload) => telegram.callApi(method as never, payload as never), createLogger('silent'), {
      global: { count: 3, ms: 1_000 },
      now: () => clock,
      // Time moves on at once; the event loop still turns, so Telegram's answers come in.
      sleep: (ms) => {
        clock += ms;
        return new Promise((resolve) => setImmediate(resolve));
      },
    });
    // A broadcast to six chats, then member 5 writes and member 6 writes (6 has a broadcast
    // message ahead of its reply), all before the first window has room.
    const sends = [1, 2, 3, 4, 5, 6].map((chat) => sender.send(chat, 'sendMessage', { text: `Pengumuman ${chat}` }, { kind: 'outbox' }));
    sends.push(sender.send(5, 'sendMessage', { text: 'Balasan 5' }), sender.send(6, 'sendMessage', { text: 'Balasan 6' }));
    await Promise.all(sends);
    const order = api.sent.map((m) => m.text);
    // The first window went to the broadcast as it came; in the next, the announcements the two
    // replies wait behind went first, ahead of announcement 4; each chat kept its order.
    expect(order.slice(0, 3)).toEqual(['Pengumuman 1', 'Pengumuman 2', 'Pengumuman 3']);
    expect(order.slice(3, 5)).toEqual(['Pengumuman 5', 'Pengumuman 6']);
    expect(order.indexOf('Balasan 5')).toBeGreaterThan(order.indexOf('Pengumuman 5'));
    expect(order.indexOf('Balasan 6')).toBeGreaterThan(order.indexOf('Pengumuman 6'));
  } finally {
    await api.close();
  }
});
