/**
 * The pieces under "stop means stop" and "one chat cannot starve the others": what may be
 * confirmed to Telegram, and the per-chat bound with its one slow-down notice.
 */
import { describe, expect, test } from 'vitest';
import { ChatLanes, type LaneOutcome } from '../../src/channels/telegram/chat-lanes.ts';
import { UpdateLedger } from '../../src/channels/telegram/update-ledger.ts';

describe('which updates may be confirmed', () => {
  test('the offset stays at the oldest unfinished update; those finished after it are remembered', () => {
    const ledger = new UpdateLedger();
    expect(ledger.offset).toBeUndefined();
    for (const id of [10, 11, 12, 13]) ledger.add(id);
    expect(ledger.offset).toBe(10);
    ledger.finish(11);
    ledger.finish(13);
    expect(ledger.offset).toBe(10);
    expect(ledger.finishedAhead()).toEqual([11, 13]);
    expect(ledger.unfinishedIds()).toEqual([10, 12]);
    ledger.finish(10);
    expect(ledger.offset).toBe(12);
    ledger.finish(12);
    expect(ledger.offset).toBe(14);
    expect(ledger.unfinished).toBe(0);
    // Delivered again (an offset not yet confirmed): known, not answered twice.
    expect(ledger.knows(12)).toBe(true);
    expect(ledger.knows(14)).toBe(false);
  });

  test('an update dropped on arrival moves the offset alone, or waits its turn behind an open one', () => {
    const ledger = new UpdateLedger();
    for (const id of [20, 21, 22]) ledger.skip(id);
    expect(ledger.offset).toBe(23);
    expect(ledger.knows(21)).toBe(true);
    expect(ledger.finishedAhead()).toEqual([]);
    ledger.add(23);
    ledger.skip(24);
    ledger.skip(25);
    // Behind 23, still being answered: remembered as finished, not yet below the offset.
    expect(ledger.offset).toBe(23);
    expect(ledger.finishedAhead()).toEqual([24, 25]);
    expect(ledger.knows(25)).toBe(true);
    ledger.finish(23);
    expect(ledger.offset).toBe(26);
    expect(ledger.unfinished).toBe(0);
  });
});

describe('a bounded lane per chat', () => {
  function lanes(now: { t: number }) {
    const runs: string[] = [];
    const floods: string[] = [];
    const pending: (() => void)[] = [];
    const lanes = new ChatLanes<string>(
      (item) =>
        new Promise<LaneOutcome>((resolve) => {
          runs.push(item);
          pending.push(() => resolve('answered'));
        }),
      (chatId) => floods.push(chatId),
      { maxWaiting: 2, floodQuietMs: 1_000, now: () => now.t },
    );
    return { lanes, runs, floods, finishOne: () => pending.shift()?.() };
  }

  test('a chat past its bound gets one notice and its backlog and excess are dropped until it is quiet; other chats are untouched', async () => {
    const now = { t: 0 };
    const { lanes: l, runs, floods, finishOne } = lanes(now);
    const first = l.accept('A', 'a1');
    const waiting = [l.accept('A', 'a2'), l.accept('A', 'a3')];
    expect(await l.accept('A', 'a4')).toBe('dropped');
    expect(await Promise.all(waiting)).toEqual(['dropped', 'dropped']);
    expect(floods).toEqual(['A']);
    expect(l.dropIfFlooding('A')).toBe(true);
    expect(await l.accept('A', 'a5')).toBe('dropped');
    expect(floods).toEqual(['A']); // one notice for the whole flood
    const other = l.accept('B', 'b1');
    expect(runs).toEqual(['a1', 'b1']);
    finishOne();
    finishOne();
    expect(await first).toBe('answered');
    expect(await other).toBe('answered');
    // Quiet for the flood's pause: the chat is served again.
    now.t += 1_000;
    expect(l.dropIfFlooding('A')).toBe(false);
    const again = l.accept('A', 'a6');
    expect(runs).toEqual(['a1', 'b1', 'a6']);
    finishOne();
    expect(await again).toBe('answered');
  });

  test('at shutdown what waits is cancelled, and nothing new is taken', async () => {
    const { lanes: l, finishOne } = lanes({ t: 0 });
    const running = l.accept('A', 'a1');
    const waiting = l.accept('A', 'a2');
    l.cancelWaiting();
    expect(await waiting).toBe('cancelled');
    expect(await l.accept('B', 'b1')).toBe('cancelled');
    finishOne();
    expect(await running).toBe('answered');
  });
});
