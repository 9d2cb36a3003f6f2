/**
 * What the Telegram channel keeps in the database, shared by every process that talks to
 * Telegram as the same bot (the service and any `kopbot outbox drain`):
 *
 * - the send budget: one row per bot with the moments of its last sends. A process takes a
 *   slot in one short transaction holding the row's lock before each message, so all of them together stay
 *   within Telegram's ~30 a second instead of each keeping its own 30. Members' replies come
 *   first: while members are writing, outbox sends leave a few slots of every window to
 *   replies, and they hold back entirely while some process has replies waiting for a slot.
 * - the poll state: updates answered at shutdown that Telegram could not be told about (an
 *   earlier one was still waiting), so they are not answered twice when Telegram delivers them
 *   again after the restart; and updates parked while they waited (a reply held by a 429), so
 *   Telegram could be told past them without losing them;
 * - with a parked update whose turn the conversation core had already taken when the service
 *   stopped, the replies it decided and had not sent: the next run sends those instead of
 *   taking the turn again.

 */
import Database from 'better-sqlite3';
import { z } from 'zod';
import { isPostgresUrl, sqlitePathOf } from './database.ts';
import { closePgPool, inPgTransaction, openPgPool, pgTimestamp, type pg } from './pg-pool.ts';
import { sqliteDateTime } from './sqlite-hot-path.ts';
import { writeGateFor, type WriteGate } from './write-gate.ts';

/** At most count sends in any ms milliseconds. */
export interface RateWindow {
  count: number;
  ms: number;
}

export type SendKind = 'reply' | 'outbox';

/**
 * The global budget a sender draws from. `take` answers 0 when a slot was taken for a message
 * sent now, else how many milliseconds to wait before asking again.
 */
export interface SendBudget {
  take(kind: SendKind, now: number): number | Promise<number>;
}

/** How long past its next try a waiting reply keeps outbox sends back (renewed while it waits). */
const REPLIES_WAITING_MS = 250;
/**
 * Slots are stamped when granted, while Telegram counts a message when it arrives, a little
 * later and not always in the same order: the window is kept this much longer than Telegram's.
 */
const ARRIVAL_MARGIN_MS = 100;
/** A busy database: ask again this soon. */
const BUSY_RETRY_MS = 3;

/** The row's `slots`: the moments of the last sends, and of the last reply among them. */
const ZSlots = z.union([
  z.object({ at: z.array(z.number()), lastReply: z.number() }),
  z.array(z.number()).transform((at) => ({ at, lastReply: 0 })),
]);
/** Replies seen this recently keep their reserve in every window; otherwise a broadcast may use all of it. */
const REPLIES_RECENT_MS = 10_000;
const ZIds = z.array(z.number().int());
const ZParked = z.array(z.looseObject({ update_id: z.number().int() }));
const ZDecided = z.array(z.object({ update_id: z.number().int(), replies: z.array(z.looseObject({})) }));

/** A parked update's turn taken before the shutdown: the messages (sendMessage payloads) still to send. */
export interface DecidedReplies {
  update_id: number;
  replies: Record<string, unknown>[];
}

/** What long polling keeps across a restart. */
export interface PollState {
  answeredAhead: number[];
  parked: { update_id: number }[];
  decided: DecidedReplies[];
}

/** Telegram keeps an update 24 hours: older poll state is about updates that will not come again. */
const POLL_STATE_MAX_AGE_MS = 24 * 3_600_000;

export interface SharedBudgetOptions {
  /** Telegram's limit over all chats (default 30 a second). */
  window?: RateWindow;
  /** Slots of every window only replies may use (a broadcast never takes the whole window). */
  replyReserve?: number;
}

/** The bot's id, the part of the token before ':' (the secret part is never stored). */
export function botKeyOf(token: string): string {
  return token.split(':')[0] ?? 'bot';
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** What a process keeps of the bot's Telegram state in the database; see the top of this file. */
export interface TelegramStore {
  /** The bot's budget in this database, as seen by one process. */
  budget(bot: string, options?: SharedBudgetOptions): SendBudget;
  /** What the last run left: updates answered beyond what Telegram was told, and parked ones. */
  pollState(bot: string, now?: Date): Promise<PollState>;
  /** Remember the poll state (replacing the last). */
  savePollState(bot: string, state: PollState, now?: Date): Promise<void>;
  close(): Promise<void>;
}

/** The store for DATABASE_URL: its own connection, SQLite file or PostgreSQL. */
export function openTelegramStore(url: string): TelegramStore {
  return isPostgresUrl(url) ? new PostgresTelegramStore(url) : new SqliteTelegramStore(sqlitePathOf(url));
}

/** The budget row as stored: the slots' JSON and until when replies wait somewhere. */
interface BudgetRow {
  slots: string;
  repliesWaitingUntil: number;
}

/** The rule of the shared budget, whichever store keeps the row: the wait, and the row to save (if any). */
function decideSlot(row: BudgetRow, kind: SendKind, now: number, window: RateWindow, reserve: number): { wait: number; save?: BudgetRow } {
  const parsed = ZSlots.safeParse(JSON.parse(row.slots));
  const slots = (parsed.success ? parsed.data.at : []).filter((at) => at > now - window.ms && at <= now + window.ms);
  let lastReply = parsed.success ? parsed.data.lastReply : 0;
  let repliesWaitingUntil = Number(row.repliesWaitingUntil);
  // Outbox sends use the window up to its reserve while members are writing, and none
  // while replies wait somewhere.
  const room = kind === 'reply' || now - lastReply > REPLIES_RECENT_MS ? window.count : window.count - reserve;
  let wait = 0;
  if (slots.length >= room) wait = slots[slots.length - room]! + window.ms + 1 - now;
  if (kind === 'outbox' && repliesWaitingUntil > now) wait = Math.max(wait, repliesWaitingUntil - now);
  if (wait > 0) {
    if (kind !== 'reply') return { wait };
    // Tell the other processes: their outbox sends wait until this reply has asked again.
    repliesWaitingUntil = Math.max(repliesWaitingUntil, now + wait + REPLIES_WAITING_MS);
    return { wait, save: { slots: JSON.stringify({ at: slots, lastReply }), repliesWaitingUntil } };
  }
  slots.push(now);
  if (kind === 'reply') lastReply = now;
  return { wait: 0, save: { slots: JSON.stringify({ at: slots.slice(-window.count), lastReply }), repliesWaitingUntil } };
}

function windowOf(options: SharedBudgetOptions): { window: RateWindow; reserve: number } {
  const limit = options.window ?? { count: 30, ms: 1_000 };
  const window = { count: limit.count, ms: limit.ms + ARRIVAL_MARGIN_MS };
  return { window, reserve: Math.min(window.count - 1, options.replyReserve ?? 5) };
}

interface PollRow {
  answeredAhead: string;
  parked: string;
  decided: string;
  updatedAt: number;
}

/** The stored poll state read back: parked updates (and their decided replies) kept however old, the ids only while fresh. */
function pollStateOf(row: PollRow | undefined, now: Date): PollState {
  const parked = ZParked.safeParse(JSON.parse(row?.parked ?? '[]'));
  const decided = ZDecided.safeParse(JSON.parse(row?.decided ?? '[]'));
  const fresh = row !== undefined && now.getTime() - row.updatedAt < POLL_STATE_MAX_AGE_MS;
  const ahead = ZIds.safeParse(JSON.parse(row?.answeredAhead ?? '[]'));
  return { answeredAhead: fresh && ahead.success ? ahead.data : [], parked: parked.success ? parked.data : [], decided: decided.success ? decided.data : [] };
}

/** The columns of a poll state to save. */
function pollColumns(state: PollState): [string, string, string] {
  return [JSON.stringify(state.answeredAhead), JSON.stringify(state.parked), JSON.stringify(state.decided)];
}

/**
 * SQLite: its own better-sqlite3 connection with no busy timeout, writing through the
 * process's write gate: never while a Prisma transaction of this process is open (it would
 * find the lock taken, or spoil that transaction's snapshot), and never sleeping on the event
 * loop; a busy database is tried again a few milliseconds later, asynchronously. A slot is
 * taken in one short IMMEDIATE transaction, so the budget's processes never both take it.
 */
export class SqliteTelegramStore implements TelegramStore {
  readonly #db: Database.Database;
  readonly #gate: WriteGate;
  readonly #statements: {
    budget: Database.Statement;
    ensureBudget: Database.Statement;
    saveBudget: Database.Statement;
    loadPoll: Database.Statement;
    savePoll: Database.Statement;
  };

  constructor(path: string) {
    this.#db = new Database(path, { timeout: 0 });
    this.#gate = writeGateFor(path);
    const db = this.#db;
    this.#statements = {
      budget: db.prepare('SELECT slots, repliesWaitingUntil FROM TelegramSendBudget WHERE bot = ?'),
      ensureBudget: db.prepare("INSERT INTO TelegramSendBudget (bot, slots, repliesWaitingUntil) VALUES (?, '[]', 0) ON CONFLICT(bot) DO NOTHING"),
      saveBudget: db.prepare('UPDATE TelegramSendBudget SET slots = ?, repliesWaitingUntil = ? WHERE bot = ?'),
      loadPoll: db.prepare('SELECT answeredAhead, parked, decided, updatedAt FROM TelegramPollState WHERE bot = ?'),
      savePoll: db.prepare(
        'INSERT INTO TelegramPollState (bot, answeredAhead, parked, decided, updatedAt) VALUES (?, ?, ?, ?, ?) ON CONFLICT(bot) DO UPDATE SET answeredAhead = excluded.answeredAhead, parked = excluded.parked, decided = excluded.decided, updatedAt = excluded.updatedAt',
      ),
    };
  }

  budget(bot: string, options: SharedBudgetOptions = {}): SendBudget {
    const { window, reserve } = windowOf(options);
    const take = this.#db
      .transaction((kind: SendKind, now: number): number => {
        this.#statements.ensureBudget.run(bot);
        const decided = decideSlot(this.#statements.budget.get(bot) as BudgetRow, kind, now, window, reserve);
        if (decided.save) this.#statements.saveBudget.run(decided.save.slots, decided.save.repliesWaitingUntil, bot);
        return decided.wait;
      })
      .immediate;
    return {
      take: (kind, now) => {
        // A transaction of this process is under way: ask again in a moment (a synchronous
        // write now would meet its lock or spoil its snapshot).
        if (this.#gate.held) return BUSY_RETRY_MS;
        try {
          return take(kind, now);
        } catch (error) {
          if (isBusy(error)) return BUSY_RETRY_MS;
          throw error;
        }
      },
    };
  }

  async pollState(bot: string, now = new Date()): Promise<PollState> {
    for (let attempt = 0; ; attempt++) {
      try {
        const row = this.#statements.loadPoll.get(bot) as (Omit<PollRow, 'updatedAt'> & { updatedAt: string }) | undefined;
        return pollStateOf(row && { ...row, updatedAt: Date.parse(row.updatedAt) }, now);
      } catch (error) {
        if (!isBusy(error) || attempt >= 3) throw error;
      }
    }
  }

  /** Tried again while the database is busy. */
  async savePollState(bot: string, state: PollState, now = new Date()): Promise<void> {
    await this.#gate.write(() => this.#statements.savePoll.run(bot, ...pollColumns(state), sqliteDateTime(now)));
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

/**
 * PostgreSQL: a small pool of its own. A slot is taken in one short transaction that locks the
 * bot's row (the upsert that reads it takes the row lock), so the processes and instances that
 * send as one bot take slots one at a time, whatever the isolation level.
 */
export class PostgresTelegramStore implements TelegramStore {
  readonly #pool: pg.Pool;

  constructor(url: string) {
    this.#pool = openPgPool(url, { max: 2 });
  }

  budget(bot: string, options: SharedBudgetOptions = {}): SendBudget {
    const { window, reserve } = windowOf(options);
    return {
      take: (kind, now) =>
        inPgTransaction(this.#pool, async (client) => {
          const locked = await client.query<BudgetRow>(
            `INSERT INTO "TelegramSendBudget" ("bot", "slots", "repliesWaitingUntil") VALUES ($1, '[]', 0)
             ON CONFLICT ("bot") DO UPDATE SET "bot" = excluded."bot" RETURNING "slots", "repliesWaitingUntil"`,
            [bot],
          );
          const decided = decideSlot(locked.rows[0]!, kind, now, window, reserve);
          if (decided.save) {
            await client.query('UPDATE "TelegramSendBudget" SET "slots" = $1, "repliesWaitingUntil" = $2 WHERE "bot" = $3', [decided.save.slots, decided.save.repliesWaitingUntil, bot]);
          }
          return decided.wait;
        }),
    };
  }

  async pollState(bot: string, now = new Date()): Promise<PollState> {
    const result = await this.#pool.query<Omit<PollRow, 'updatedAt'> & { updatedAt: Date }>(
      'SELECT "answeredAhead", "parked", "decided", "updatedAt" FROM "TelegramPollState" WHERE "bot" = $1',
      [bot],
    );
    const row = result.rows[0];
    return pollStateOf(row && { ...row, updatedAt: row.updatedAt.getTime() }, now);
  }

  async savePollState(bot: string, state: PollState, now = new Date()): Promise<void> {
    await this.#pool.query(
      `INSERT INTO "TelegramPollState" ("bot", "answeredAhead", "parked", "decided", "updatedAt") VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ("bot") DO UPDATE SET "answeredAhead" = excluded."answeredAhead", "parked" = excluded."parked", "decided" = excluded."decided", "updatedAt" = excluded."updatedAt"`,
      [bot, ...pollColumns(state), pgTimestamp(now)],
    );
  }

  async close(): Promise<void> {
    await closePgPool(this.#pool);
  }
}
