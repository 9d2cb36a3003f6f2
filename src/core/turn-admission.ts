/**
 * Turns begin one per event-loop iteration. A member's turn is mostly one synchronous run of
 * work (its SQLite statements are synchronous; even Prisma's "async" queries finish in
 * microtasks), and a poll hands over up to 100 updates at once: started together, 100 turns
 * ran back to back before a timer, an HTTP request (/health) or a reply's socket got a look in.
 * Admitted one per iteration, each turn is followed by everything else that waits; the cost is
 * an iteration's worth of latency (microseconds when the loop is idle).
 */
export class TurnAdmission {
  readonly #waiting: (() => void)[] = [];
  #pumping = false;

  /** Resolves when this turn may begin. */
  admit(): Promise<void> {
    return new Promise((begin) => {
      this.#waiting.push(begin);
      if (this.#pumping) return;
      this.#pumping = true;
      setImmediate(this.#pump);
    });
  }

  readonly #pump = (): void => {
    this.#waiting.shift()?.();
    // Scheduled from inside an immediate: the next one waits for the next iteration.
    if (this.#waiting.length > 0) setImmediate(this.#pump);
    else this.#pumping = false;
  };
}
