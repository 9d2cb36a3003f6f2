/**
 * Launch day: members are told "press 📱 Bagikan nomor saya" and many do it at the same moment.
 * Through the real service (telegraf against the local Bot API): 50 new accounts ask for their
 * balance at once (each a new identity: Prisma writes it in a transaction), then all share their
 * contact at once. Every one is answered from where their own conversation stood, no session
 * state is lost, and the event loop never stalls: no statement waits for SQLite's lock on the
 * thread that would finish the transaction holding it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { DEMO_KOPERASI } from '../../src/persistence/seed-demo.ts';
import type { FakeUser } from '../helpers/fake-bot-api.ts';
import { share, startTelegramService, textOf, type TelegramTestService } from './helpers.ts';

const COUNT = 50;
/** Longest the event loop may stall; a synchronous busy wait is 2 s or more. */
const MAX_STALL_MS = 200;
const users: FakeUser[] = Array.from({ length: COUNT }, (_, i) => ({ id: 810_000 + i, first_name: `Anggota${i}` }));
const phoneOf = (i: number) => `62815${String(20_000_000 + i)}`;

let t: TelegramTestService;
beforeEach(async () => {
  t = await startTelegramService();
  const db = t.service.app.db;
  const koperasi = await db.koperasi.findUniqueOrThrow({ where: { code: DEMO_KOPERASI } });
  await db.member.createMany({
    data: users.map((_, i) => ({ koperasiId: koperasi.id, memberNumber: `L${String(i).padStart(3, '0')}`, name: `Peserta Peluncuran ${i}`, phone: phoneOf(i) })),
  });
  const members = await db.member.findMany({ where: { koperasiId: koperasi.id, memberNumber: { startsWith: 'L' } }, select: { id: true } });
  await db.savingsAccount.createMany({ data: members.map((m) => ({ memberId: m.id, kind: 'wajib', label: 'Simpanan Wajib', balance: 1_250_000n, asOf: '2026-10-31' })) });
});
afterEach(async () => {
  await t.dispose();
});

/** Wait until every user has more than `before` messages and the last one is not a keyboard-only "thanks". */
async function everyoneAnswered(before: Map<number, number>, done: (user: FakeUser) => boolean): Promise<void> {
  await t.api.waitUntil(() => users.every((u) => t.api.messagesTo(u.id).length > before.get(u.id)! && done(u)), { timeoutMs: 60_000, what: 'every member answered' });
}

const counts = () => new Map(users.map((u) => [u.id, t.api.messagesTo(u.id).length]));

test('50 members share their contact at the same moment: every one answered from their own state, none lost, the event loop never stalls', async () => {
  // One member first, alone: what is measured is contention, not the first use of each query.
  const warm: FakeUser = { id: 809_999, first_name: 'Pemanasan' };
  t.api.sendText(warm, 'saldo');
  await t.api.waitForMessages(warm.id, 1);
  await share(t, warm, { phone: phoneOf(0) });

  const stalls = monitorEventLoopDelay({ resolution: 10 });
  stalls.enable();
  // All ask for their balance at once: each gets the "share your number" keyboard.
  let before = counts();
  for (const user of users) t.api.sendText(user, 'saldo');
  const asksForContact = (u: FakeUser) => t.api.messagesTo(u.id).at(-1)?.reply_markup?.keyboard?.[0]?.[0]?.request_contact === true;
  await everyoneAnswered(before, asksForContact);

  // All press "📱 Bagikan nomor saya" at once.
  before = counts();
  users.forEach((user, i) => t.api.shareContact(user, { phone: phoneOf(i) }));
  const sawBalance = (u: FakeUser) => textOf(t.api.messagesTo(u.id).slice(before.get(u.id))).includes('Rp1.250.000');
  await everyoneAnswered(before, sawBalance);
  stalls.disable();

  // The balance each asked for before sharing came after the contact: the state was kept.
  users.forEach((user, i) => expect(textOf(t.api.messagesTo(user.id).slice(before.get(user.id))), user.first_name).toContain(`Peserta Peluncuran ${i}`));
  const sessions = await t.service.app.db.conversationSession.findMany({ where: { channel: 'telegram', chatId: { in: users.map((u) => String(u.id)) } } });
  expect(sessions).toHaveLength(COUNT);
  for (const session of sessions) {
    const i = Number(session.chatId) - users[0]!.id;
    expect((JSON.parse(session.data) as { provenPhone?: string }).provenPhone, session.chatId).toBe(phoneOf(i));
  }
  const linked = await t.service.app.db.channelIdentity.count({ where: { channel: 'telegram', externalId: { in: users.map((u) => String(u.id)) }, verifiedBy: 'contact', memberId: { not: null } } });
  expect(linked).toBe(COUNT);
  expect(t.logs.filter((line) => line.includes('not saved'))).toEqual([]);
  expect(stalls.max / 1e6, 'longest event-loop stall (ms)').toBeLessThan(MAX_STALL_MS);
}, 180_000);
