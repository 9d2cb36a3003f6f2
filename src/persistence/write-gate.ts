/**
 * One writer per process. The service opens several connections to one SQLite file: Prisma's
 * (through the better-sqlite3 adapter), the hot path's, the outbox's. They are synchronous, and
 * they all run on the event loop. Prisma keeps a write transaction open across event-loop turns
 * (an upsert, an update that reads back its relations, an updateMany: BEGIN … COMMIT over several
 * awaits). A statement on another connection meanwhile finds the lock taken, and SQLite's busy
 * handler sleeps on the very thread that would finish Prisma's transaction: the whole process
 * stood still for the busy timeout, and then the write failed anyway ("database is locked").
 *
 * So writes queue here, first come first served: a Prisma transaction holds the gate from BEGIN
 * to COMMIT or ROLLBACK (see gatePrismaTransactions in database.ts), and a side connection's write
 * runs only while no one holds it. A side write is synchronous (one statement or one synchronous
 * better-sqlite3 transaction), so it holds the gate for that instant only and never across an
 * await. Side connections are opened with no busy timeout: within the process the gate means
 * they never meet a lock; another process's lock (an import, `kopbot outbox drain`) answers
 * "busy" at once, and the write is tried again a little later, asynchronously, gate released, so
 * the event loop keeps serving members and /health meanwhile.
 *
 * Reads need no gate: the file is in WAL mode, where readers never wait for the writer.
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBusyError } from './busy.ts';

/** How long a side write keeps trying while another process holds the write lock. */
export const SIDE_WRITE_PATIENCE_MS = 30_000;
const FIRST_RETRY_MS = 2;
const LONGEST_RETRY_MS = 100;

export interface WriteOptions {
  /** Give up (the busy error is thrown) after trying this long; default SIDE_WRITE_PATIENCE_MS. */
  patienceMs?: number;
}

export class WriteGate {
  #held = false;
  readonly #waiting: (() => void)[] = [];
  /** For benchmarks and logs: writes that had to queue, and tries again after another process's lock. */
  readonly stats = { queued: 0, busyRetries: 0 };

  /** Whether some writer of this process holds the gate right now. */
  get held(): boolean {
    return this.#held;
  }

  /** Hold the gate until the returned function is called (once; later calls do nothing). */
  acquire(): Promise<() => void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(this.#releaser());
    }
    this.stats.queued++;
    return new Promise((grant) => this.#waiting.push(() => grant(this.#releaser())));
  }

  /**
   * Run a synchronous write on a side connection (opened with `timeout: 0`) when it is this
   * process's turn to write; while another process holds the lock, try again later (the gate
   * released meanwhile), up to `patienceMs`.
   */
  async write<T>(work: () => T, options: WriteOptions = {}): Promise<T> {
    const deadline = Date.now() + (options.patienceMs ?? SIDE_WRITE_PATIENCE_MS);
    for (let attempt = 0; ; attempt++) {
      const release = await this.acquire();
      try {
        return work();
      } catch (error) {
        if (!isBusyError(error) || Date.now() >= deadline) throw error;
        this.stats.busyRetries++;
      } finally {
        release();
      }
      await sleep(Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt));
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // Handed straight to the next writer: no one can slip in between.
      if (next) next();
      else this.#held = false;
    };
  }
}

const gates = new Map<string, WriteGate>();

/** The gate of this process for the SQLite file at path (every connection to it shares one). */
export function writeGateFor(path: string): WriteGate {
  const key = resolve(path);
  let gate = gates.get(key);
  if (!gate) {
    gate = new WriteGate();
    gates.set(key, gate);
  }
  return gate;
}
