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
 *   again after the restart;
 * - updates parked while they waited (a reply held by a 429), so Telegram could be told past
 *   them without losing them: a row each, owned by the instance that parked it, so several
 *   instances behind a webhook never write over each other's. With a parked update whose turn
 *   the conversation core had already taken when the service stopped, the replies it decided
 *   and had not sent: the next run sends those instead of taking the turn again.

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
const ZParked = z.looseObject({ update_id: z.number().int() });
/** The decided replies and when they were decided; a bare list (written before the time was kept) counts as decided long ago. */
const ZDecidedColumn = z.union([
  z.object({ at: z.number(), replies: z.array(z.looseObject({})) }),
  z.array(z.looseObject({})).transform((replies) => ({ at: 0, replies })),
]);

/** A parked update's turn taken before the shutdown: the messages (sendMessage payloads) still to send. */
export interface DecidedReplies {
  update_id: number;
  replies: Record<string, unknown>[];
  /** When the turn was taken (ms since the epoch): a reply decided long ago is not sent as it was. */
  at: number;
}

/** What the channel keeps across a restart: the ids answered ahead, and the updates it parked (with their decided replies). */
export interface PollState {
  answeredAhead: number[];
  parked: { update_id: number }[];
  decided: DecidedReplies[];
}

/** Which parked updates an instance takes on when it starts receiving. */
export interface ParkedClaim {
  /** This instance (host:port): the rows it parked in an earlier run are its own again. */
  owner: string;
  /**
   * All of them, whoever parked them: long polling, where only the poll lock's holder parks
   * (or one process serves a SQLite file). Otherwise (a webhook, several instances at once)
   * only those no running instance answers: left at a stop, or not renewed for so long that
   * their instance has died. Claimed rows are renewed (their time set to now).
   */
  all: boolean;
}

/** How an instance saves its poll state: the parked updates in `state` are all of this owner's. */
export interface PollSave {
  owner: string;
  /** The instance stops: its parked updates are left to whichever instance starts next. */
  release?: boolean;
}

/** Telegram keeps an update 24 hours: older poll state is about updates that will not come again. */
const POLL_STATE_MAX_AGE_MS = 24 * 3_600_000;
/**
 * A running instance renews its parked rows (claims them again) every PARKED_RENEW_MS: one not
 * renewed for this long belongs to an instance that died, and the next instance to claim takes it on.
 */
export const PARKED_ORPHAN_MS = 5 * 60_000;
/** How often an instance receiving by webhook renews its parked rows and takes on those nobody renews. */
export const PARKED_RENEW_MS = 60_000;

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
  /**
   * What the last run left: updates answered beyond what Telegram was told, and the parked
   * updates this instance takes on (made its own, so no other instance answers them too).
   */
  pollState(bot: string, claim: ParkedClaim, now?: Date): Promise<PollState>;
  /**
   * Remember the poll state: the ids answered ahead (replacing the last), and this owner's parked
   * updates (its rows become exactly these; other instances' rows are left alone).
   */
  savePollState(bot: string, state: PollState, save: PollSave, now?: Date): Promise<void>;
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

/** A parked update's row read back. */
interface ParkedRow {
  update: string;
  decided: string | null;
}

/** The answered-ahead ids read back: only while fresh (Telegram has long forgotten older updates). */
function answeredAheadOf(row: { answeredAhead: string; updatedAt: number } | undefined, now: Date): number[] {
  if (!row || now.getTime() - row.updatedAt >= POLL_STATE_MAX_AGE_MS) return [];
  const ahead = ZIds.safeParse(JSON.parse(row.answeredAhead));
  return ahead.success ? ahead.data : [];
}

/** Parked rows read back, kept however old; a row that does not read as an update is skipped. */
function parkedOf(rows: readonly ParkedRow[]): Pick<PollState, 'parked' | 'decided'> {
  const parked: PollState['parked'] = [];
  const decided: DecidedReplies[] = [];
  for (const row of rows) {
    const update = ZParked.safeParse(JSON.parse(row.update));
    if (!update.success) continue;
    parked.push(update.data);
    const turn = row.decided === null ? undefined : ZDecidedColumn.safeParse(JSON.parse(row.decided));
    if (turn?.success) decided.push({ update_id: update.data.update_id, ...turn.data });
  }
  parked.sort((a, b) => a.update_id - b.update_id);
  return { parked, decided };
}

/** The rows of an owner's parked updates to write: id, update, decided replies. */
function parkedRowsOf(state: PollState): [number, string, string | null][] {
  const decided = new Map(state.decided.map((d) => [d.update_id, d]));
  return state.parked.map((update) => {
    const turn = decided.get(update.update_id);
    return [update.update_id, JSON.stringify(update), turn ? JSON.stringify({ at: turn.at, replies: turn.replies }) : null];
  });
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
    claimParked: Database.Statement;
    ownParked: Database.Statement;
    dropParked: Database.Statement;
    putParked: Database.Statement;
  };
  readonly #savePoll: (bot: string, state: PollState, save: PollSave, at: string) => void;

  constructor(path: string) {
    this.#db = new Database(path, { timeout: 0 });
    this.#gate = writeGateFor(path);
    const db = this.#db;
    this.#statements = {
      budget: db.prepare('SELECT slots, repliesWaitingUntil FROM TelegramSendBudget WHERE bot = ?'),
      ensureBudget: db.prepare("INSERT INTO TelegramSendBudget (bot, slots, repliesWaitingUntil) VALUES (?, '[]', 0) ON CONFLICT(bot) DO NOTHING"),
      saveBudget: db.prepare('UPDATE TelegramSendBudget SET slots = ?, repliesWaitingUntil = ? WHERE bot = ?'),
      loadPoll: db.prepare('SELECT answeredAhead, updatedAt FROM TelegramPollState WHERE bot = ?'),
      savePoll: db.prepare(
        'INSERT INTO TelegramPollState (bot, answeredAhead, updatedAt) VALUES (?, ?, ?) ON CONFLICT(bot) DO UPDATE SET answeredAhead = excluded.answeredAhead, updatedAt = excluded.updatedAt',
      ),
      claimParked: db.prepare(
        'UPDATE TelegramParkedUpdate SET owner = @owner, parkedAt = @now WHERE bot = @bot AND (@all OR owner IS NULL OR owner = @owner OR parkedAt < @orphanedBefore) RETURNING "update", decided',
      ),
      ownParked: db.prepare('SELECT updateId FROM TelegramParkedUpdate WHERE bot = ? AND owner = ?').pluck(),
      dropParked: db.prepare('DELETE FROM TelegramParkedUpdate WHERE bot = ? AND updateId = ? AND owner = ?'),
      // Another instance's row (it took the update on meanwhile) is left to it.
      putParked: db.prepare(
        `INSERT INTO TelegramParkedUpdate (bot, updateId, "update", decided, owner, parkedAt) VALUES (@bot, @id, @update, @decided, @keeper, @at)
         ON CONFLICT(bot, updateId) DO UPDATE SET "update" = excluded."update", decided = excluded.decided, owner = excluded.owner, parkedAt = excluded.parkedAt
         WHERE TelegramParkedUpdate.owner IS NULL OR TelegramParkedUpdate.owner = @owner`,
      ),
    };
    const statements = this.#statements;
    this.#savePoll = db.transaction((bot: string, state: PollState, save: PollSave, at: string) => {
      statements.savePoll.run(bot, JSON.stringify(state.answeredAhead), at);
      const rows = parkedRowsOf(state);
      const keep = new Set(rows.map(([id]) => id));
      for (const id of statements.ownParked.all(bot, save.owner) as number[]) if (!keep.has(id)) statements.dropParked.run(bot, id, save.owner);
      const keeper = save.release ? null : save.owner;
      for (const [id, update, decided] of rows) statements.putParked.run({ bot, id, update, decided, keeper, owner: save.owner, at });
    });
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

  /** Tried again while the database is busy. */
  async pollState(bot: string, claim: ParkedClaim, now = new Date()): Promise<PollState> {
    const row = this.#statements.loadPoll.get(bot) as { answeredAhead: string; updatedAt: string } | undefined;
    const claimed = await this.#gate.write(
      () =>
        this.#statements.claimParked.all({
          bot,
          owner: claim.owner,
          all: claim.all ? 1 : 0,
          now: sqliteDateTime(now),
          orphanedBefore: sqliteDateTime(new Date(now.getTime() - PARKED_ORPHAN_MS)),
        }) as ParkedRow[],
    );
    return { answeredAhead: answeredAheadOf(row && { ...row, updatedAt: Date.parse(row.updatedAt) }, now), ...parkedOf(claimed) };
  }

  /** Tried again while the database is busy. */
  async savePollState(bot: string, state: PollState, save: PollSave, now = new Date()): Promise<void> {
    await this.#gate.write(() => this.#savePoll(bot, state, save, sqliteDateTime(now)));
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

  async pollState(bot: string, claim: ParkedClaim, now = new Date()): Promise<PollState> {
    const [state, claimed] = await Promise.all([
      this.#pool.query<{ answeredAhead: string; updatedAt: Date }>('SELECT "answeredAhead", "updatedAt" FROM "TelegramPollState" WHERE "bot" = $1', [bot]),
      // One statement: two instances starting at once each take a row or the other, never both.
      this.#pool.query<ParkedRow>(
        `UPDATE "TelegramParkedUpdate" SET "owner" = $2, "parkedAt" = $5
          WHERE "bot" = $1 AND ($3 OR "owner" IS NULL OR "owner" = $2 OR "parkedAt" < $4)
         RETURNING "update", "decided"`,
        [bot, claim.owner, claim.all, pgTimestamp(new Date(now.getTime() - PARKED_ORPHAN_MS)), pgTimestamp(now)],
      ),
    ]);
    const row = state.rows[0];
    return { answeredAhead: answeredAheadOf(row && { ...row, updatedAt: row.updatedAt.getTime() }, now), ...parkedOf(claimed.rows) };
  }

  async savePollState(bot: string, state: PollState, save: PollSave, now = new Date()): Promise<void> {
    const rows = parkedRowsOf(state);
    const at = pgTimestamp(now);
    await inPgTransaction(this.#pool, async (client) => {
      await client.query(
        `INSERT INTO "TelegramPollState" ("bot", "answeredAhead", "updatedAt") VALUES ($1, $2, $3)
         ON CONFLICT ("bot") DO UPDATE SET "answeredAhead" = excluded."answeredAhead", "updatedAt" = excluded."updatedAt"`,
        [bot, JSON.stringify(state.answeredAhead), at],
      );
      await client.query('DELETE FROM "TelegramParkedUpdate" WHERE "bot" = $1 AND "owner" = $2 AND NOT ("updateId" = ANY($3::integer[]))', [bot, save.owner, rows.map(([id]) => id)]);
      if (rows.length === 0) return;
      // Another instance's row (it took the update on meanwhile) is left to it.
      await client.query(
        `INSERT INTO "TelegramParkedUpdate" ("bot", "updateId", "update", "decided", "owner", "parkedAt")
         SELECT $1, r.id, r.body, r.decided, $5, $6 FROM unnest($2::integer[], $3::text[], $4::text[]) AS r(id, body, decided)
         ON CONFLICT ("bot", "updateId") DO UPDATE SET "update" = excluded."update", "decided" = excluded."decided", "owner" = excluded."owner", "parkedAt" = excluded."parkedAt"
         WHERE "TelegramParkedUpdate"."owner" IS NULL OR "TelegramParkedUpdate"."owner" = $7`,
        [bot, rows.map(([id]) => id), rows.map(([, body]) => body), rows.map(([, , decided]) => decided), save.release ? null : save.owner, at, save.owner],
      );
    });
  }

  async close(): Promise<void> {
    await closePgPool(this.#pool);
  }
}
