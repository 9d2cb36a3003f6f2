/**
 * Exactly one instance holds the WhatsApp session (and long-polls a Telegram bot) at a time: a
 * PostgreSQL advisory lock on a connection of its own. The others try again every few seconds
 * and take over when the holder dies. The retries here are driven by the test, not by a clock.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openWhatsAppAuthStore } from '../../src/channels/whatsapp/auth-store.ts';
import { WhatsAppChannel } from '../../src/channels/whatsapp/whatsapp-channel.ts';
import { TelegramChannel } from '../../src/channels/telegram/telegram-channel.ts';
import { botKeyOf } from '../../src/persistence/telegram-store.ts';
import { FakeBotApi } from '../helpers/fake-bot-api.ts';
import { createCatalogue } from '../../src/core/catalogue.ts';
import { createEngine, loadFlowsFrom } from '../../src/core/create-engine.ts';
import { openDatabase, type Db } from '../../src/persistence/database.ts';
import { instanceLockFor, type InstanceLock } from '../../src/persistence/instance-lock.ts';
import { createServices } from '../../src/persistence/services.ts';
import { openWhatsAppSessionStore } from '../../src/persistence/whatsapp-session-store.ts';
import { createApp } from '../../src/app.ts';
import { queueAnnouncement } from '../../src/domain/announcements.ts';
import { whatsappOutbound } from '../../src/outbox/channels.ts';
import { OutboxDispatcher } from '../../src/outbox/dispatcher.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { captureLogs } from '../helpers/app.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { socketFactory, until, waMessage } from '../whatsapp/helpers.ts';

/** The pause between a lock's attempts, ended when the test says (or when the lock is released). */
function manualPause() {
  const waiting: (() => void)[] = [];
  return {
    pause: (_ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const wake = () => {
          const at = waiting.indexOf(wake);
          if (at >= 0) waiting.splice(at, 1);
          resolve();
        };
        waiting.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      }),
    get waiting(): number {
      return waiting.length;
    },
    /** Let every waiting attempt try again. */
    retry(): void {
      for (const wake of [...waiting]) wake();
    },
  };
}

/**
 * End the connection that holds the lock `name` from the server's side: what the server sees
 * when the holder's process dies. Only the holder's: an instance standing by keeps its own
 * connection, as it would when another machine dies.
 */
async function killLockConnection(url: string, name: string): Promise<number> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(pg_terminate_backend(a.pid)) AS n
         FROM pg_stat_activity a
        WHERE a.application_name = $1 AND a.datname = current_database()
          AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)`,
      [`kopbot lock ${name}`],
    );
    return Number(rows[0]!.n);
  } finally {
    await admin.end();
  }
}

let pgdb: TestPostgres | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await pgdb?.drop();
  pgdb = undefined;
});

function lock(url: string, name: string, pause: ReturnType<typeof manualPause>): InstanceLock {
  const made = instanceLockFor(url, name, { pause: pause.pause, heartbeatMs: 60_000 })!;
  cleanups.push(() => made.release());
  return made;
}

describe('instance lock', () => {
  it('is not needed on SQLite: one process serves the file', () => {
    expect(instanceLockFor('file:./data/koperasi.db', 'whatsapp')).toBeUndefined();
  });

  it('on PostgreSQL, one holder at a time; a waiting instance takes it once the holder lets go or dies', async () => {
    pgdb = await createTestPostgres();
    const [pa, pb, pc] = [manualPause(), manualPause(), manualPause()];
    const a = lock(pgdb.url, 'whatsapp', pa);
    const b = lock(pgdb.url, 'whatsapp', pb);
    const other = lock(pgdb.url, 'telegram-poll:123', pc);
    expect(await a.acquire()).toBe(true);
    // Another lock name is another lock (a Telegram bot is polled by whoever holds its own).
    expect(await other.acquire()).toBe(true);

    let bHeld = false;
    const bAcquired = b.acquire().then((ok) => (bHeld = ok));
    await until(() => pb.waiting === 1, 5_000, 'b to find the lock taken');
    pb.retry();
    await until(() => pb.waiting === 1, 5_000, 'b to find it taken again');
    expect(bHeld).toBe(false);

    // The holder lets go (a clean stop): the next attempt takes it.
    await a.release();
    pb.retry();
    await bAcquired;
    expect(bHeld && b.held).toBe(true);

    // Now the holder dies: the server ends its connection, which lets go of the lock.
    let lost = 0;
    b.onLost(() => lost++);
    const aAgain = a.acquire();
    await until(() => pa.waiting === 1, 5_000, 'a to find the lock taken');
    expect(await killLockConnection(pgdb.url, 'whatsapp')).toBe(1);
    await until(() => lost === 1, 5_000, 'b to learn it lost the lock');
    expect(b.held).toBe(false);
    pa.retry();
    expect(await aAgain).toBe(true);
    // B, having lost it, waits a round before its next attempt.
    const bAgain = b.acquire();
    await until(() => pb.waiting === 1, 5_000, 'b to wait a round');
    pb.retry();
    await until(() => pb.waiting === 1, 5_000, 'b to find it taken');
    await b.release();
    expect(await bAgain).toBe(false);

    // A release while waiting ends the wait with false.
    const bWaits = b.acquire();
    await until(() => pb.waiting === 1, 5_000, 'b to wait');
    await b.release();
    expect(await bWaits).toBe(false);
  });
});

describe('the WhatsApp session across instances', () => {
  it('only the lock holder connects; when it dies, a standing-by instance takes the session over', async () => {
    pgdb = await createTestPostgres();
    const url = pgdb.url;
    const instance = async (name: string) => {
      const db: Db = await openDatabase(url);
      cleanups.push(() => db.$disconnect());
      const { logger, logs } = captureLogs();
      const engine = createEngine({ services: createServices(db), logger });
      const pause = manualPause();
      const factory = socketFactory();
      const channel = new WhatsAppChannel({
        engine,
        catalogue: createCatalogue(loadFlowsFrom().messages),
        logger: logger.child({ instance: name }),
        openAuthStore: () => openWhatsAppAuthStore(openWhatsAppSessionStore(db)),
        lock: lock(url, 'whatsapp', pause),
        makeSocket: factory.make,
        showPairing: () => undefined,
        typingMs: () => 0,
        reconnect: { firstMs: 20, capMs: 160, stableMs: 1_000 },
        random: () => 1,
      });
      cleanups.push(() => channel.stop(1_000));
      return { channel, factory, pause, logs };
    };
    const a = await instance('a');
    const b = await instance('b');
    await a.channel.start();
    await until(() => a.factory.sockets.length === 1, 5_000, 'a to connect');
    await b.channel.start();
    await until(() => b.pause.waiting === 1, 5_000, 'b to find the session taken');
    expect(b.channel.status).toBe('standby');
    expect(b.factory.sockets).toHaveLength(0);

    // A links the cooperative's number: the session is written to the shared database.
    const sockA = a.factory.last;
    const creds = sockA.config.auth.creds;
    creds.me = { id: '6281200000000:5@s.whatsapp.net' };
    creds.account = { details: Buffer.from([7]) };
    sockA.ev.emit('creds.update', { me: creds.me, account: creds.account });
    sockA.connect();
    await until(() => a.channel.status === 'open', 5_000, 'a open');
    sockA.receive(waMessage({ from: '6289900001111@s.whatsapp.net', text: 'halo' }));
    await a.channel.settled();
    expect(sockA.sent.map((m) => m.text).join('\n')).toMatch(/^Halo! Silakan pilih/);
    // B keeps standing by however often it tries.
    b.pause.retry();
    await until(() => b.pause.waiting === 1, 5_000, 'b to try again');
    expect(b.factory.sockets).toHaveLength(0);

    // A's process dies: the server ends its lock connection. A drops the socket at once (were it
    // only cut off, it must not keep answering as a second device), and B takes over.
    expect(await killLockConnection(url, 'whatsapp')).toBe(1);
    await until(() => a.channel.status === 'standby', 5_000, 'a to stand down');
    expect(sockA.ended).toBe(true);
    // Having lost it, A waits a round before trying again: B, standing by, goes first.
    await until(() => a.pause.waiting === 1, 5_000, 'a to wait a round');
    b.pause.retry();
    await until(() => b.factory.sockets.length === 1, 5_000, 'b to connect');
    const sockB = b.factory.last;
    // The same linked device: B read the session A wrote, no new pairing.
    expect(sockB.config.auth.creds.me?.id).toBe('6281200000000:5@s.whatsapp.net');
    sockB.connect();
    await until(() => b.channel.status === 'open', 5_000, 'b open');
    sockB.receive(waMessage({ from: '6289900002222@s.whatsapp.net', text: 'halo' }));
    await b.channel.settled();
    expect(sockB.sent.map((m) => m.text).join('\n')).toMatch(/^Halo! Silakan pilih/);
    // A, alive again, waits its turn: one socket in all.
    a.pause.retry();
    await until(() => a.pause.waiting === 1, 5_000, 'a to find the session taken');
    expect(a.factory.sockets).toHaveLength(1);
    expect(a.channel.status).toBe('standby');

    // B stops cleanly: it lets the session go, and A takes it back on its next try.
    await b.channel.stop(1_000);
    expect(sockB.ended).toBe(true);
    a.pause.retry();
    await until(() => a.factory.sockets.length === 2, 5_000, 'a to connect again');
    expect(a.factory.last.config.auth.creds.me?.id).toBe('6281200000000:5@s.whatsapp.net');
  });
});

describe('Telegram long polling across instances', () => {
  it('one instance polls the bot; when it dies, another takes polling over', async () => {
    pgdb = await createTestPostgres();
    const url = pgdb.url;
    const api = await new FakeBotApi().start();
    cleanups.push(() => api.close());
    const instance = async (name: string) => {
      const db: Db = await openDatabase(url);
      cleanups.push(() => db.$disconnect());
      const { logger } = captureLogs();
      const pause = manualPause();
      const pollLock = lock(url, `telegram-poll:${botKeyOf(api.token)}`, pause);
      const channel = new TelegramChannel({
        engine: createEngine({ services: createServices(db), logger }),
        catalogue: createCatalogue(loadFlowsFrom().messages),
        logger: logger.child({ instance: name }),
        token: api.token,
        apiRoot: api.url,
        pollLock,
        stopDeadlineMs: 1_000,
      });
      cleanups.push(() => channel.stop());
      return { channel, pause, pollLock };
    };
    const a = await instance('a');
    const b = await instance('b');
    await a.channel.start();
    await until(() => a.pollLock.held, 5_000, 'a to take polling');
    await b.channel.start();
    await until(() => b.pause.waiting === 1, 5_000, 'b to find polling taken');
    const member = { id: 5550001, first_name: 'Sari' };
    api.sendText(member, 'halo');
    expect(await a.channel.whenSettled(api.lastUpdateId)).toBe('answered');
    expect(api.messagesTo(member.id).map((m) => m.text).join('\n')).toMatch(/^Halo! Silakan pilih/);

    // A dies: its poll lock goes with its connection, and B polls from its next try.
    expect(await killLockConnection(url, `telegram-poll:${botKeyOf(api.token)}`)).toBe(1);
    await until(() => a.pause.waiting === 1, 5_000, 'a to stop polling and wait');
    b.pause.retry();
    await until(() => b.pollLock.held, 5_000, 'b to take polling');
    expect(a.pollLock.held).toBe(false);
    const before = api.messagesTo(member.id).length;
    api.sendText(member, 'bantuan');
    expect(await b.channel.whenSettled(api.lastUpdateId)).toBe('answered');
    expect(api.messagesTo(member.id).slice(before).map((m) => m.text).join('\n')).toContain('cek saldo');
    // A, back, finds polling taken.
    a.pause.retry();
    await until(() => a.pause.waiting === 1, 5_000, 'a to find polling taken');
  });
});

describe('the outbox across WhatsApp instances', () => {
  it('an instance standing by leaves WhatsApp messages to the one holding the session', async () => {
    pgdb = await createTestPostgres();
    const url = pgdb.url;
    const secret = 'a test secret of at least thirty-two characters';
    const instance = async (name: string) => {
      const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent', ACTIVATION_CODE_SECRET: secret });
      cleanups.push(() => app.close());
      const factory = socketFactory();
      const pause = manualPause();
      const channel = new WhatsAppChannel({
        engine: app.engine,
        catalogue: app.catalogue,
        logger: app.logger,
        openAuthStore: () => openWhatsAppAuthStore(openWhatsAppSessionStore(app.db)),
        lock: lock(url, 'whatsapp', pause),
        makeSocket: factory.make,
        showPairing: () => undefined,
        typingMs: () => 0,
        unsolicited: { intervalMs: 0, jitter: 0 },
      });
      cleanups.push(() => channel.stop(1_000));
      const dispatcher = new OutboxDispatcher({ store: app.outbox, channels: [whatsappOutbound(channel)], logger: app.logger, quietHours: null });
      return { app, channel, factory, pause, dispatcher };
    };
    const a = await instance('a');
    const b = await instance('b');
    await seedDemo(a.app.db);
    await a.channel.start();
    await until(() => a.factory.sockets.length === 1, 5_000, 'a to connect');
    a.factory.last.connect();
    await until(() => a.channel.status === 'open', 5_000, 'a open');
    await b.channel.start();
    await until(() => b.pause.waiting === 1, 5_000, 'b to stand by');

    const queued = await queueAnnouncement(a.app.domain, { koperasiCode: 'KPRI-SEJAHTERA', text: 'Rapat pengurus hari Kamis.', actor: 'test', now: new Date() });
    // B, standing by, claims none of them: no row is put off for a minute by an instance that cannot send it.
    // (Only a member nothing could ever reach, no phone and no identity, is settled by anyone: skipped.)
    expect(await b.dispatcher.drain()).toMatchObject({ sent: 0, deferred: 0, retrying: 0 });
    const skipped = await a.app.db.outboxMessage.count({ where: { broadcastId: queued.broadcastId, state: 'skipped' } });
    const untouched = await a.app.db.outboxMessage.count({ where: { broadcastId: queued.broadcastId, state: 'queued', attempts: 0, lastError: null } });
    expect(untouched).toBe(queued.recipients - skipped);
    expect(untouched).toBeGreaterThan(0);
    // A, holding the session, sends them (or skips those no one can reach): none is left.
    const sent = (await a.dispatcher.drain()).sent;
    expect(sent).toBeGreaterThan(0);
    expect(a.factory.last.sent.filter((m) => m.text.includes('Rapat pengurus hari Kamis.'))).toHaveLength(sent);
    expect(await a.app.db.outboxMessage.count({ where: { broadcastId: queued.broadcastId, state: { in: ['queued', 'sending'] } } })).toBe(0);
  });
});
