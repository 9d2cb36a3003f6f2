/**
 * The outbox dispatcher: claims due rows with a lease, works out where each can go, sends it
 * through the channel's own paced sender, and marks it. Used by the service (a loop) and by
 * `kopbot outbox drain` (until nothing due is left).
 *
 * Per row: a member who opted out of the topic or left the cooperative is skipped; in quiet
 * hours (21.00–06.00 in the cooperative's time zone by default) the row waits for the
 * morning; otherwise the member's verified channels are tried, most recently used first, then
 * WhatsApp by the phone on file. A permanent refusal (blocked the bot, not on WhatsApp) moves
 * on to the next channel; a transient one is tried again later with growing pauses, up to
 * maxAttempts. A process claims only rows its own channels can reach (a `kopbot start` or
 * `outbox drain` without Telegram leaves Telegram members' rows queued); a row is skipped as
 * unreachable only when the member has no verified identity and no phone at all.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { localParts, zonedTimeToUtc, localDate } from '../core/format.ts';
import type { Logger } from '../logger.ts';
import type { OutboxRow, OutboxStore, Reach, Recipient } from './outbox-store.ts';

/**
 * ok; a permanent refusal (blocked, not on WhatsApp: try another channel, never this one
 * again); a transient failure (tried again later, counted); or `unavailable`: the channel
 * cannot send right now (WhatsApp reconnecting), which costs the row no attempt.
 */
export type SendOutcome = { ok: true } | { ok: false; permanent: boolean; reason: string; unavailable?: boolean };

/** A channel able to deliver unsolicited messages in this process. */
export interface OutboundChannel {
  readonly channel: string;
  /**
   * Sends this channel may have under way at once. A slowly paced channel (WhatsApp) takes one
   * at a time, so no row waits inside it long enough for its lease to run out.
   */
  readonly inFlight?: number;
  /**
   * How it reaches people: by a verified identity on this channel (Telegram, the terminal), or
   * by the phone on file (WhatsApp). The dispatcher claims only rows its channels can reach.
   */
  readonly reaches: 'identity' | 'phone';
  /** Where this channel would send to this member (null: it cannot reach them). */
  target(recipient: Recipient): string | null;
  /**
   * False while this process cannot use the channel at all (another instance holds the WhatsApp
   * session): its rows are left to the instance that can, not claimed and put off here.
   */
  available?(): boolean;
  send(target: string, text: string): Promise<SendOutcome>;
}

export interface DispatcherOptions {
  store: OutboxStore;
  channels: OutboundChannel[];
  /** Channels that exist but are served by another process (WhatsApp in `outbox drain`): rows for them wait. */
  elsewhere?: string[];
  logger: Logger;
  clock?: () => Date;
  owner?: string;
  leaseMs?: number;
  batch?: number;
  /** Deliveries in flight at once; each channel's sender keeps its own pace. */
  concurrency?: number;
  maxAttempts?: number;
  quietHours?: { from: number; to: number } | null;
}

export interface DrainSummary {
  sent: number;
  failed: number;
  skipped: number;
  retrying: number;
  deferred: number;
}

const RETRY_PAUSES_MS = [30_000, 120_000, 600_000, 3_600_000, 6 * 3_600_000];

/** Whether the local hour falls in quiet hours that may wrap midnight (21 → 6). */
export function inQuietHours(at: Date, timeZone: string, quiet: { from: number; to: number }): boolean {
  const { hour } = localParts(at, timeZone);
  return quiet.from > quiet.to ? hour >= quiet.from || hour < quiet.to : hour >= quiet.from && hour < quiet.to;
}

/** The end of the quiet hours that contain `at`: the next `to` o'clock, local time. */
export function endOfQuietHours(at: Date, timeZone: string, quiet: { from: number; to: number }): Date {
  const today = localDate(at, timeZone);
  const morning = zonedTimeToUtc(today, quiet.to, 0, timeZone);
  if (morning > at) return morning;
  const tomorrow = localDate(new Date(at.getTime() + 24 * 3_600_000), timeZone);
  return zonedTimeToUtc(tomorrow, quiet.to, 0, timeZone);
}

/** "host:pid:random": enough to tell, on the same machine, that the process has died. */
export function dispatcherId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** An owner id of a process on this machine that no longer exists. */
export function isDeadLocalOwner(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || !pid || !/^\d+$/.test(pid) || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The reach of a set of channels: which verified identities they use, and whether one sends by phone. */
export function reachOf(channels: readonly OutboundChannel[]): Reach {
  return {
    identityChannels: channels.filter((c) => c.reaches === 'identity').map((c) => c.channel),
    byPhone: channels.some((c) => c.reaches === 'phone'),
  };
}

export class OutboxDispatcher {
  readonly #o: Required<Omit<DispatcherOptions, 'quietHours' | 'elsewhere'>> & { quietHours: { from: number; to: number } | null; elsewhere: string[] };
  #stopped = false;
  #running?: Promise<void>;
  readonly #gates = new Map<string, { active: number; waiting: (() => void)[] }>();
  #wake?: () => void;

  constructor(options: DispatcherOptions) {
    this.#o = {
      clock: () => new Date(),
      owner: dispatcherId(),
      leaseMs: 5 * 60_000,
      batch: 200,
      concurrency: 40,
      maxAttempts: 6,
      elsewhere: [],
      ...options,
      quietHours: options.quietHours === undefined ? { from: 21, to: 6 } : options.quietHours,
    };
  }

  /** What this dispatcher's channels can reach: the rows it claims. */
  get reach(): Reach {
    return reachOf(this.#usable());
  }

  #usable(): OutboundChannel[] {
    return this.#o.channels.filter((c) => c.available?.() !== false);
  }

  /** Send everything due now, batch after batch, until nothing due is left. */
  async drain(onProgress?: (summary: DrainSummary) => void): Promise<DrainSummary> {
    const summary: DrainSummary = { sent: 0, failed: 0, skipped: 0, retrying: 0, deferred: 0 };
    // Rows a killed process on this machine was sending: theirs no more, without waiting out the lease.
    const released = await this.#o.store.releaseDeadOwners(isDeadLocalOwner);
    if (released > 0) this.#o.logger.warn({ released }, 'outbox: rows of a dispatcher that died are sent again');
    for (;;) {
      if (this.#stopped) break;
      const now = this.#o.clock();
      const rows = await this.#o.store.claim(this.#o.owner, now, new Date(now.getTime() + this.#o.leaseMs), this.#o.batch, this.reach);
      if (rows.length === 0) break;
      await this.#deliverAll(rows, summary);
      onProgress?.(summary);
    }
    return summary;
  }

  /** The service's loop: drain, then wait a little (or until woken by new work). */
  start(intervalMs = 2_000): void {
    if (this.#running) return;
    this.#running = (async () => {
      while (!this.#stopped) {
        try {
          const done = await this.drain();
          if (done.sent + done.failed > 0) this.#o.logger.info({ ...done }, 'outbox: messages delivered');
        } catch (error) {
          this.#o.logger.error({ err: error }, 'outbox dispatch failed');
        }
        if (this.#stopped) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, intervalMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
  }

  /** New rows were queued: look now rather than at the next tick. */
  poke(): void {
    this.#wake?.();
  }

  /**
   * Stop claiming and starting sends; resolves when the sends under way have finished and been
   * marked. Stop the channels after calling this (not after awaiting it): a paced channel then
   * answers its waiting sends at once, and those rows are tried again later.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#running;
  }

  async #deliverAll(rows: OutboxRow[], summary: DrainSummary): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        if (this.#stopped) {
          await this.#mark(row, () => this.#o.store.retryLater(row.id, this.#o.owner, this.#o.clock(), { countAttempt: false }));
          continue;
        }
        try {
          summary[await this.#deliver(row)]++;
        } catch (error) {
          // Only failures before anything was sent land here (a send's result is marked in #deliver).
          this.#o.logger.error({ err: error, outbox: row.id }, 'outbox row not delivered');
          await this.#mark(row, () => this.#o.store.retryLater(row.id, this.#o.owner, this.#retryAt(row), { error: String((error as Error).message), countAttempt: true }));
          summary.retrying++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, rows.length) }, worker));
  }

  /**
   * Write a row's result, trying again while the database is busy (an import holding the write
   * lock): a message that went out must not be left looking unsent. Never throws.
   */
  async #mark(row: OutboxRow, write: () => Promise<boolean>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!(await write())) this.#o.logger.warn({ outbox: row.id }, 'outbox: the row\'s lease was lost before its result was written');
        return;
      } catch (error) {
        if (attempt >= 20) {
          this.#o.logger.error({ err: error, outbox: row.id }, 'outbox: result not written; the row may be sent again after its lease');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * attempt)));
      }
    }
  }

  /** Wait for a free sending slot on this channel, then renew the row's lease. */
  async #slot(channel: OutboundChannel, row: OutboxRow): Promise<(() => void) | null> {
    const limit = channel.inFlight ?? Number.POSITIVE_INFINITY;
    let gate = this.#gates.get(channel.channel);
    if (!gate) {
      gate = { active: 0, waiting: [] };
      this.#gates.set(channel.channel, gate);
    }
    const g = gate;
    if (g.active >= limit) await new Promise<void>((resolve) => g.waiting.push(resolve));
    g.active++;
    const release = () => {
      g.active--;
      g.waiting.shift()?.();
    };
    // The lease starts again now: however long the row waited for its turn, it has a whole
    // lease for the send itself. Lost meanwhile (another dispatcher took it): not sent here.
    const now = this.#o.clock();
    if (this.#stopped || !(await this.#o.store.renewLease(row.id, this.#o.owner, new Date(now.getTime() + this.#o.leaseMs)))) {
      release();
      return null;
    }
    return release;
  }

  #retryAt(row: OutboxRow): Date {
    const pause = RETRY_PAUSES_MS[Math.min(row.attempts - 1, RETRY_PAUSES_MS.length - 1)]!;
    return new Date(this.#o.clock().getTime() + pause * (0.8 + Math.random() * 0.4));
  }

  async #deliver(row: OutboxRow): Promise<keyof DrainSummary> {
    const { store, owner } = this.#o;
    const now = this.#o.clock();
    const recipient = row.memberId !== null ? await store.recipient(row.memberId) : row.officerId !== null ? await store.officerRecipient(row.officerId) : null;
    if (!recipient) {
      await store.finish(row.id, owner, 'skipped', { error: 'no_recipient', at: now });
      return 'skipped';
    }
    if (recipient.status !== 'AKTIF') {
      await store.finish(row.id, owner, 'skipped', { error: 'inactive', at: now });
      return 'skipped';
    }
    if (recipient.optOut[row.topic]) {
      await store.finish(row.id, owner, 'skipped', { error: 'opted_out', at: now });
      return 'skipped';
    }
    const quiet = this.#o.quietHours;
    if (quiet && inQuietHours(now, recipient.timezone, quiet)) {
      await store.retryLater(row.id, owner, endOfQuietHours(now, recipient.timezone, quiet), { error: 'quiet_hours', countAttempt: false });
      return 'deferred';
    }
    const routes = this.#routes(recipient);
    if (routes.length === 0) {
      // Unreachable only when nothing could ever reach them: no verified identity, no phone.
      if (recipient.identities.length === 0 && recipient.phone === null) {
        await store.finish(row.id, owner, 'skipped', { error: 'unreachable', at: now });
        return 'skipped';
      }
      // Claimed, yet no channel here reaches them (their identities changed meanwhile): the row
      // goes back untouched for a process that has their channel (a minute on, so this drain
      // does not claim it again).
      const waitingFor = recipient.identities.length > 0 ? recipient.identities[0]!.channel : 'whatsapp';
      await store.retryLater(row.id, owner, new Date(now.getTime() + 60_000), { error: `waiting_for:${waitingFor}`, countAttempt: false });
      return 'deferred';
    }
    const refusals: string[] = [];
    const unavailable: string[] = [];
    let transient: { channel: string; reason: string } | undefined;
    for (const { channel, target } of routes) {
      const release = await this.#slot(channel, row);
      if (!release) return 'deferred'; // stopping, or the lease went to another dispatcher
      let outcome: SendOutcome;
      try {
        outcome = await channel.send(target, row.text);
      } catch (error) {
        outcome = { ok: false, permanent: false, reason: (error as Error).message };
      } finally {
        release();
      }
      if (outcome.ok) {
        await this.#mark(row, () => store.finish(row.id, owner, 'sent', { channel: channel.channel, at: this.#o.clock() }));
        return 'sent';
      }
      if (outcome.unavailable) {
        unavailable.push(channel.channel);
        continue; // reconnecting: try the member's other channel now, this one later
      }
      if (outcome.permanent) {
        refusals.push(`${channel.channel}:${outcome.reason}`);
        continue; // blocked here: try the member's other channel
      }
      transient = { channel: channel.channel, reason: outcome.reason };
      break;
    }
    const errors = [...refusals, ...unavailable.map((c) => `${c}:unavailable`)];
    if (transient && row.attempts < this.#o.maxAttempts) {
      await this.#mark(row, () =>
        store.retryLater(row.id, owner, this.#retryAt(row), { channel: transient.channel, error: [...errors, `${transient.channel}:${transient.reason}`].join('; '), countAttempt: true }),
      );
      return 'retrying';
    }
    // A channel that is only reconnecting, or one served by the service (WhatsApp, for `outbox
    // drain`), may still reach the member: wait for it instead of giving up.
    const elsewhere = this.#o.elsewhere.length > 0 && recipient.phone !== null;
    if (!transient && (unavailable.length > 0 || elsewhere)) {
      await this.#mark(row, () =>
        store.retryLater(row.id, owner, new Date(this.#o.clock().getTime() + 60_000), {
          error: [...errors, ...(elsewhere ? [`waiting_for:${this.#o.elsewhere.join(',')}`] : [])].join('; '),
          countAttempt: false,
        }),
      );
      return 'deferred';
    }
    await this.#mark(row, () =>
      store.finish(row.id, owner, 'failed', {
        channel: transient?.channel ?? routes[routes.length - 1]!.channel.channel,
        error: [...errors, ...(transient ? [`${transient.channel}:${transient.reason} (gave up after ${row.attempts} attempts)`] : [])].join('; '),
        at: this.#o.clock(),
      }),
    );
    return 'failed';
  }

  /** The channels that can reach this member here, in the order to try them. */
  #routes(recipient: Recipient): { channel: OutboundChannel; target: string }[] {
    const usable = this.#usable();
    const byName = new Map(usable.map((c) => [c.channel, c]));
    const routes: { channel: OutboundChannel; target: string }[] = [];
    const seen = new Set<string>();
    const add = (channel: OutboundChannel | undefined) => {
      if (!channel || seen.has(channel.channel)) return;
      const target = channel.target(recipient);
      if (target === null) return;
      seen.add(channel.channel);
      routes.push({ channel, target });
    };
    // The channels the member verified, most recently used first, then the rest (WhatsApp by phone).
    for (const identity of recipient.identities) add(byName.get(identity.channel));
    for (const channel of usable) add(channel);
    return routes;
  }
}
