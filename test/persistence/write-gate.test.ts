/**
 * One writer per process: a write on a side connection (the hot path's session, the outbox)
 * while a Prisma transaction holds the lock across event-loop turns waits for it without
 * sleeping on the event loop, and another process's lock is tried again later, asynchronously.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { sqlitePathOf } from '../../src/persistence/database.ts';
import { writeGateFor } from '../../src/persistence/write-gate.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.dispose();
});

const state = (node: string) => ({ node, data: {}, expiresAt: new Date(Date.now() + 60_000), version: 0 });

/** The longest the event loop stood still while `work` ran, in ms. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  try {
    await work();
  } finally {
    delay.disable();
  }
  return delay.max / 1e6;
}

test('a session saved while a Prisma transaction is open waits for its commit, without stalling the event loop', async () => {
  const order: string[] = [];
  const stall = await longestStall(async () => {
    let opened!: () => void;
    const inside = new Promise<void>((resolve) => (opened = resolve));
    const transaction = t.db.$transaction(async (tx) => {
      await tx.auditLog.create({ data: { actor: 'test', action: 'first', detail: '{}' } });
      opened();
      await sleep(300); // the transaction stays open across event-loop turns, as Prisma's do
      await tx.auditLog.create({ data: { actor: 'test', action: 'second', detail: '{}' } });
      order.push('transaction');
    });
    await inside; // the save starts while the transaction is surely open
    const saving = t.services.sessions.save('telegram', '77', state('menu')).then(() => order.push('session'));
    await Promise.all([transaction, saving]);
  });
  expect(order).toEqual(['transaction', 'session']);
  expect((await t.services.sessions.load('telegram', '77'))?.node).toBe('menu');
  expect(await t.db.auditLog.count({ where: { actor: 'test' } })).toBe(2);
  expect(t.logs.filter((line) => line.includes('not saved'))).toEqual([]);
  expect(stall).toBeLessThan(150);
});

test("another process's lock is waited for asynchronously: the write lands once it is let go", async () => {
  // Another process in the middle of a long import: it holds the write lock for half a second.
  const other = new Database(sqlitePathOf(t.url), { timeout: 0 });
  other.exec('BEGIN IMMEDIATE');
  setTimeout(() => other.exec('COMMIT'), 500);
  const gate = writeGateFor(sqlitePathOf(t.url));
  const retriesBefore = gate.stats.busyRetries;
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const stall = await longestStall(() => t.services.sessions.save('telegram', '78', state('saldo')));
  clearInterval(ticker);
  other.close();
  expect((await t.services.sessions.load('telegram', '78'))?.node).toBe('saldo');
  expect(gate.stats.busyRetries).toBeGreaterThan(retriesBefore);
  expect(ticks).toBeGreaterThan(10);
  expect(stall).toBeLessThan(150);
});

test("Prisma's own writes wait for another process's lock asynchronously too, and land once it is let go", async () => {
  // An import in another process holds the write lock for half a second; a member's complaint
  // (a Prisma write) arrives meanwhile. Everyone else must keep being answered.
  const other = new Database(sqlitePathOf(t.url), { timeout: 0 });
  other.exec('BEGIN IMMEDIATE');
  setTimeout(() => other.exec('COMMIT'), 500);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const stall = await longestStall(() => t.db.auditLog.create({ data: { actor: 'test', action: 'during-import', detail: '{}' } }));
  clearInterval(ticker);
  other.close();
  expect(await t.db.auditLog.count({ where: { action: 'during-import' } })).toBe(1);
  expect(ticks).toBeGreaterThan(10);
  expect(stall).toBeLessThan(150);
});
