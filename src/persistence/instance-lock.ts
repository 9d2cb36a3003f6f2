/**
 * Work that exactly one instance may do at a time, among all the `kopbot start` on one
 * database: holding the WhatsApp session (two sockets on one device replace each other), and
 * long polling a Telegram bot (Telegram answers a second getUpdates with 409).
 *
 * On PostgreSQL the lock is a session-level advisory lock on a connection of its own: the
 * server lets go of it the moment that connection ends, so when the holder dies (SIGKILL, a
 * crash, a lost network) another instance trying every few seconds takes over. On SQLite one
 * process serves the file, and there is no lock to take.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import pg from 'pg';
import { isPostgresUrl } from './database.ts';

export interface InstanceLock {
  readonly name: string;
  /** Whether this process holds the lock now. */
  readonly held: boolean;
  /**
   * Resolves true once this process holds the lock, trying again every few seconds while
   * another instance holds it; false when release() came first.
   */
  acquire(): Promise<boolean>;
  /** Let the lock go, and stop trying to take it. */
  release(): Promise<void>;
  /** Called when a hold ends without release() (the lock's connection broke); returns an unsubscribe. */
  onLost(listener: () => void): () => void;
}

export interface InstanceLockOptions {
  logger?: Logger;
  /** Between attempts while another instance holds the lock (ms, default 5 s). */
  retryMs?: number;
  /** How often a held lock's connection is checked, and how long it may take to answer (ms, default 10 s). */
  heartbeatMs?: number;
  /** The pause between attempts (tests drive it; default a timer). Resolves early when signal aborts. */
  pause?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Every kopbot lock lives under this first key (the migrator's single-key lock is a separate space). */
const NAMESPACE = 0x6b6f70; // "kop"
/** The server gives a silent holder up after idle + interval × count = 25 s (its heartbeat, after 20 s at most). */
const KEEPALIVE = { idleSeconds: 10, intervalSeconds: 5, count: 3 };

const timerPause = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal, ref: false }).catch(() => undefined);

/**
 * The lock `name` among the instances on the database at url: an advisory lock on PostgreSQL.
 * None on SQLite: one process serves the file, and it does the work without asking.
 */
export function instanceLockFor(url: string, name: string, options: InstanceLockOptions = {}): InstanceLock | undefined {
  return isPostgresUrl(url) ? new PostgresInstanceLock(url, name, options) : undefined;
}

class PostgresInstanceLock implements InstanceLock {
  #client?: pg.Client;
  #held = false;
  #releasing = new AbortController();
  #heartbeat?: NodeJS.Timeout;
  /** The last hold was lost: the next attempt waits first, so a standing-by instance takes over. */
  #lost = false;
  readonly #listeners = new Set<() => void>();
  readonly #retryMs: number;
  readonly #heartbeatMs: number;
  readonly #pause: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(
    private readonly url: string,
    readonly name: string,
    private readonly options: InstanceLockOptions,
  ) {
    this.#retryMs = options.retryMs ?? 5_000;
    this.#heartbeatMs = options.heartbeatMs ?? 10_000;
    this.#pause = options.pause ?? timerPause;
  }

  get held(): boolean {
    return this.#held;
  }

  async acquire(): Promise<boolean> {
    if (this.#held) return true;
    if (this.#releasing.signal.aborted) this.#releasing = new AbortController();
    const { signal } = this.#releasing;
    let told = false;
    if (this.#lost) {
      // A lost connection may be this side's network flapping: let an instance that stood by
      // take the work over first, rather than snatching it back.
      this.#lost = false;
      if (!signal.aborted) await this.#pause(this.#retryMs, signal);
    }
    while (!signal.aborted) {
      try {
        const client = await this.#connection();
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [NAMESPACE, this.name]);
        if (signal.aborted) {
          if (rows[0]?.ok) await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [NAMESPACE, this.name]);
          break;
        }
        if (rows[0]?.ok) {
          this.#held = true;
          this.#watch(client);
          this.options.logger?.info({ lock: this.name }, 'instance lock taken');
          return true;
        }
        if (!told) this.options.logger?.info({ lock: this.name, retryMs: this.#retryMs }, 'instance lock held by another instance; trying again');
        told = true;
      } catch (error) {
        this.options.logger?.warn({ err: error, lock: this.name }, 'instance lock could not be tried; trying again');
        this.#drop();
      }
      if (!signal.aborted) await this.#pause(this.#retryMs, signal);
    }
    return false;
  }

  async release(): Promise<void> {
    this.#releasing.abort();
    const client = this.#client;
    const held = this.#held;
    this.#held = false;
    clearInterval(this.#heartbeat);
    this.#client = undefined;
    if (!client) return;
    try {
      if (held) await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [NAMESPACE, this.name]);
    } catch {
      // The connection is going anyway; its end lets go of the lock.
    }
    await client.end().catch(() => undefined);
  }

  onLost(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #connection(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    // A connection of its own, never a pooled one: the lock lives exactly as long as it. A holder
    // whose machine vanishes (no FIN, no RST) is found out by the server's keepalives within
    // half a minute, and the lock goes to the next instance.
    const client = new pg.Client({
      connectionString: this.url,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE.idleSeconds * 1000,
      application_name: `kopbot lock ${this.name}`,
    });
    client.on('error', () => this.#broken(client));
    client.on('end', () => this.#broken(client));
    this.#client = client;
    try {
      await client.connect();
      // The server's side of the keepalives, for this connection only (ignored over a Unix socket).
      await client.query(
        `SET tcp_keepalives_idle = ${KEEPALIVE.idleSeconds}; SET tcp_keepalives_interval = ${KEEPALIVE.intervalSeconds}; SET tcp_keepalives_count = ${KEEPALIVE.count}`,
      );
    } catch (error) {
      this.#drop();
      throw error;
    }
    return client;
  }

  /** A connection that answers no more (a server restart, a lost network) loses the lock with it. */
  #watch(client: pg.Client): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      // No answer within an interval counts as broken: cut off from the database, this holder
      // stands down (within two intervals) before the server's keepalives let the lock go.
      const silent = setTimeout(() => this.#broken(client), this.#heartbeatMs);
      silent.unref();
      client.query('SELECT 1').then(
        () => clearTimeout(silent),
        () => {
          clearTimeout(silent);
          this.#broken(client);
        },
      );
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  #broken(client: pg.Client): void {
    if (client !== this.#client) return;
    const held = this.#held;
    this.#drop();
    if (!held) return;
    this.#lost = true;
    this.options.logger?.warn({ lock: this.name }, 'instance lock lost with its database connection');
    for (const listener of [...this.#listeners]) listener();
  }

  #drop(): void {
    const client = this.#client;
    this.#client = undefined;
    this.#held = false;
    clearInterval(this.#heartbeat);
    client?.end().catch(() => undefined);
  }
}
