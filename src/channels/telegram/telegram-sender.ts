/**
 * Every call the bot makes to Telegram goes through here: Telegram's flood limits kept before
 * sending (about 30 messages a second overall, shared with the bot's other processes through
 * the database budget; in one private chat a burst of ten, then two a second, so a
 * conversation never waits; 20 a minute in a group), a 429's retry_after waited out, network
 * trouble and Telegram's own 5xx retried with capped backoff, and permanent refusals (blocked,
 * no such chat, a bad request) reported once, never retried. telegraf has no such layer of its
 * own.
 *
 * Two kinds of message: members' replies and outbox sends. Replies take the global budget
 * first; a reply is never given up on for 429s, it waits up to `replyDeadlineMs` (60 s: a
 * member still notices it) from the moment it was handed over, and beyond that it is counted
 * as lost. Outbox sends give up after `max429` (their row is tried again later).
 */
import { TelegramError } from 'telegraf';
import type { Logger } from '../../logger.ts';
import type { RateWindow, SendBudget, SendKind } from '../../persistence/telegram-store.ts';

export type { RateWindow, SendKind } from '../../persistence/telegram-store.ts';

export type SendFailure = 'blocked' | 'chat_not_found' | 'bad_request' | 'unauthorized' | 'gave_up' | 'lost' | 'cancelled';

export class TelegramSendError extends Error {
  override name = 'TelegramSendError';
  constructor(
    readonly reason: SendFailure,
    readonly permanent: boolean,
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

export interface TelegramSenderOptions {
  /** Messages in any one second, over all chats (Telegram: about 30). */
  global?: RateWindow;
  /** One private chat: a burst of `count`, then `count` per `ms` (default 10 per 5 s: conversation pace never waits). */
  privateChat?: RateWindow;
  /** One group chat (Telegram: 20 a minute). */
  groupChat?: RateWindow;
  /** Retries after a network error or a 5xx, with backoff; 429s are counted separately. */
  maxRetries?: number;
  /** Most 429s an outbox send waits out before giving up (a reply waits up to its deadline instead). */
  max429?: number;
  /** A reply not sent this long after it was handed over is lost (logged and counted). */
  replyDeadlineMs?: number;
  /** The bot's budget shared with its other processes (the database); without it, this process's own. */
  budget?: SendBudget;
  backoffMs?: { first: number; cap: number };
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

type CallApi = (method: string, payload: Record<string, unknown>) => Promise<unknown>;

/**
 * A sliding window of sends. Each send is stamped first with the moment it may start, then,
 * once Telegram has answered, with the moment the answer came: Telegram counts a message when
 * it arrives, which is somewhere in between, so counting from the answer never undercounts,
 * however long a request spent on the way.
 */
class Window {
  readonly #slots: { at: number }[] = [];
  #heldUntil = 0;
  constructor(private readonly rate: RateWindow) {}

  /** The earliest moment at or after `at` that keeps the window within its rate. */
  earliest(at: number): number {
    const { count, ms } = this.rate;
    let when = Math.max(at, this.#heldUntil);
    if (this.#slots.length >= count) when = Math.max(when, this.#slots[this.#slots.length - count]!.at + ms + 1);
    return when;
  }

  add(slot: { at: number }): void {
    this.#slots.push(slot);
    if (this.#slots.length > this.rate.count) this.#slots.splice(0, this.#slots.length - this.rate.count);
  }

  /** Telegram said to wait: nothing goes through before `until`. */
  hold(until: number): void {
    this.#heldUntil = Math.max(this.#heldUntil, until);
  }

  get idleSince(): number {
    return Math.max(this.#heldUntil, this.#slots[this.#slots.length - 1]?.at ?? 0);
  }
}

/** How often a send waiting on another that is still on its way looks again. */
const IN_FLIGHT_POLL_MS = 10;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isNetworkError(error: unknown): boolean {
  const e = error as { name?: string; code?: string; type?: string };
  return e?.name === 'FetchError' || e?.name === 'AbortError' || ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET'].includes(e?.code ?? '');
}

function permanentFailure(error: TelegramError): TelegramSendError {
  const description = error.description ?? error.message;
  let reason: SendFailure = 'bad_request';
  if (error.code === 403) reason = 'blocked';
  else if (error.code === 401) reason = 'unauthorized';
  else if (/chat not found|user not found|PEER_ID_INVALID/i.test(description)) reason = 'chat_not_found';
  return new TelegramSendError(reason, true, description, error.code);
}

export interface SendOptions {
  /** A member's reply (default) or an outbox send; replies go first. */
  kind?: SendKind;
}

/** One chat's pacing and queue; `replies`: members' replies to it queued or under way. */
interface ChatEntry {
  window: Window;
  queue: Promise<unknown>;
  pending: number;
  replies: number;
}

interface Waiter {
  kind: SendKind;
  chat: ChatEntry;
  deadline: number;
  resolve: (slot: { at: number }) => void;
  reject: (error: unknown) => void;
}

function cancelled(method: string): TelegramSendError {
  return new TelegramSendError('cancelled', false, `${method} cancelled: the channel is stopping`);
}

export class TelegramSender {
  readonly #call: CallApi;
  readonly #logger: Logger;
  readonly #global: Window;
  readonly #budget?: SendBudget;
  readonly #chats = new Map<string, ChatEntry>();
  readonly #options: Required<Omit<TelegramSenderOptions, 'global' | 'privateChat' | 'groupChat' | 'budget'>> & {
    privateChat: RateWindow;
    groupChat: RateWindow;
  };
  /** Sends waiting for a global slot: replies first, each kind in order. */
  readonly #waiting: Record<SendKind, Waiter[]> = { reply: [], outbox: [] };
  #pumping = false;
  #wakePump?: () => void;
  readonly #cancelled: Record<SendKind, AbortController> = { reply: new AbortController(), outbox: new AbortController() };
  /** Figures for logs, /health and benchmarks; `lost`: replies not sent within the deadline. */
  readonly stats = { sent: 0, retried429: 0, retriedNetwork: 0, failed: 0, lost: 0 };

  constructor(call: CallApi, logger: Logger, options: TelegramSenderOptions = {}) {
    this.#call = call;
    this.#logger = logger;
    this.#global = new Window(options.global ?? { count: 30, ms: 1000 });
    if (options.budget) this.#budget = options.budget;
    this.#options = {
      privateChat: options.privateChat ?? { count: 10, ms: 5000 },
      groupChat: options.groupChat ?? { count: 20, ms: 60_000 },
      maxRetries: options.maxRetries ?? 5,
      max429: options.max429 ?? 10,
      replyDeadlineMs: options.replyDeadlineMs ?? 60_000,
      backoffMs: options.backoffMs ?? { first: 500, cap: 30_000 },
      sleep: options.sleep ?? defaultSleep,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
    };
  }

  /**
   * Call `method` for `chatId`. Calls for one chat run one after another, in the order they
   * were made, so a reply's pieces arrive in order.
   */
  send<T = unknown>(chatId: string | number, method: string, payload: Record<string, unknown>, options: SendOptions = {}): Promise<T> {
    const kind = options.kind ?? 'reply';
    if (this.#cancelled[kind].signal.aborted) return Promise.reject(cancelled(method));
    const deadline = kind === 'reply' ? this.#options.now() + this.#options.replyDeadlineMs : Number.POSITIVE_INFINITY;
    const key = String(chatId);
    let chat = this.#chats.get(key);
    if (!chat) {
      const rate = key.startsWith('-') ? this.#options.groupChat : this.#options.privateChat;
      chat = { window: new Window(rate), queue: Promise.resolve(), pending: 0, replies: 0 };
      this.#chats.set(key, chat);
    }
    const entry = chat;
    entry.pending++;
    if (kind === 'reply') {
      // An outbox send to this chat ahead of the reply now goes at the reply's priority.
      entry.replies++;
      this.#wakePump?.();
    }
    const result = entry.queue.then(() => this.#sendNow(entry, method, { chat_id: chatId, ...payload }, kind, deadline));
    const settled = () => {
      entry.pending--;
      if (kind === 'reply') entry.replies--;
    };
    entry.queue = result.then(settled, settled);
    this.#forgetIdleChats();
    return result as Promise<T>;
  }

  /** A call that is not a message (answerCallbackQuery, setWebhook…): retried, not rate-limited. */
  async call<T = unknown>(method: string, payload: Record<string, unknown>): Promise<T> {
    return (await this.#withRetries(method, payload, 'reply', Number.POSITIVE_INFINITY, { before: async () => undefined, answered: () => undefined, hold: () => undefined }, false)) as T;
  }

  /** Sends of this kind still waiting for a slot (or a 429) end now, as 'cancelled'; so do new ones. */
  cancel(kind: SendKind): void {
    if (this.#cancelled[kind].signal.aborted) return;
    this.#cancelled[kind].abort();
    for (const waiter of this.#waiting[kind].splice(0)) waiter.reject(cancelled('sendMessage'));
    this.#wakePump?.();
  }

  /** Everything still waiting ends as 'cancelled'; calls already on their way finish. */
  close(): void {
    this.cancel('outbox');
    this.cancel('reply');
  }

  /** Replies and outbox sends waiting for a global slot, for tests and logs. */
  get waiting(): { reply: number; outbox: number } {
    return { reply: this.#waiting.reply.length, outbox: this.#waiting.outbox.length };
  }

  /** A pause that ends early when sends of this kind are cancelled (then it rejects). */
  async #sleep(ms: number, kind: SendKind, method: string): Promise<void> {
    const signal = this.#cancelled[kind].signal;
    if (signal.aborted) throw cancelled(method);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(cancelled(method));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.#options.sleep(ms), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  #lost(method: string): TelegramSendError {
    this.stats.lost++;
    this.stats.failed++;
    this.#logger.error({ method, waitedMs: this.#options.replyDeadlineMs, lost: this.stats.lost }, 'reply lost: not sent within the deadline');
    return new TelegramSendError('lost', false, `${method}: not sent within ${Math.round(this.#options.replyDeadlineMs / 1000)} s`, 429);
  }

  /** Wait for a slot of the global budget: this process's window and, when shared, the bot's. */
  #globalSlot(kind: SendKind, chat: ChatEntry, deadline: number, method: string): Promise<{ at: number }> {
    if (this.#cancelled[kind].signal.aborted) return Promise.reject(cancelled(method));
    return new Promise((resolve, reject) => {
      this.#waiting[kind].push({ kind, chat, deadline, resolve, reject: (error) => reject(error instanceof TelegramSendError && error.reason === 'lost' ? this.#lost(method) : error) });
      if (kind === 'reply') this.#wakePump?.(); // an outbox send may be waiting at the head
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        // Replies first; then an outbox send that a reply to the same chat waits behind (it
        // goes as a reply); then outbox sends in order.
        let kind: SendKind = 'reply';
        let index = 0;
        if (this.#waiting.reply.length === 0) {
          if (this.#waiting.outbox.length === 0) return;
          kind = 'outbox';
          index = Math.max(0, this.#waiting.outbox.findIndex((waiter) => waiter.chat.replies > 0));
        }
        const queue = this.#waiting[kind];
        const head = queue[index]!;
        const priority: SendKind = kind === 'reply' || head.chat.replies > 0 ? 'reply' : 'outbox';
        const now = this.#options.now();
        if (head.deadline <= now) {
          queue.splice(index, 1);
          head.reject(new TelegramSendError('lost', false, 'deadline'));
          continue;
        }
        // This process's window first (it knows its sends still on their way), then the shared one.
        const local = this.#global.earliest(now);
        let wait = local > now ? (Number.isFinite(local) ? local - now : IN_FLIGHT_POLL_MS) : 0;
        if (wait === 0 && this.#budget) {
          try {
            wait = await this.#budget.take(priority, now);
          } catch (error) {
            this.#logger.warn({ err: error }, 'Telegram send budget unreadable; keeping this process\'s own');
          }
        }
        if (wait === 0) {
          queue.splice(index, 1);
          const slot = { at: Number.POSITIVE_INFINITY };
          this.#global.add(slot);
          head.resolve(slot);
          continue;
        }
        await new Promise<void>((resolve) => {
          let done = false;
          const finish = () => {
            if (done) return;
            done = true;
            this.#wakePump = undefined;
            resolve();
          };
          this.#wakePump = finish;
          void this.#options.sleep(Math.max(1, Math.min(wait, head.deadline - now))).then(finish);
        });
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #sendNow(entry: ChatEntry, method: string, payload: Record<string, unknown>, kind: SendKind, deadline: number): Promise<unknown> {
    const chat = entry.window;
    let slot: { at: number } | undefined;
    try {
      const result = await this.#withRetries(
        method,
        payload,
        kind,
        deadline,
        {
          before: async () => {
            // This chat's window first (a send still on its way counts as "now" until answered),
            // then a slot of the global budget.
            for (;;) {
              const now = this.#options.now();
              const when = chat.earliest(now);
              if (when <= now) break;
              if (now >= deadline) throw this.#lost(method);
              await this.#sleep(Math.min(Number.isFinite(when) ? when - now : IN_FLIGHT_POLL_MS, Math.max(1, deadline - now)), kind, method);
            }
            slot = await this.#globalSlot(kind, entry, deadline, method);
            chat.add(slot);
          },
          // A refused try counted for Telegram from its answer; waiting for the next must not hold the window.
          answered: () => {
            if (slot) slot.at = this.#options.now();
          },
          hold: (until) => chat.hold(until),
        },
        true,
      );
      this.stats.sent++;
      return result;
    } finally {
      // Answered or refused, the send counts from now (an unanswered slot would block for ever).
      if (slot) slot.at = this.#options.now();
    }
  }

  async #withRetries(
    method: string,
    payload: Record<string, unknown>,
    kind: SendKind,
    deadline: number,
    hooks: { before: () => Promise<void>; answered: () => void; hold: (until: number) => void },
    message: boolean,
  ): Promise<unknown> {
    let retries = 0;
    let waits429 = 0;
    for (;;) {
      await hooks.before();
      try {
        return await this.#call(method, payload);
      } catch (error) {
        hooks.answered();
        if (error instanceof TelegramError && error.code === 429) {
          const seconds = Number(error.parameters?.retry_after ?? 1);
          const now = this.#options.now();
          const reply = message && kind === 'reply';
          if (reply && now + seconds * 1000 > deadline) throw this.#lost(method);
          if (!reply && ++waits429 > this.#options.max429) {
            this.stats.failed++;
            throw new TelegramSendError('gave_up', false, `Telegram kept answering 429 for ${method}`, 429);
          }
          this.stats.retried429++;
          hooks.hold(now + seconds * 1000);
          this.#logger.warn({ method, retryAfter: seconds }, 'Telegram asked to slow down (429); waiting');
          await this.#sleep(seconds * 1000, kind, method);
          continue;
        }
        const transient = isNetworkError(error) || (error instanceof TelegramError && error.code >= 500);
        if (transient && retries < this.#options.maxRetries) {
          const { first, cap } = this.#options.backoffMs;
          const delay = Math.min(cap, first * 2 ** retries) * (0.5 + this.#options.random() / 2);
          retries++;
          this.stats.retriedNetwork++;
          this.#logger.warn({ method, attempt: retries, delayMs: Math.round(delay), err: error }, 'Telegram call failed; retrying');
          await this.#sleep(delay, kind, method);
          continue;
        }
        this.stats.failed++;
        if (error instanceof TelegramError && !transient) throw permanentFailure(error);
        throw new TelegramSendError('gave_up', false, `${method} failed after ${retries} retries: ${(error as Error).message}`, error instanceof TelegramError ? error.code : undefined);
      }
    }
  }

  /** Chats quiet for a minute are forgotten, so a year of members does not fill memory. */
  #forgetIdleChats(): void {
    if (this.#chats.size < 10_000) return;
    const cutoff = this.#options.now() - 60_000;
    for (const [key, chat] of this.#chats) if (chat.pending === 0 && chat.window.idleSince < cutoff) this.#chats.delete(key);
  }
}
