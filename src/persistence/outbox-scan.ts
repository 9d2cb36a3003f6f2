/**
 * Where a process's claims of queued rows go on from, per reach (both outbox stores use it).
 *
 * A claim reads the due queued rows in (notBefore, id) order, the order of the outbox's
 * (state, notBefore, id) index, and leases those its channels can route. The rows it passes
 * over wait for another process's channel (a WhatsApp-only member, for an instance without
 * WhatsApp): read again on every claim, a million of them cost each claim 3.8 s on PostgreSQL,
 * and a drain of the Telegram members among them read the same prefix once per batch. So the
 * next claim goes on after the last row the previous one read: after its last leased row when
 * it filled its batch, after every row due at its `now` when it did not.
 *
 * A pass starts again from the oldest row once a minute (of the claims' clock), and at once
 * after this store queues rows behind the cursor or gives back a dead dispatcher's rows: a row
 * passed over that became routable here since (the member linked Telegram, opted out, left) or
 * was put back behind the cursor by another process is claimed within a minute. Rows another
 * process queues (`kopbot broadcast`, `jobs run-due`, another instance) have ids above any seen
 * before: each claim first asks for the outbox's highest id, and when it grew, whether a new
 * queued row is due behind a cursor (a broadcast fans out for seconds, due from its start). The cursor only
 * ever delays a claim; it never hands a row to two owners (the claim statement still decides).
 */
import type { Reach } from '../outbox/outbox-store.ts';

/** A position in the (notBefore, id) order: the claim reads rows after it. */
export interface ScanPosition {
  notBefore: Date;
  id: number;
}

/** How long a pass goes on before the next claim reads from the oldest row again. */
export const RESCAN_MS = 60_000;

/** Before every row. */
const OLDEST: ScanPosition = { notBefore: new Date(0), id: 0 };
/** The largest id an outbox row can have (an int column on both stores). */
const LAST_ID = 2_147_483_647;

export class QueuedScan {
  readonly #passes = new Map<string, { after: ScanPosition; startedAt: number; generation: number }>();
  #generation = 0;
  /** The highest outbox id seen by the last claim (undefined before the first). */
  #seenTop?: number;

  constructor(readonly rescanMs = RESCAN_MS) {}

  /** Where a claim by this reach at `now` starts reading (rows after this position). */
  start(reach: Reach, now: Date): { after: ScanPosition; generation: number } {
    const key = keyOf(reach);
    const pass = this.#passes.get(key);
    const at = now.getTime();
    // A new pass: none yet, a minute gone, restarted, or a clock that went back.
    if (!pass || pass.generation !== this.#generation || at - pass.startedAt >= this.rescanMs || at < pass.startedAt || at < pass.after.notBefore.getTime()) {
      this.#passes.set(key, { after: OLDEST, startedAt: at, generation: this.#generation });
      return { after: OLDEST, generation: this.#generation };
    }
    return { after: pass.after, generation: pass.generation };
  }

  /** What a claim that started at `from` leased: a full batch (more may follow its last row), or fewer (it read every due row). */
  read(reach: Reach, now: Date, from: { generation: number }, leased: readonly ScanPosition[], limit: number): void {
    const pass = this.#passes.get(keyOf(reach));
    // Restarted while this claim ran: what it passed over may have changed behind it.
    if (!pass || from.generation !== this.#generation || pass.generation !== this.#generation) return;
    pass.after = leased.length >= limit ? leased.reduce((last, row) => (compare(row, last) > 0 ? row : last)) : { notBefore: now, id: LAST_ID };
  }

  /**
   * Before a claim: rows queued since the last one by another process (ids above `seenTop`) that
   * are due behind some cursor restart the pass. `top` answers the outbox's highest id,
   * `earliestAfter(id)` the earliest notBefore of queued rows above that id.
   */
  async catchUp(top: () => Promise<number>, earliestAfter: (id: number) => Promise<Date | null>): Promise<void> {
    const highest = await top();
    const seen = this.#seenTop;
    this.#seenTop = Math.max(seen ?? 0, highest);
    // The first claim reads from the oldest row anyway, as does every claim after a restart
    // (this process's own fan-out): no pass left that a new row could be behind.
    const current = [...this.#passes.values()].some((pass) => pass.generation === this.#generation);
    if (seen === undefined || highest <= seen || !current) return;
    const earliest = await earliestAfter(seen);
    if (earliest) this.queued([earliest]);
  }

  /** Rows may now wait behind a cursor: every reach's next claim reads from the oldest. */
  restart(): void {
    this.#generation++;
  }

  /** Restart if a row due at `notBefore` would fall behind some reach's cursor. */
  queued(notBefores: Iterable<Date>): void {
    let earliest = Infinity;
    for (const at of notBefores) earliest = Math.min(earliest, at.getTime());
    for (const pass of this.#passes.values()) {
      if (earliest <= pass.after.notBefore.getTime()) return this.restart();
    }
  }
}

function keyOf(reach: Reach): string {
  return `${reach.byPhone ? 'phone' : ''}|${[...reach.identityChannels].sort().join(',')}`;
}

function compare(a: ScanPosition, b: ScanPosition): number {
  return a.notBefore.getTime() - b.notBefore.getTime() || a.id - b.id;
}
