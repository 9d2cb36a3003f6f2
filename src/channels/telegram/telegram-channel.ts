/**
 * The Telegram channel: telegraf receives updates (long polling, or a webhook on the service's
 * own HTTP server), the conversation core answers, and every reply goes out through the
 * rate-limited sender. The adapter stays thin: parsing lives in telegram-updates.ts, rendering
 * in telegram-format.ts, flood control in telegram-sender.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Telegraf, TelegramError } from 'telegraf';
import type { ConversationEngine } from '../../core/engine.ts';
import type { Reply } from '../../core/message.ts';
import type { Logger } from '../../logger.ts';
import { renderReply, type OutgoingMessage } from './telegram-format.ts';
import { TelegramSendError, TelegramSender, type TelegramSenderOptions } from './telegram-sender.ts';
import { parseUpdate, ZWebhookUpdate, type ParsedUpdate } from './telegram-updates.ts';
import { readJsonBody, refuseRequest } from '../../http/json-body.ts';
import type { Update } from 'telegraf/types';

export class TelegramStartError extends Error {
  override name = 'TelegramStartError';
}

export interface TelegramChannelOptions {
  engine: ConversationEngine;
  logger: Logger;
  token: string;
  apiRoot: string;
  /** Webhook mode: Telegram posts updates to this URL, checked with this secret. */
  webhook?: { url: string; secret: string };
  sender?: TelegramSenderOptions;
  /** Waits between attempts to reach Telegram when it is unreachable at start (ms). */
  reconnectMs?: { first: number; cap: number };
}

const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
const COMMANDS = [
  { command: 'menu', description: 'Menu layanan' },
  { command: 'saldo', description: 'Cek simpanan' },
  { command: 'pinjaman', description: 'Cek pinjaman dan angsuran' },
  { command: 'rat', description: 'Jadwal Rapat Anggota Tahunan' },
  { command: 'bantuan', description: 'Bantuan' },
  { command: 'bahasa', description: 'Ganti bahasa / change language' },
];

/**
 * The largest webhook body read. An update the bot serves (a text of at most 4,096 characters,
 * a contact, a button press) is a few kilobytes; anything far larger is not from Telegram.
 */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;

/** Whether the request carries the webhook's secret token (compared in constant time). */
function hasSecret(req: IncomingMessage, secret: string): boolean {
  const given = req.headers['x-telegram-bot-api-secret-token'];
  if (typeof given !== 'string') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

/** A secret for Telegram's X-Telegram-Bot-Api-Secret-Token when none is configured. */
export function defaultWebhookSecret(token: string): string {
  return createHash('sha256').update(`kopbot-telegram-webhook:${token}`).digest('hex').slice(0, 48);
}

export class TelegramChannel {
  readonly bot: Telegraf;
  readonly sender: TelegramSender;
  readonly #engine: ConversationEngine;
  readonly #logger: Logger;
  readonly #options: TelegramChannelOptions;
  readonly #inFlight = new Set<Promise<void>>();
  /** Update ids seen lately: Telegram re-sends an update whose webhook answer was slow. */
  readonly #recentUpdates = new Set<number>();
  /** Set once Telegram has the webhook: updates posted before then are refused (503) and posted again. */
  #webhookReady = false;
  #webhookPath?: string;
  #polling?: Promise<void>;
  #stopped = false;
  #stopping?: Promise<void>;
  #wake?: () => void;

  constructor(options: TelegramChannelOptions) {
    this.#options = options;
    this.#engine = options.engine;
    this.#logger = options.logger.child({ channel: 'telegram' });
    // Replies never ride on the webhook's HTTP answer: every call goes through the sender.
    this.bot = new Telegraf(options.token, { telegram: { apiRoot: options.apiRoot, webhookReply: false } });
    this.sender = new TelegramSender((method, payload) => this.bot.telegram.callApi(method as never, payload as never), this.#logger, options.sender);
    // An update is handed to the core at once and not waited for: a chat held up by a 429 or a
    // group's pace must not hold up the next updates of everyone else. The core answers the
    // messages of one chat in order, and the sender sends each chat's replies in order.
    this.bot.use((ctx) => {
      this.#track(this.#onUpdate(ctx.update));
      return Promise.resolve();
    });
    this.bot.catch((error) => this.#logger.error({ err: error }, 'Telegram update failed'));
  }

  /**
   * Check the token, then start receiving. A token Telegram refuses stops start-up with one
   * sentence; a Telegram that cannot be reached is retried in the background, so the rest of
   * the service (and WhatsApp) keeps running meanwhile.
   */
  async start(): Promise<void> {
    try {
      await this.#connect();
    } catch (error) {
      if (error instanceof TelegramStartError) throw error;
      this.#logger.warn({ err: error, apiRoot: this.#options.apiRoot }, 'Telegram cannot be reached; retrying in the background');
      this.#polling = this.#retryConnect();
    }
  }

  async #connect(): Promise<void> {
    try {
      this.bot.botInfo = await this.bot.telegram.getMe();
    } catch (error) {
      if (error instanceof TelegramError && (error.code === 401 || error.code === 404)) {
        throw new TelegramStartError('TELEGRAM_BOT_TOKEN ditolak oleh server Telegram (token salah atau sudah dicabut); salin ulang token dari @BotFather.');
      }
      throw error;
    }
    // The command list is a convenience: not waited for, not retried (some Bot API servers lack it).
    this.bot.telegram.setMyCommands(COMMANDS).catch((error: unknown) => this.#logger.warn({ err: error }, 'bot commands not set'));
    const webhook = this.#options.webhook;
    if (webhook) {
      const url = new URL(webhook.url);
      this.#webhookPath = url.pathname;
      this.#webhookReady = true;
      try {
        await this.sender.call('setWebhook', { url: webhook.url, secret_token: webhook.secret, allowed_updates: ALLOWED_UPDATES });
      } catch (error) {
        if (error instanceof TelegramSendError && error.permanent) {
          throw new TelegramStartError(`Telegram menolak TELEGRAM_WEBHOOK_URL (${error.message}); webhook harus alamat https:// yang bisa dijangkau dari internet.`);
        }
        throw error;
      }
      this.#logger.info({ bot: this.bot.botInfo.username, webhook: webhook.url }, 'Telegram bot receiving by webhook');
      return;
    }
    this.#polling = this.#poll();
    this.#logger.info({ bot: this.bot.botInfo.username }, 'Telegram bot receiving by long polling');
  }

  async #retryConnect(): Promise<void> {
    const { first, cap } = this.#options.reconnectMs ?? { first: 2_000, cap: 300_000 };
    for (let attempt = 0; !this.#stopped; attempt++) {
      await this.#pause(Math.min(cap, first * 2 ** attempt) * (0.5 + Math.random() / 2));
      if (this.#stopped) return;
      try {
        await this.#connect(); // sets #polling to the polling loop, which stop() then waits for
        return;
      } catch (error) {
        if (error instanceof TelegramStartError) {
          this.#logger.fatal({ err: error }, 'the Telegram channel has stopped');
          return;
        }
        this.#logger.warn({ err: error, attempt: attempt + 1 }, 'Telegram still cannot be reached');
      }
    }
  }

  /** Long polling, restarted if Telegram ends it (another instance polling the same bot: 409). */
  async #poll(): Promise<void> {
    // A webhook left from an earlier run would make getUpdates fail. Removed once only: on a
    // later 409 it may be another instance's, and that one is left alone.
    await this.bot.telegram.deleteWebhook({ drop_pending_updates: false });
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        // startPolling sets up the loop before its first await, so stop() can always end it.
        await (this.bot as unknown as { startPolling(allowed: readonly string[]): Promise<void> }).startPolling(ALLOWED_UPDATES);
        return; // stopped on purpose
      } catch (error) {
        if (this.#stopped) return;
        if (error instanceof TelegramError && error.code === 401) {
          this.#logger.fatal({ err: error }, 'Telegram no longer accepts the bot token (revoked in @BotFather?); the Telegram channel has stopped');
          return;
        }
        const conflict = error instanceof TelegramError && error.code === 409;
        this.#logger.error(
          { err: error },
          conflict ? 'another program is receiving this bot\'s updates (a second instance, or a webhook); retrying' : 'Telegram polling stopped; restarting',
        );
        await this.#pause(Math.min(60_000, 5_000 * 2 ** Math.min(attempt, 4)));
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** True when this request is Telegram's webhook post (or a forgery of it): the channel answers it. */
  ownsRequest(req: IncomingMessage): boolean {
    return this.#webhookPath !== undefined && (req.url ?? '').split('?')[0] === this.#webhookPath;
  }

  /**
   * Answer a webhook request: 405 for anything but a POST, 403 without the right secret token,
   * 413 for a body over WEBHOOK_BODY_LIMIT, 400 for one that is not an update; 200 once the
   * update is handed to the core. Never rejects: whatever is posted, the service keeps running.
   */
  async handleWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const secret = this.#options.webhook?.secret;
    if (!this.#webhookReady || this.#stopped || secret === undefined) {
      // Telegram keeps the update and posts it again later.
      refuseRequest(req, res, 503);
      return;
    }
    if (req.method !== 'POST') return refuseRequest(req, res, 405);
    if (!hasSecret(req, secret)) return refuseRequest(req, res, 403);
    // Tracked from the first byte, so a shutdown waits for an update still being read.
    const work = this.#receive(req, res);
    this.#track(work);
    await work;
  }

  async #receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readJsonBody(req, ZWebhookUpdate, WEBHOOK_BODY_LIMIT);
      if (!body.ok) {
        this.#logger.warn({ status: body.status, reason: body.reason }, 'Telegram webhook request refused');
        refuseRequest(req, res, body.status);
        return;
      }
      await this.bot.handleUpdate(body.value as unknown as Update);
      res.writeHead(200).end();
    } catch (error) {
      this.#logger.error({ err: error }, 'Telegram webhook update failed');
      refuseRequest(req, res, 500);
    }
  }

  /** Stop receiving, then let the replies already being prepared or sent finish. */
  async stop(deadlineMs = 25_000): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopped = true;
    this.#wake?.();
    const polling = (this.bot as unknown as { polling?: unknown }).polling;
    if (polling) this.bot.stop('shutdown');
    this.#stopping = (async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), deadlineMs);
      });
      const drained = (async () => {
        await this.#polling?.catch(() => undefined);
        while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
        return 'done' as const;
      })();
      const outcome = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (outcome === 'late') this.#logger.warn({ unfinished: this.#inFlight.size }, 'Telegram replies still waiting at shutdown were given up');
      else this.#logger.info('Telegram channel stopped');
    })();
    return this.#stopping;
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    // Both ways: a failed piece of work must not become an unhandled rejection (that ends the process).
    const done = () => void this.#inFlight.delete(work);
    work.then(done, done);
  }

  async #onUpdate(raw: unknown): Promise<void> {
    const parsed = parseUpdate(raw, this.bot.botInfo?.username);
    if (!parsed) return;
    if (this.#recentUpdates.has(parsed.updateId)) return;
    this.#recentUpdates.add(parsed.updateId);
    if (this.#recentUpdates.size > 5_000) this.#recentUpdates.delete(this.#recentUpdates.values().next().value!);
    try {
      await this.#answer(parsed);
    } catch (error) {
      if (error instanceof TelegramSendError && error.permanent) {
        // Blocked by the member, or the chat is gone: nothing to retry.
        this.#logger.warn({ reason: error.reason, chatId: parsed.message.chatId }, 'reply not delivered');
        return;
      }
      this.#logger.error({ err: error, chatId: parsed.message.chatId }, 'reply not delivered');
    }
  }

  async #answer(parsed: ParsedUpdate): Promise<void> {
    const { message, callback } = parsed;
    const chatId = message.chatId;
    // Handed to the core before anything is awaited, so messages keep the order they came in.
    const answered = this.#engine.handle(message);
    const chores: Promise<unknown>[] = [];
    if (callback) {
      // Stop the button's spinner at once; the answer follows as a message.
      chores.push(this.sender.call('answerCallbackQuery', { callback_query_id: callback.id }));
      if (callback.messageId !== undefined && message.button && message.button.menu !== 'main') {
        // A question's buttons are used once: take them off, so an old one cannot be pressed later.
        chores.push(this.sender.send(chatId, 'editMessageReplyMarkup', { message_id: callback.messageId, reply_markup: { inline_keyboard: [] } }));
      }
    }
    const batch = await answered;
    // All pieces are queued at once: another reply to this chat cannot slip in between them.
    const sends = this.#render(batch.replies, parsed, batch.language).map((piece) => this.sender.send(chatId, 'sendMessage', piece));
    for (const chore of chores) await chore.catch((error: unknown) => this.#logger.debug({ err: error }, 'button housekeeping failed'));
    let failure: unknown;
    for (const send of sends) await send.catch((error: unknown) => (failure ??= error));
    if (failure) throw failure;
  }

  #render(replies: Reply[], parsed: ParsedUpdate, language: 'id' | 'en'): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    for (const reply of replies) out.push(...renderReply(reply, { removeKeyboard: reply.removeKeyboard === true }));
    if (parsed.message.chatType === 'group' && out.length > 0) {
      // In a group only the pointer goes out, as a reply to the request, with a button that opens
      // the private chat.
      const first = out[0]!;
      first.reply_parameters = { message_id: parsed.replyTo, allow_sending_without_reply: true };
      const label = this.#engine.message(language, 'group.open_private');
      const username = this.bot.botInfo?.username;
      if (username && label) first.reply_markup = { inline_keyboard: [[{ text: label, url: `https://t.me/${username}?start=menu` }]] };
    }
    return out;
  }
}

