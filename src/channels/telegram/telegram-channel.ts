/**
 * The Telegram channel: updates come by long polling (getUpdates driven here) or by a webhook
 * on the service's own HTTP server, each goes to its chat's lane and the conversation core
 * (posted ones through telegraf's middleware, polled ones straight from the poll loop), and
 * every reply goes out through the rate-limited sender. The adapter stays thin: parsing lives in
 * telegram-updates.ts, rendering in telegram-format.ts, flood control in telegram-sender.ts,
 * per-chat bounds in chat-lanes.ts, what may be confirmed to Telegram in update-ledger.ts,
 * getUpdates itself in update-poll.ts.
 *
 * Stop means stop: fetching ends at once; Telegram is told only of the updates that were
 * answered (telegraf's own polling confirms updates as soon as it fetches them, which lost
 * what a shutdown cut short); the replies under way finish within the deadline, what waits is
 * cancelled and delivered again after the restart. A message whose turn the core had taken by
 * then is not delivered again but parked with the replies still to send, which the restarted
 * service sends instead of taking the turn twice; only a reply already on its way to Telegram
 * at the deadline (no answer yet) can reach the member twice.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Telegraf, TelegramError } from 'telegraf';
import type { Catalogue } from '../../core/catalogue.ts';
import type { ConversationEngine } from '../../core/engine.ts';
import type { InboundMessage, Reply } from '../../core/message.ts';
import type { Logger } from '../../logger.ts';
import { renderReply, type OutgoingMessage } from './telegram-format.ts';
import { TelegramSendError, TelegramSender, type TelegramSenderOptions } from './telegram-sender.ts';
import { parseUpdate, ZWebhookUpdate, type ParsedUpdate } from './telegram-updates.ts';
import { readJsonBody, refuseRequest } from '../../http/json-body.ts';
import type { Update } from 'telegraf/types';
import { ChatLanes, type LaneOutcome } from './chat-lanes.ts';
import { botKeyOf, PARKED_RENEW_MS, type DecidedReplies, type TelegramStore } from '../../persistence/telegram-store.ts';
import { UpdateLedger } from './update-ledger.ts';
import { UpdatePoller } from './update-poll.ts';
import type { InstanceLock } from '../../persistence/instance-lock.ts';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Telegram's limit for a document's caption is 1,024 characters after entities are parsed; a margin. */
const CAPTION_LIMIT = 1000;
/** A received file is read up to this many bytes (one more than a RAT document may have): the rest is not fetched. */
const MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024 + 1;

/**
 * A file from the Bot API (its /file/ URL, or a path on disk from a local Bot API server), read
 * up to `max` bytes: a file that turns out bigger than it said is cut there, not read whole.
 */
async function downloadCapped(link: URL, max: number): Promise<Buffer> {
  if (link.protocol === 'file:') {
    const path = fileURLToPath(link);
    if ((await stat(path)).size > max) return Buffer.alloc(max);
    return readFile(path);
  }
  const response = await fetch(link);
  if (!response.ok || !response.body) throw new Error(`Telegram file download failed: HTTP ${response.status}`);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk));
    length += chunk.length;
    if (length >= max) break;
  }
  return Buffer.concat(chunks).subarray(0, max);
}

/** A turn taken for an update, and which of its replies Telegram has answered for (sent, or refused for good). */
interface DecidedTurn {
  update?: Update;
  replies: OutgoingMessage[];
  done: boolean[];
  /** When the turn was taken (ms). */
  at: number;
}

/**
 * A reply decided before a stop is sent after the restart as it was only this soon after: a
 * balance decided an hour ago is not the books' figure now, and the account may have changed
 * hands since (a proof of the phone lasts 15 minutes). Later, the member is asked to send again.
 */
const DECIDED_FRESH_MS = 15 * 60_000;

export class TelegramStartError extends Error {
  override name = 'TelegramStartError';
}

export interface TelegramChannelOptions {
  engine: ConversationEngine;
  /** The texts the channel says by itself (slow down, reply expired, the group's button). */
  catalogue: Catalogue;
  logger: Logger;
  token: string;
  apiRoot: string;
  /** Webhook mode: Telegram posts updates to this URL, checked with this secret. */
  webhook?: { url: string; secret: string };
  /**
   * Long polling: held while this process polls. With several instances on one database one
   * polls (Telegram answers a second getUpdates with 409) and the others take over when it
   * dies; every instance still sends and answers webhook posts. None: poll at once.
   */
  pollLock?: InstanceLock;
  sender?: TelegramSenderOptions;
  /** Waits between attempts to reach Telegram when it is unreachable at start (ms). */
  reconnectMs?: { first: number; cap: number };
  /**
   * The database side of the channel: the send budget shared with the bot's other processes,
   * and the updates answered at shutdown beyond what Telegram could be told.
   */
  store?: TelegramStore;
  /** Messages of one chat that may wait behind the one being answered (default 5). */
  maxWaitingPerChat?: number;
  /** A flooding chat's messages are dropped until it has been quiet this long (ms, default 10 s). */
  floodQuietMs?: number;
  /** How long a shutdown lets the replies under way finish (ms, default 5 s). */
  stopDeadlineMs?: number;
  /** Webhook: how long a post waits for its answer before the update is parked and the post answered (ms, default 2 s). */
  webhookHoldMs?: number;
  /** getUpdates' long-poll timeout (seconds, default 25). */
  pollTimeoutSeconds?: number;
  /** An update still waiting this long, with Telegram's next 100 all fetched, is parked in the database (ms, default 3 s). */
  parkAfterMs?: number;
  /**
   * This instance, as the owner of the updates it parks: the same across its restarts
   * (host:port), so a restarted instance answers what it parked before it died. Default
   * host:pid.
   */
  instanceId?: string;
  now?: () => number;
}

/** The chat an update comes from, read cheaply (parseUpdate checks it properly later). */
function chatOf(update: Record<string, unknown>): string | undefined {
  const message = (update.message ?? (update.callback_query as { message?: unknown } | undefined)?.message) as { chat?: { id?: unknown } } | undefined;
  const id = message?.chat?.id;
  return typeof id === 'number' ? String(id) : undefined;
}
/** Updates fetched at once (Telegram's maximum). */
const POLL_LIMIT = 100;
/** With this few of the next updates still waiting, they are parked rather than waited for. */
const PARK_ALL_BELOW = 10;

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
  readonly #catalogue: Catalogue;
  readonly #logger: Logger;
  readonly #options: TelegramChannelOptions;
  readonly #inFlight = new Set<Promise<void>>();
  /** Update ids seen lately: Telegram re-sends an update whose webhook answer was slow. */
  readonly #recentUpdates = new Set<number>();
  readonly #lanes: ChatLanes<ParsedUpdate>;
  readonly #ledger = new UpdateLedger();
  /** How each update handed to telegraf ended, picked up by whoever handed it over. */
  readonly #outcomes = new Map<number, Promise<LaneOutcome>>();
  /** How the latest updates ended, and who waits to know (see whenSettled). */
  readonly #settled = new Map<number, LaneOutcome>();
  readonly #settledWaiters = new Map<number, ((outcome: LaneOutcome) => void)[]>();
  /** Answered before the last shutdown (or parked then), still to come again from Telegram: skipped. */
  #answeredBefore = new Set<number>();
  /** Updates being answered (polled or posted), by id, with when they came, in case they must be parked. */
  readonly #raw = new Map<number, { update: Update; at: number }>();
  /**
   * Turns the core has taken whose replies have not all gone out yet, by update id, each piece
   * marked once Telegram has answered for it. A stop parks these with what is still to send
   * rather than let Telegram deliver the update again: that would take the turn a second time
   * (a question's answer given to the question, a complaint filed twice).
   */
  readonly #decided = new Map<number, DecidedTurn>();
  /** Parked updates whose turn was taken before the restart: the replies to send instead of taking it again. */
  readonly #resend = new Map<number, { replies: OutgoingMessage[]; at: number }>();
  /** Webhook: the timer that renews this instance's parked rows and takes on those nobody renews. */
  #renewTimer?: NodeJS.Timeout;
  #saving?: Promise<void>;
  #saveAgain = false;
  /** The stop has saved the poll state for the next run: work still ending after it must not overwrite that. */
  #finalSaved = false;
  /**
   * This instance read the poll state (it polls, or takes webhook posts) and so may write it.
   * One standing by for the poll lock never does: its empty state would wipe what the
   * instance before it parked.
   */
  #pollStateRead = false;
  /** Updates kept in the database while they wait, so Telegram could be told past them. */
  readonly #parked = new Map<number, Update>();
  readonly #abortPoll = new AbortController();
  readonly #poller: UpdatePoller;
  #progress?: () => void;
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
    this.#catalogue = options.catalogue;
    this.#logger = options.logger.child({ channel: 'telegram' });
    // Replies never ride on the webhook's HTTP answer: every call goes through the sender.
    this.bot = new Telegraf(options.token, { telegram: { apiRoot: options.apiRoot, webhookReply: false } });
    this.#poller = new UpdatePoller(options.token, options.apiRoot);
    const budget = options.store?.budget(botKeyOf(options.token), options.sender?.global ? { window: options.sender.global } : {});
    this.sender = new TelegramSender((method, payload) => this.bot.telegram.callApi(method as never, payload as never), this.#logger, {
      ...(budget ? { budget } : {}),
      ...options.sender,
    });
    this.#lanes = new ChatLanes<ParsedUpdate>(
      (parsed) => this.#answerOne(parsed),
      (chatId) => this.#slowDown(chatId),
      { maxWaiting: options.maxWaitingPerChat ?? 5, floodQuietMs: options.floodQuietMs ?? 10_000, now: options.now ?? Date.now },
    );
    // An update is handed to its chat's lane at once and not waited for: a chat held up by a
    // 429 or a group's pace must not hold up the next updates of everyone else. Each lane
    // answers its chat's messages in order, and the sender sends each chat's replies in order.
    this.bot.use((ctx) => {
      const updateId = ctx.update.update_id;
      const outcome = this.#onUpdate(ctx.update);
      this.#outcomes.set(updateId, outcome);
      this.#track(outcome.then((how) => this.#settle(updateId, how)));
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
      await this.#resumeParked();
      this.#renewTimer = setInterval(() => {
        this.renewParked().catch((error: unknown) => this.#logger.warn({ err: error }, 'parked Telegram updates not renewed'));
      }, PARKED_RENEW_MS);
      this.#renewTimer.unref();
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
    const lock = this.#options.pollLock;
    this.#polling = lock ? this.#pollWhileHeld(lock) : this.#poll();
    this.#logger.info({ bot: this.bot.botInfo.username }, lock ? 'Telegram bot receiving by long polling while this instance holds the poll lock' : 'Telegram bot receiving by long polling');
  }

  /** Poll while this process holds the lock; wait to take it over while another instance does. */
  async #pollWhileHeld(lock: InstanceLock): Promise<void> {
    while (!this.#stopped) {
      if (!(await lock.acquire()) || this.#stopped) return;
      const lost = new AbortController();
      const unsubscribe = lock.onLost(() => {
        this.#logger.warn('Telegram poll lock lost: this instance stops polling and waits to take it again');
        lost.abort();
        this.#wake?.();
        this.#progress?.();
      });
      try {
        await this.#poll(lost.signal);
      } finally {
        unsubscribe();
      }
    }
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

  /**
   * Long polling, driven here rather than by telegraf (whose loop confirms updates as soon as
   * it has fetched them): each getUpdates confirms only the updates before the oldest one not
   * answered yet. Restarted if Telegram ends it (another instance polling the same bot: 409).
   */
  async #poll(lost?: AbortSignal): Promise<void> {
    // A webhook left from an earlier run would make getUpdates fail. Removed once only: on a
    // later 409 it may be another instance's, and that one is left alone.
    await this.bot.telegram.deleteWebhook({ drop_pending_updates: false });
    await this.#resumeParked();
    let idleMs = 10;
    const abort = lost ? AbortSignal.any([this.#abortPoll.signal, lost]) : this.#abortPoll.signal;
    for (let attempt = 0; !this.#stopped && !lost?.aborted; ) {
      // With updates still being answered, Telegram hands the same ones back at once: then only
      // news is looked for (no long poll), and not before some answer is done or a while passed.
      const waiting = this.#ledger.unfinished > 0;
      let fresh = 0;
      let fetched = 0;
      try {
        const offset = this.#ledger.offset;
        const updates = await this.#poller.fetch(
          { ...(offset !== undefined ? { offset } : {}), limit: POLL_LIMIT, timeout: waiting ? 0 : (this.#options.pollTimeoutSeconds ?? 25), allowed_updates: ALLOWED_UPDATES },
          abort,
        );
        attempt = 0;
        fetched = updates.length;
        for (const update of updates) {
          if (this.#stopped) break;
          if (this.#ledger.knows(update.update_id)) continue;
          fresh++;
          // A flooding chat's message is dropped here, before telegraf or the core spend anything
          // on it, and costs the ledger nothing while no earlier update is still being answered.
          const chat = chatOf(update);
          if (this.#answeredBefore.delete(update.update_id) || (chat !== undefined && this.#lanes.dropIfFlooding(chat))) {
            this.#ledger.skip(update.update_id);
            continue;
          }
          this.#ledger.add(update.update_id);
          this.#raw.set(update.update_id, { update: update as unknown as Update, at: this.#now() });
          this.#track(this.#handlePolled(update as unknown as Update));
        }
        // All of the next updates Telegram will hand over are being answered, and the oldest
        // still waits (a reply held by a 429): park the waiting ones in the database, so
        // Telegram can be told past them and the updates after them come in.
        if (fresh === 0 && fetched >= POLL_LIMIT && this.#ledger.unfinished > 0 && !this.#stopped && (await this.#park())) continue;
      } catch (error) {
        if (this.#stopped || lost?.aborted) return;
        if (error instanceof TelegramError && error.code === 401) {
          this.#logger.fatal({ err: error }, 'Telegram no longer accepts the bot token (revoked in @BotFather?); the Telegram channel has stopped');
          return;
        }
        const conflict = error instanceof TelegramError && error.code === 409;
        this.#logger.error(
          { err: error },
          conflict ? 'another program is receiving this bot\'s updates (a second instance, or a webhook); retrying' : 'Telegram polling failed; retrying',
        );
        await this.#pause(Math.min(60_000, 1_000 * 2 ** Math.min(attempt, 6)));
        attempt++;
        continue;
      }
      if (fresh > 0 || this.#ledger.unfinished === 0) {
        idleMs = 10;
        continue;
      }
      // Only updates already being answered came back: wait for one of them to finish (then
      // the offset moves), or look again for news a little later, less often while none come.
      await this.#nextProgress(fetched >= POLL_LIMIT ? 1_000 : idleMs);
      idleMs = Math.min(1_000, idleMs * 2);
    }
  }

  /**
   * What the last run left: updates answered that Telegram may deliver again (skipped), and
   * updates parked while they waited, answered now.
   */
  async #resumeParked(): Promise<void> {
    // Long polling: one instance at a time parks, and the one polling now takes on all of it.
    // A webhook: every instance parks; each takes on its own from before and what nobody answers.
    const saved = await this.#options.store?.pollState(botKeyOf(this.#options.token), { owner: this.#instanceId, all: !this.#options.webhook });
    if (!saved) return;
    this.#pollStateRead = true;
    for (const id of saved.answeredAhead) this.#answeredBefore.add(id);
    this.#takeOn(saved.parked, saved.decided);
  }

  /**
   * Answer parked updates taken on from the database, those whose turn was taken with the replies
   * decided then. One this instance already holds (its own row, claimed again when it took the
   * poll lock back, or renewed) is left to the copy under way.
   */
  #takeOn(parked: readonly { update_id: number }[], decided: readonly DecidedReplies[]): void {
    const held = (id: number) => this.#parked.has(id) || this.#raw.has(id) || this.#decided.has(id);
    const fresh = parked.filter((update) => !held(update.update_id));
    if (fresh.length === 0) return;
    const ids = new Set(fresh.map((update) => update.update_id));
    for (const turn of decided) if (ids.has(turn.update_id)) this.#resend.set(turn.update_id, { replies: turn.replies as OutgoingMessage[], at: turn.at });
    this.#logger.info({ updates: fresh.length, decided: decided.filter((turn) => ids.has(turn.update_id)).length }, 'Telegram updates parked before the restart are answered now (those whose turn was taken then, with the replies decided then)');
    for (const update of fresh) {
      this.#answeredBefore.add(update.update_id);
      this.#parked.set(update.update_id, update as unknown as Update);
      this.#track(this.#handlePolled(update as unknown as Update));
    }
  }

  /**
   * Webhook: every instance parks. Claiming again renews this instance's rows (a live owner's are
   * never taken on by another) and takes on those nobody renews: left at a stop while this one
   * ran, or left by an instance that died.
   */
  async renewParked(): Promise<void> {
    if (this.#stopped || !this.#pollStateRead) return;
    const saved = await this.#options.store?.pollState(botKeyOf(this.#options.token), { owner: this.#instanceId, all: false }, new Date(this.#now()));
    if (saved && !this.#stopped) this.#takeOn(saved.parked, saved.decided);
  }

  /**
   * Hand a polled update to its chat's lane; once it has ended (not cancelled), it may be
   * confirmed. Straight to the lane, not through telegraf's middleware (which only passes the
   * update on), and before this returns: the lane sees a chat flooding within the batch that
   * floods, so the rest of the batch is dropped in the poll loop at no cost.
   */
  async #handlePolled(update: Update): Promise<void> {
    const updateId = update.update_id;
    const outcome = this.#onUpdate(update);
    this.#track(outcome.then((how) => this.#settle(updateId, how)));
    const ended = (await outcome.catch((error: unknown) => {
      this.#logger.error({ err: error }, 'Telegram update failed');
      return 'answered' as const;
    })) !== 'cancelled';
    this.#raw.delete(update.update_id);
    if (this.#parked.has(update.update_id)) {
      if (ended) {
        this.#unpark(update.update_id);
        this.#saveSoon();
      }
    } else if (ended) this.#ledger.finish(update.update_id);
    this.#progress?.();
  }

  /**
   * Waiting updates into the database; then they count as finished for the offset. When only a
   * few of the next 100 still wait (replies under way while a flood is being dropped), all of
   * them: a handful must not hold up everything behind it. Otherwise only those waiting
   * `parkAfterMs` and more (a reply held by a 429): a backlog answered at Telegram's pace moves
   * on by itself, and parking it would only cost writes.
   */
  async #park(): Promise<boolean> {
    const unfinished = this.#ledger.unfinishedIds().filter((id) => this.#raw.has(id));
    const oldEnough = this.#now() - (this.#options.parkAfterMs ?? 3_000);
    const ids = unfinished.length <= PARK_ALL_BELOW ? unfinished : unfinished.filter((id) => this.#raw.get(id)!.at <= oldEnough);
    if (ids.length === 0) return false;
    for (const id of ids) this.#parked.set(id, this.#raw.get(id)!.update);
    try {
      await this.#savePollState();
    } catch (error) {
      for (const id of ids) this.#parked.delete(id);
      this.#logger.warn({ err: error }, 'waiting Telegram updates could not be parked; polling waits for them');
      return false;
    }
    for (const id of ids) this.#ledger.finish(id);
    const stuck = ids.some((id) => this.#raw.get(id)!.at <= oldEnough);
    this.#logger[stuck ? 'info' : 'debug']({ updates: ids.length }, 'Telegram updates still waiting parked in the database; the next ones come in meanwhile');
    return true;
  }

  /** Save the poll state after this change (changes made meanwhile are saved together). */
  #saveSoon(): void {
    if (this.#finalSaved) return;
    if (this.#saving) {
      this.#saveAgain = true;
      return;
    }
    this.#saving = (async () => {
      do {
        this.#saveAgain = false;
        await this.#savePollState().catch((error: unknown) => this.#logger.warn({ err: error }, 'Telegram poll state not saved'));
      } while (this.#saveAgain);
      this.#saving = undefined;
    })();
  }

  get #instanceId(): string {
    return this.#options.instanceId ?? `${hostname()}:${process.pid}`;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  async #savePollState(answeredAhead: readonly number[] = [...this.#answeredBefore], final = false): Promise<void> {
    if (this.#finalSaved && !final) throw new Error('the Telegram channel has stopped: its poll state is saved for the next run');
    if (!this.#pollStateRead) return;
    await this.#options.store?.savePollState(
      botKeyOf(this.#options.token),
      {
        answeredAhead: [...answeredAhead],
        parked: [...this.#parked.values()] as unknown as { update_id: number }[],
        decided: this.#decidedOfParked(),
      },
      // At the stop, what is still parked is left to whichever instance starts next.
      { owner: this.#instanceId, release: final },
    );
  }

  /**
   * For the parked updates whose turn was taken (their reply waits on a 429, or the stop cut it
   * short), the replies still to send: a restart sends these and does not take the turn again.
   */
  #decidedOfParked(): DecidedReplies[] {
    const out: DecidedReplies[] = [];
    for (const id of this.#parked.keys()) {
      const turn = this.#decided.get(id);
      const left = turn ? { replies: turn.replies.filter((_, i) => !turn.done[i]), at: turn.at } : this.#resend.get(id);
      if (left) out.push({ update_id: id, replies: left.replies as unknown as Record<string, unknown>[], at: left.at });
    }
    return out;
  }

  /** A parked update has been answered: it leaves the database with the next save. */
  #unpark(updateId: number): boolean {
    this.#resend.delete(updateId);
    return this.#parked.delete(updateId);
  }

  /** Resolves when an update finishes, or after `ms`, or when the channel stops. */
  #nextProgress(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#progress === done) this.#progress = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#progress = done;
    });
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
      const id = body.value.update_id;
      // Answered before a restart, or parked and being answered: Telegram need not post it again.
      if (this.#answeredBefore.delete(id) || this.#parked.has(id)) {
        res.writeHead(200).end();
        return;
      }
      const update = body.value as unknown as Update;
      this.#raw.set(id, { update, at: this.#now() });
      await this.bot.handleUpdate(update);
      const outcome = this.#outcomes.get(id) ?? Promise.resolve<LaneOutcome>('answered');
      this.#outcomes.delete(id);
      void outcome.then(() => this.#raw.delete(id));
      // Telegram is told (200) once the update is answered or dropped, or parked in the database
      // when its reply waits longer (a 429): a shutdown then loses nothing Telegram handed over.
      let timer: NodeJS.Timeout | undefined;
      const held = new Promise<'held'>((resolve) => {
        timer = setTimeout(() => resolve('held'), this.#options.webhookHoldMs ?? 2_000);
      });
      let ended = await Promise.race([outcome, held]);
      clearTimeout(timer);
      if (ended === 'held') {
        this.#parked.set(id, update);
        try {
          await this.#savePollState();
          void outcome.then((last) => {
            if (last === 'cancelled' || !this.#unpark(id)) return;
            this.#saveSoon();
          });
        } catch (error) {
          this.#parked.delete(id);
          this.#logger.warn({ err: error }, 'a waiting Telegram update could not be parked; the webhook answer waits for it');
          ended = await outcome;
        }
      }
      if (ended === 'cancelled') {
        refuseRequest(req, res, 503); // stopping: Telegram posts it again after the restart
        return;
      }
      res.writeHead(200).end();
    } catch (error) {
      this.#logger.error({ err: error }, 'Telegram webhook update failed');
      refuseRequest(req, res, 500);
    }
  }

  /**
   * Stop: no more fetching, no more outbox sends, the updates waiting in chats' lanes cancelled;
   * the replies under way get until the deadline, then whatever still waits (a slot, a 429) is
   * cancelled too. Last, Telegram is told which updates were answered, and those answered after
   * one that was not are remembered, so after the restart Telegram's redelivery skips them.
   */
  async stop(deadlineMs = this.#options.stopDeadlineMs ?? 5_000): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopped = true;
    clearInterval(this.#renewTimer);
    this.#wake?.();
    this.#progress?.();
    this.#abortPoll.abort();
    // Waiting to take the poll lock: stop waiting (a held lock goes once the answers are confirmed).
    if (this.#options.pollLock && !this.#options.pollLock.held) void this.#options.pollLock.release();
    this.sender.cancel('outbox');
    this.#lanes.cancelWaiting();
    this.#stopping = (async () => {
      const settled = async () => {
        await this.#polling?.catch(() => undefined);
        while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
        return 'done' as const;
      };
      const late = await this.#within(settled(), deadlineMs);
      if (late) {
        this.#logger.warn({ unfinished: this.#inFlight.size }, 'Telegram replies still waiting at shutdown were cancelled; Telegram delivers their messages again after the restart');
        this.sender.close();
        // Calls already on their way get a moment to be answered.
        await this.#within(settled(), 1_000);
      }
      await this.#confirmAnswered();
      // Only now: the next instance to poll starts past what this one answered.
      await this.#options.pollLock?.release();
      this.#poller.close();
      this.#logger.info('Telegram channel stopped');
    })();
    return this.#stopping;
  }

  /** True when `work` did not end within `ms`. */
  async #within(work: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ms);
    });
    const outcome = await Promise.race([work.then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    return outcome === 'late';
  }

  /**
   * Confirm the answered updates to Telegram (getUpdates with the offset) and remember those
   * beyond it. Updates whose turn was taken and whose replies did not all go out are parked
   * with the replies still to send, so the restarted service sends exactly those. A piece whose
   * request was on its way at the deadline, with no answer from Telegram yet, is among them:
   * it may reach the member twice, the only duplicate a stop can cause.
   */
  async #confirmAnswered(): Promise<void> {
    await this.#parkDecided();
    await this.#saving;
    this.#finalSaved = true;
    const offset = this.#ledger.offset;
    if (!this.#options.webhook && offset !== undefined && this.bot.botInfo) {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 1_500);
      try {
        await this.bot.telegram.callApi('getUpdates', { offset, limit: 1, timeout: 0, allowed_updates: ALLOWED_UPDATES }, { signal: abort.signal as never });
      } catch (error) {
        this.#logger.warn({ err: error, offset }, 'Telegram not told which updates were answered; they may be answered again after the restart');
      } finally {
        clearTimeout(timer);
      }
    }
    const ahead = [...this.#ledger.finishedAhead().filter((id) => !this.#parked.has(id)), ...this.#answeredBefore];
    try {
      await this.#savePollState(ahead, true);
    } catch (error) {
      this.#logger.warn({ err: error, updates: ahead.length }, 'answered updates not remembered; they may be answered again after the restart');
    }
    this.#logger.info({ offset, answeredAhead: ahead.length, cancelled: this.#ledger.unfinished, parked: this.#parked.size, decided: this.#decidedOfParked().length }, 'Telegram told which updates were answered');
  }

  /**
   * The turns taken whose replies did not all go out, parked with the replies still to send:
   * in the database before Telegram is told past them (a failed write leaves them to
   * Telegram's redelivery instead). Turns whose replies all went out count as answered.
   */
  async #parkDecided(): Promise<void> {
    const parking: number[] = [];
    for (const [id, turn] of this.#decided) {
      if (turn.done.every(Boolean)) {
        // Every reply went out (only housekeeping was cut short): answered.
        if (!this.#unpark(id)) this.#ledger.finish(id);
      } else if (turn.update && this.#options.store && !this.#parked.has(id)) {
        this.#parked.set(id, turn.update);
        parking.push(id);
      }
    }
    // Those parked earlier (a 429) get their replies still to send with the last save.
    if (parking.length === 0) return;
    await this.#saving;
    try {
      await this.#savePollState();
    } catch (error) {
      for (const id of parking) this.#parked.delete(id);
      this.#logger.warn({ err: error, updates: parking.length }, 'replies decided at shutdown not parked; Telegram delivers their messages again after the restart');
      return;
    }
    for (const id of parking) this.#ledger.finish(id);
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    // Both ways: a failed piece of work must not become an unhandled rejection (that ends the process).
    const done = () => void this.#inFlight.delete(work);
    work.then(done, done);
  }

  /**
   * Resolves once the update with this id has been received and its chat's lane is done with it
   * (answered, dropped in a flood, or cancelled at a stop), its replies sent. Lets a caller
   * await the event instead of guessing from silence how long a reply in several parts takes.
   */
  whenSettled(updateId: number): Promise<LaneOutcome> {
    const known = this.#settled.get(updateId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const waiters = this.#settledWaiters.get(updateId) ?? [];
      waiters.push(resolve);
      this.#settledWaiters.set(updateId, waiters);
    });
  }

  #settle(updateId: number, outcome: LaneOutcome): void {
    this.#settled.set(updateId, outcome);
    if (this.#settled.size > 1_000) this.#settled.delete(this.#settled.keys().next().value!);
    for (const resolve of this.#settledWaiters.get(updateId) ?? []) resolve(outcome);
    this.#settledWaiters.delete(updateId);
  }

  /** Parse an update and hand it to its chat's lane; resolves with how it ended. */
  async #onUpdate(raw: unknown): Promise<LaneOutcome> {
    const parsed = parseUpdate(raw, this.bot.botInfo?.username);
    if (!parsed) return 'answered';
    if (this.#recentUpdates.has(parsed.updateId)) return 'answered';
    this.#recentUpdates.add(parsed.updateId);
    if (this.#recentUpdates.size > 5_000) this.#recentUpdates.delete(this.#recentUpdates.values().next().value!);
    return this.#lanes.accept(parsed.message.chatId, parsed);
  }

  async #answerOne(parsed: ParsedUpdate): Promise<LaneOutcome> {
    try {
      await this.#answer(parsed);
    } catch (error) {
      if (error instanceof TelegramSendError && error.reason === 'cancelled') return 'cancelled';
      if (error instanceof TelegramSendError && error.permanent) {
        // Blocked by the member, or the chat is gone: nothing to retry.
        this.#logger.warn({ reason: error.reason, chatId: parsed.message.chatId }, 'reply not delivered');
        return 'answered';
      }
      this.#logger.error({ err: error, chatId: parsed.message.chatId }, 'reply not delivered');
    }
    return 'answered';
  }

  /** A chat that floods gets one notice; what it sends meanwhile is dropped. */
  #slowDown(chatId: string): void {
    this.#logger.warn({ chatId }, 'a chat is sending faster than it can be answered; its excess messages are dropped');
    this.#track(
      this.sender
        .send(chatId, 'sendMessage', { text: this.#catalogue.text('id', 'chat.slow_down') })
        .then(() => undefined)
        .catch((error: unknown) => this.#logger.warn({ err: error, chatId }, 'slow-down notice not delivered')),
    );
  }

  async #answer(parsed: ParsedUpdate): Promise<void> {
    const { message, callback, updateId } = parsed;
    const chatId = message.chatId;
    const chores: Promise<unknown>[] = [];
    // Taken before the restart: its replies as decided then, not a second turn; decided long
    // ago, a request to send it again instead (figures and proofs do not keep).
    const resend = this.#resend.get(updateId);
    const decidedAt = resend?.at ?? this.#now();
    let replies = resend && this.#now() - resend.at <= DECIDED_FRESH_MS ? resend.replies : undefined;
    if (resend && !replies) {
      this.#logger.info({ updateId, decidedMinutesAgo: Math.round((this.#now() - resend.at) / 60_000) }, 'a reply decided long before the restart is not sent; the member is asked to send again');
      replies = renderReply({ text: this.#catalogue.text('id', 'chat.reply_expired') }, { removeKeyboard: false });
    }
    if (!replies) {
      // Handed to the core before anything is awaited, so messages keep the order they came in.
      const answered = this.#engine.handle(parsed.file ? { ...message, document: this.#inboundDocument(parsed.file) } : message);
      if (callback) {
        // Stop the button's spinner at once; the answer follows as a message.
        chores.push(this.sender.call('answerCallbackQuery', { callback_query_id: callback.id }));
        if (callback.messageId !== undefined && message.button && message.button.menu !== 'main') {
          // A question's buttons are used once: take them off, so an old one cannot be pressed later.
          chores.push(this.sender.send(chatId, 'editMessageReplyMarkup', { message_id: callback.messageId, reply_markup: { inline_keyboard: [] } }));
        }
      }
      const batch = await answered;
      replies = this.#render(batch.replies, parsed, batch.language);
    }
    // The turn is taken (the session saved): from here a stop parks what is not sent yet.
    const raw = this.#raw.get(updateId)?.update ?? this.#parked.get(updateId);
    const turn: DecidedTurn = { ...(raw ? { update: raw } : {}), replies, done: replies.map(() => false), at: decidedAt };
    this.#decided.set(updateId, turn);
    // Already parked (its reply waited on a 429): the database learns the turn was taken, so a
    // crash from here on sends these replies after the restart instead of taking the turn again.
    if (this.#parked.has(updateId)) this.#saveSoon();
    // All pieces are queued at once: another reply to this chat cannot slip in between them.
    const sends = replies.map((piece, i) =>
      (piece.document ? this.#sendDocument(chatId, piece) : this.sender.send(chatId, 'sendMessage', piece)).then(
        () => void (turn.done[i] = true),
        (error: unknown) => {
          // Cancelled (the stop's deadline): still to send. Anything else was Telegram's last word.
          if (!(error instanceof TelegramSendError && error.reason === 'cancelled')) turn.done[i] = true;
          throw error;
        },
      ),
    );
    for (const chore of chores) await chore.catch((error: unknown) => this.#logger.debug({ err: error }, 'button housekeeping failed'));
    let failure: unknown;
    for (const send of sends) await send.catch((error: unknown) => (failure ??= error));
    if (turn.done.every(Boolean)) this.#decided.delete(updateId);
    if (failure) throw failure;
  }

  /**
   * A reply carrying a document (a RAT report): sendDocument with the bytes read now, the text as
   * its caption (after it, when longer than a caption may be). A document replaced meanwhile: the text.
   */
  async #sendDocument(chatId: string, piece: OutgoingMessage): Promise<unknown> {
    const { document, text, parse_mode, ...rest } = piece;
    const found = document ? await this.#engine.services.documents.content(document.id) : null;
    if (!found) return this.sender.send(chatId, 'sendMessage', { ...rest, text, parse_mode });
    const fits = text.length <= CAPTION_LIMIT;
    const sent = await this.sender.send(chatId, 'sendDocument', {
      ...rest,
      document: { source: found.bytes, filename: found.fileName },
      ...(fits ? { caption: text, parse_mode } : {}),
    });
    return fits ? sent : this.sender.send(chatId, 'sendMessage', { text, parse_mode: 'HTML' });
  }

  /** A file a member sent, for the core: downloaded (getFile, then the Bot API's file URL) only when asked. */
  #inboundDocument(file: NonNullable<ParsedUpdate['file']>): NonNullable<InboundMessage['document']> {
    return {
      fileName: file.fileName,
      mimetype: file.mimetype,
      size: file.size,
      ...(file.caption ? { caption: file.caption } : {}),
      fetch: async () => {
        const link = await this.bot.telegram.getFileLink(file.fileId);
        return downloadCapped(link, MAX_DOWNLOAD_BYTES);
      },
    };
  }

  #render(replies: Reply[], parsed: ParsedUpdate, language: 'id' | 'en'): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    for (const reply of replies) out.push(...renderReply(reply, { removeKeyboard: reply.removeKeyboard === true }));
    if (parsed.message.chatType === 'group' && out.length > 0) {
      // In a group only the pointer goes out, as a reply to the request, with a button that opens
      // the private chat.
      const first = out[0]!;
      first.reply_parameters = { message_id: parsed.replyTo, allow_sending_without_reply: true };
      const label = this.#catalogue.text(language, 'group.open_private');
      const username = this.bot.botInfo?.username;
      if (username && label) first.reply_markup = { inline_keyboard: [[{ text: label, url: `https://t.me/${username}?start=menu` }]] };
    }
    return out;
  }
}

