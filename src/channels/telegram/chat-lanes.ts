/**
 * One lane per chat: a chat's messages are answered one after another, and at most
 * `maxWaiting` wait behind the one being answered. A chat that sends more is flooding: it gets
 * one "pelan-pelan" notice, what waits and what keeps coming is dropped, until it has been
 * quiet for `floodQuietMs`. So one member pasting 10,000 messages costs the others nothing,
 * and the flood never piles up work a shutdown would have to wait for.
 */

/** How an update ended: answered (or failed for good), dropped as flood, or cancelled at shutdown. */
export type LaneOutcome = 'answered' | 'dropped' | 'cancelled';

export interface ChatLanesOptions {
  maxWaiting: number;
  floodQuietMs: number;
  now: () => number;
}

interface Lane<T> {
  running: boolean;
  waiting: { item: T; resolve: (outcome: LaneOutcome) => void }[];
  flooding: boolean;
  lastAt: number;
}

export class ChatLanes<T> {
  readonly #lanes = new Map<string, Lane<T>>();
  readonly #run: (item: T) => Promise<LaneOutcome>;
  readonly #onFlood: (chatId: string, item: T) => void;
  readonly #options: ChatLanesOptions;
  #closed = false;
  /** Figures for logs and benchmarks. */
  readonly stats = { dropped: 0, floods: 0 };

  constructor(run: (item: T) => Promise<LaneOutcome>, onFlood: (chatId: string, item: T) => void, options: ChatLanesOptions) {
    this.#run = run;
    this.#onFlood = onFlood;
    this.#options = options;
  }

  /**
   * Drop this message at once if its chat is flooding (true), before anything is spent on it:
   * a flood of 10,000 is mostly this.
   */
  dropIfFlooding(chatId: string): boolean {
    const lane = this.#lanes.get(chatId);
    if (!lane?.flooding || this.#closed) return false;
    const now = this.#options.now();
    if (now - lane.lastAt >= this.#options.floodQuietMs) return false;
    lane.lastAt = now;
    this.stats.dropped++;
    return true;
  }

  accept(chatId: string, item: T): Promise<LaneOutcome> {
    if (this.#closed) return Promise.resolve('cancelled');
    if (this.dropIfFlooding(chatId)) return Promise.resolve('dropped');
    const now = this.#options.now();
    let lane = this.#lanes.get(chatId);
    if (!lane) {
      this.#forgetQuietLanes(now);
      lane = { running: false, waiting: [], flooding: false, lastAt: now };
      this.#lanes.set(chatId, lane);
    }
    // A flood that has been quiet long enough is over.
    lane.flooding = false;
    lane.lastAt = now;
    if (!lane.running) return this.#start(chatId, lane, item);
    if (lane.waiting.length < this.#options.maxWaiting) {
      return new Promise((resolve) => lane.waiting.push({ item, resolve }));
    }
    // Flooding: one notice, and the chat's backlog goes with the excess.
    lane.flooding = true;
    this.stats.floods++;
    const dropped = lane.waiting.splice(0);
    for (const waiter of dropped) waiter.resolve('dropped');
    this.stats.dropped += dropped.length + 1;
    this.#onFlood(chatId, item);
    return Promise.resolve('dropped');
  }

  /** Stop taking updates; those waiting end as 'cancelled' (Telegram delivers them again). */
  cancelWaiting(): void {
    this.#closed = true;
    for (const lane of this.#lanes.values()) for (const waiter of lane.waiting.splice(0)) waiter.resolve('cancelled');
  }

  /** Messages waiting behind the one being answered, over all chats. */
  get waiting(): number {
    let count = 0;
    for (const lane of this.#lanes.values()) count += lane.waiting.length;
    return count;
  }

  #start(chatId: string, lane: Lane<T>, item: T): Promise<LaneOutcome> {
    lane.running = true;
    const first = this.#run(item).catch((): LaneOutcome => 'answered');
    void first.then(async () => {
      for (let next = lane.waiting.shift(); next; next = lane.waiting.shift()) {
        next.resolve(await this.#run(next.item).catch((): LaneOutcome => 'answered'));
      }
      lane.running = false;
      if (!lane.flooding && this.#lanes.get(chatId) === lane) this.#lanes.delete(chatId);
    });
    return first;
  }

  /** Idle lanes whose flood (if any) is over are forgotten, so a year of chats does not fill memory. */
  #forgetQuietLanes(now: number): void {
    if (this.#lanes.size < 10_000) return;
    for (const [chatId, lane] of this.#lanes) {
      if (!lane.running && lane.waiting.length === 0 && (!lane.flooding || now - lane.lastAt >= this.#options.floodQuietMs)) this.#lanes.delete(chatId);
    }
  }
}
