/**
 * Stop means stop, with real `kopbot start` processes polling the local Bot API: SIGTERM in
 * the middle of a burst stops fetching, Telegram is told only of the updates that were
 * answered, the process exits within seconds, and after a restart the rest are delivered
 * again and answered, so every update is answered exactly once overall.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import type { KopbotProcess } from '../helpers/cli.ts';
import { useKopbotProcesses } from './helpers.ts';

const kopbot = useKopbotProcesses('kopbot-tg-stop-');

/** SIGTERM, and how long the process took to exit. */
async function terminate(child: KopbotProcess): Promise<{ code: number | null; ms: number; stderr: string }> {
  const began = Date.now();
  child.child.kill('SIGTERM');
  const exit = await child.exited;
  return { code: exit.code, ms: Date.now() - began, stderr: exit.stderr };
}

/** The update ids the stopped service left parked in the database. */
function parkedUpdates(): number[] {
  const db = new Database(join(kopbot.dir, 'kopbot.db'), { readonly: true });
  try {
    return db.prepare('SELECT updateId FROM TelegramParkedUpdate ORDER BY updateId').pluck().all() as number[];
  } finally {
    db.close();
  }
}

const CHATS = 100;
const EACH = 5;

test('SIGTERM mid-burst: only answered updates are confirmed, the rest come again after a restart, and every update is answered exactly once', async () => {
  const api = kopbot.api;
  const chats = await kopbot.seedMembers(CHATS, 60_000);
  // 500 updates wait at Telegram before the service starts (the morning after an outage).
  const updatesOf = new Map<number, number[]>();
  for (let round = 0; round < EACH; round++) {
    for (const member of chats) {
      const id = api.nextUpdateId;
      api.sendText(member, 'ok');
      updatesOf.set(member.id, [...(updatesOf.get(member.id) ?? []), id]);
    }
  }
  const total = CHATS * EACH;
  // One member's first reply meets a 429 that says to wait 30 s: still waiting at the SIGTERM.
  const held = chats[3]!;
  api.failNextFor(held.id, 'sendMessage', { code: 429, description: 'Too Many Requests: retry after 30', retryAfter: 30 });
  const first = await kopbot.start({ LOG_LEVEL: 'info' });
  await api.waitUntil(() => api.sent.length >= 120, { what: '120 replies' });
  const stop = await terminate(first);
  expect(stop.code, stop.stderr).toBe(0);
  expect(stop.ms).toBeLessThan(10_000);
  const answeredFirst = api.sent.length;
  const confirmed = api.confirmedBelow;
  // Telegram still holds what was not answered.
  expect(answeredFirst).toBeLessThan(total);
  expect(confirmed).toBeLessThan(api.nextUpdateId);
  expect(api.pendingUpdates).toBeGreaterThan(0);
  // Every update confirmed was answered or parked in the database: per chat, at least as many
  // replies and parked updates as confirmed updates.
  const parked = parkedUpdates();
  for (const member of chats) {
    const confirmedHere = updatesOf.get(member.id)!.filter((id) => id < confirmed).length;
    const parkedHere = updatesOf.get(member.id)!.filter((id) => parked.includes(id)).length;
    expect(api.messagesTo(member.id).length + parkedHere).toBeGreaterThanOrEqual(confirmedHere);
  }
  expect(stop.stderr).toContain('Telegram told which updates were answered');
  // The held reply did not stop the others: its update was parked in the database, Telegram
  // was told past it, and at the deadline it was cancelled (to be answered after the restart).
  expect(stop.stderr).toContain('parked in the database');
  expect(api.messagesTo(held.id)).toHaveLength(0);
  expect(confirmed).toBeGreaterThan(updatesOf.get(held.id)![0]!);
  expect(parked).toContain(updatesOf.get(held.id)![0]!);
  expect(stop.stderr).toContain('were cancelled');

  // After the restart the rest is delivered again and answered; nothing twice.
  const second = await kopbot.start({ LOG_LEVEL: 'info' });
  await api.waitUntil(() => chats.every((m) => api.messagesTo(m.id).length >= EACH), { timeoutMs: 40_000, what: 'every update answered' });
  await api.waitUntil(() => api.pendingUpdates === 0, { what: 'every update confirmed' });
  const stop2 = await terminate(second);
  expect(stop2.code, stop2.stderr).toBe(0);
  const counts = chats.map((m) => api.messagesTo(m.id).length);
  expect(counts.filter((n) => n !== EACH)).toEqual([]);
  expect(parkedUpdates()).toEqual([]);
  expect(api.sent.length).toBe(total);
  expect(api.floodRefusals).toBe(0);
  if (process.env.SHOW_FIGURES) console.log({ answeredFirst, confirmed, parked: parked.length, exitMs: stop.ms, exit2Ms: stop2.ms, confirmedOffsets: api.confirmedOffsets.length });
}, 60_000);
