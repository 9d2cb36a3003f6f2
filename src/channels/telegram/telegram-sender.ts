/**
 * Every call the bot makes to Telegram goes through here: Telegram's flood limits kept before
 * sending (about 30 messages a second overall; in one private chat a burst of ten, then two a
 * second, so a conversation never waits; 20 a minute in a group), a 429's retry_after waited out, network trouble and
 * Telegram's own 5xx retried with capped backoff, and permanent refusals (blocked, no such
 * chat, a bad request) reported once, never retried. telegraf has no such layer of its own.
 */
import { TelegramError } from 'telegraf';
import type { Logger } from '../../logger.ts';

export type SendFailure = 'blocked' | 'chat_not_found' | 'bad_request' | 'unauthorized' | 'gave_up';

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

export interface RateWindow {
  count: number;
  ms: number;
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
  /** Most 429s to wait out for one call before giving up. */
  max429?: number;
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

export class TelegramSender {
  readonly #call: CallApi;
  readonly #logger: Logger;
  readonly #global: Window;
  readonly #chats = new Map<string, { window: Window; queue: Promise<unknown>; pending: number }>();
  readonly #options: Required<Omit<TelegramSenderOptions, 'global' | 'privateChat' | 'groupChat'>> & {
    privateChat: RateWindow;
    groupChat: RateWindow;
  };
  /** Figures for logs and benchmarks. */
  readonly stats = { sent: 0, retried429: 0, retriedNetwork: 0, failed: 0 };

  constructor(call: CallApi, logger: Logger, options: TelegramSenderOptions = {}) {
    this.#call = call;
    this.#logger = logger;
    this.#global = new Window(options.global ?? { count: 30, ms: 1000 });
    this.#options = {
      privateChat: options.privateChat ?? { count: 10, ms: 5000 },
      groupChat: options.groupChat ?? { count: 20, ms: 60_000 },
      maxRetries: options.maxRetries ?? 5,
      max429: options.max429 ?? 10,
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
  send<T = unknown>(chatId: string | number, method: string, payload: Record<string, unknown>): Promise<T> {
    const key = String(chatId);
    let chat = this.#chats.get(key);
    if (!chat) {
      const rate = key.startsWith('-') ? this.#options.groupChat : this.#options.privateChat;
      chat = { window: new Window(rate), queue: Promise.resolve(), pending: 0 };
      this.#chats.set(key, chat);
    }
    const entry = chat;
    entry.pending++;
    const result = entry.queue.then(() => this.#sendNow(entry.window, method, { chat_id: chatId, ...payload }));
    entry.queue = result.then(
      () => void entry.pending--,
      () => void entry.pending--,
    );
    this.#forgetIdleChats();
    return result as Promise<T>;
  }

  /** A call that is not a message (answerCallbackQuery, setWebhook…): retried, not rate-limited. */
  async call<T = unknown>(method: string, payload: Record<string, unknown>): Promise<T> {
    return (await this.#withRetries(method, payload, async () => undefined, () => undefined)) as T;
  }

  async #sendNow(chat: Window, method: string, payload: Record<string, unknown>): Promise<unknown> {
    let slot: { at: number } | undefined;
    try {
      const result = await this.#withRetries(
        method,
        payload,
        async () => {
          if (slot) slot.at = this.#options.now(); // a failed try still counted for Telegram
          // Wait until both windows have room. A send still on its way counts as "now" until
          // it is answered, so the window never runs ahead of what Telegram has seen.
          for (;;) {
            const now = this.#options.now();
            const when = Math.max(chat.earliest(now), this.#global.earliest(now));
            if (when <= now) break;
            await this.#options.sleep(Number.isFinite(when) ? when - now : IN_FLIGHT_POLL_MS);
          }
          slot = { at: Number.POSITIVE_INFINITY };
          chat.add(slot);
          this.#global.add(slot);
        },
        (until) => chat.hold(until),
      );
      this.stats.sent++;
      return result;
    } finally {
      // Answered or refused, the send counts from now (an unanswered slot would block for ever).
      if (slot) slot.at = this.#options.now();
    }
  }

  async #withRetries(method: string, payload: Record<string, unknown>, beforeEach: () => Promise<void>, hold: (until: number) => void): Promise<unknown> {
    let retries = 0;
    let waits429 = 0;
    for (;;) {
      await beforeEach();
      try {
        return await this.#call(method, payload);
      } catch (error) {
        if (error instanceof TelegramError && error.code === 429) {
          const seconds = Number(error.parameters?.retry_after ?? 1);
          if (++waits429 > this.#options.max429) {
            this.stats.failed++;
            throw new TelegramSendError('gave_up', false, `Telegram kept answering 429 for ${method}`, 429);
          }
          this.stats.retried429++;
          const until = this.#options.now() + seconds * 1000;
          hold(until);
          this.#logger.warn({ method, retryAfter: seconds }, 'Telegram asked to slow down (429); waiting');
          await this.#options.sleep(seconds * 1000);
          continue;
        }
        const transient = isNetworkError(error) || (error instanceof TelegramError && error.code >= 500);
        if (transient && retries < this.#options.maxRetries) {
          const { first, cap } = this.#options.backoffMs;
          const delay = Math.min(cap, first * 2 ** retries) * (0.5 + this.#options.random() / 2);
          retries++;
          this.stats.retriedNetwork++;
          this.#logger.warn({ method, attempt: retries, delayMs: Math.round(delay), err: error }, 'Telegram call failed; retrying');
          await this.#options.sleep(delay);
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
