/**
 * Broadcast benchmark, on the database DATABASE_URL names (default: a temporary SQLite file).
 * Prints its figures; not part of `npm test`.
 *
 * 1. Queue an announcement to QUEUE members of one cooperative through `queueAnnouncement`,
 *    the path `kopbot broadcast`, the officer's chat command and the service share (one
 *    `INSERT … SELECT` fan-out): time taken and peak memory of this process. It is scheduled
 *    for tomorrow, so its rows stay out of the drain below; the fan-out is the same.
 * 2. Claim a batch from that backlog once it is due: how long one dispatcher claim takes; then
 *    an instance without WhatsApp's claims: its first reads past every (WhatsApp-only) row, the
 *    next goes on from where it stopped.
 * 3. Drain DRAIN messages to a local Telegram-like Bot API server on 127.0.0.1 that enforces
 *    30 messages per second overall (and Telegram's per-chat limits), through the channels
 *    `kopbot outbox drain` uses (the Telegram sender on the bot's send budget in the database)
 *    and the real dispatcher: achieved rate and the number of 429 answers.
 *
 * The cooperatives it creates (and their members, rows and audit entries) are removed at the
 * end, so it can run against an existing PostgreSQL database.
 *
 *   npm run bench:broadcast                                   # SQLite: 100,000 queued, 3,000 drained
 *   npm run bench:broadcast -- 20000 600                      # smaller
 *   DATABASE_URL=postgresql://root@127.0.0.1:5432/kopbot_bench npm run bench:broadcast -- 1000000 3000
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { commandLineChannels } from '../src/outbox/setup.ts';
import { queueAnnouncement } from '../src/domain/announcements.ts';
import { createKoperasiStore } from '../src/persistence/domain-stores.ts';
import { OutboxDispatcher } from '../src/outbox/dispatcher.ts';
import { openDatabase, storeKindOf, type Db } from '../src/persistence/database.ts';
import { openOutboxStore } from '../src/persistence/outbox-stores.ts';
import { sqliteDateTime } from '../src/persistence/sqlite-hot-path.ts';
import { tempDir } from '../test/helpers/app.ts';
import { FakeBotApi } from '../test/helpers/fake-bot-api.ts';

const QUEUE = Number(process.argv[2] ?? 100_000);
const DRAIN = Number(process.argv[3] ?? 3_000);
const quiet = pino({ level: 'silent' });

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

const dir = process.env.DATABASE_URL ? undefined : tempDir('kopbot-bench-broadcast-');
const url = process.env.DATABASE_URL ?? `file:${join(dir!, 'bench.db')}`;
const kind = storeKindOf(url);
const db = await openDatabase(url);
const store = openOutboxStore(url);
const api = await new FakeBotApi().start();

/** Members 1…count of a cooperative, written by the database itself (setting up is not what is measured). */
async function seedMembers(db: Db, koperasiId: number, count: number, phonePrefix: string): Promise<void> {
  const at = new Date();
  const now = kind === 'postgresql' ? `CAST('${at.toISOString()}' AS timestamp(3))` : `'${sqliteDateTime(at)}'`;
  const select = `SELECT ${koperasiId}, substr('000000' || g.n, -7), 'Anggota ' || g.n, '${phonePrefix}' || (10000000 + g.n), 'AKTIF', ${now}, ${now}`;
  const insert = 'INSERT INTO "Member" ("koperasiId", "memberNumber", "name", "phone", "status", "createdAt", "updatedAt")';
  await db.$executeRawUnsafe(
    kind === 'postgresql'
      ? `${insert} ${select.replace("substr('000000' || g.n, -7)", "lpad(g.n::text, 7, '0')")} FROM generate_series(1, ${count}) AS g(n)`
      : `${insert} WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${count}) ${select} FROM g`,
  );
}

const suffix = randomBytes(3).toString('hex').toUpperCase();
const created: number[] = [];
try {
  const big = await db.koperasi.create({ data: { code: `BENCH-BESAR-${suffix}`, name: 'KSP Bench Besar', type: 'KSP' } });
  const small = await db.koperasi.create({ data: { code: `BENCH-TELEGRAM-${suffix}`, name: 'KSP Bench Telegram', type: 'KSP' } });
  created.push(big.id, small.id);
  await seedMembers(db, big.id, QUEUE, '62812');
  await seedMembers(db, small.id, DRAIN, '62813');
  // Each Telegram member's chat: the identity their contact proved (chat id 100000 + n - 1).
  await db.$executeRawUnsafe(`
    INSERT INTO "ChannelIdentity" ("channel", "externalId", "memberId", "phone", "verifiedBy", "language", "failedAttempts", "createdAt", "updatedAt")
    SELECT 'telegram', CAST(99999 + CAST(m."memberNumber" AS int) AS text), m."id", m."phone", 'contact', 'id', 0, m."createdAt", m."updatedAt"
    FROM "Member" m WHERE m."koperasiId" = ${small.id}`);
  for (let i = 0; i < DRAIN; i++) api.addChat(100_000 + i);
  // After a bulk load, as autovacuum and the checkpointer would soon leave it: statistics for the
  // planner, hint bits set, the seed's dirty pages written (not flushed during the measurement),
  // and the outbox rows an earlier run removed vacuumed away (else every claim reads past them).
  if (kind === 'postgresql') {
    await db.$executeRawUnsafe('VACUUM ANALYZE "Member", "ChannelIdentity", "OutboxMessage"');
    await db.$executeRawUnsafe('CHECKPOINT').catch(() => console.log('(no CHECKPOINT: the role may not run it; figures include the seed\'s writes)'));
  } else {
    await db.$executeRawUnsafe('ANALYZE');
  }

  // 1. Queueing.
  const tomorrow = new Date(Date.now() + 24 * 3_600_000);
  const rssBefore = process.memoryUsage().rss;
  peakRss = rssBefore;
  let started = performance.now();
  const queued = await queueAnnouncement({ koperasi: createKoperasiStore(db), outbox: store }, { koperasiCode: big.code, text: 'Pengumuman: RAT tahun buku 2026 diadakan Sabtu, 13 Maret 2027.', actor: 'bench', at: tomorrow, now: new Date() });
  const queueMs = performance.now() - started;
  console.log(
    `${kind} queue: ${queued.recipients.toLocaleString('en')} recipients in ${(queueMs / 1000).toFixed(2)} s ` +
      `(${Math.round(queued.recipients / (queueMs / 1000)).toLocaleString('en')} rows/s); RSS ${mb(rssBefore)} before, peak ${mb(peakRss)}`,
  );

  // 2. One claim of a dispatcher's batch (200) from the whole backlog, due.
  const due = new Date(tomorrow.getTime() + 1_000);
  started = performance.now();
  const claimed = await store.claim('bench', due, new Date(due.getTime() + 60_000), 200, { identityChannels: ['telegram'], byPhone: true });
  console.log(`${kind} claim: ${claimed.length} of ${queued.recipients.toLocaleString('en')} due rows in ${Math.round(performance.now() - started)} ms`);
  // An instance without WhatsApp: none of these members has another channel, so its first claim
  // reads past every due row; the next ones go on from where it stopped (one pass a minute).
  const telegramOnly = { identityChannels: ['telegram'], byPhone: false };
  const passes: number[] = [];
  for (let i = 0; i < 2; i++) {
    started = performance.now();
    await store.claim('bench-telegram', due, new Date(due.getTime() + 60_000), 200, telegramOnly);
    passes.push(Math.round(performance.now() - started));
  }
  console.log(`${kind} claim without WhatsApp: the pass over ${(queued.recipients - claimed.length).toLocaleString('en')} WhatsApp-only due rows ${passes[0]} ms, the next claim ${passes[1]} ms`);

  // 3. Draining to the local Bot API server (30 messages/s overall).
  await queueAnnouncement({ koperasi: createKoperasiStore(db), outbox: store }, { koperasiCode: small.code, text: 'Pengumuman: kantor tutup 25 Desember.', actor: 'bench', now: new Date() });
  const nowhere = new Writable({ write: (_chunk, _encoding, done) => done() });
  const wiring = commandLineChannels({ TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url, WHATSAPP_ENABLED: false, DATABASE_URL: url }, quiet, nowhere);
  const dispatcher = new OutboxDispatcher({ store, channels: wiring.channels, elsewhere: wiring.elsewhere, logger: quiet, quietHours: null });
  started = performance.now();
  const summary = await dispatcher.drain().finally(() => wiring.close());
  const drainS = (performance.now() - started) / 1000;
  console.log(
    `${kind} drain: ${summary.sent.toLocaleString('en')} sent in ${drainS.toFixed(1)} s = ${(summary.sent / drainS).toFixed(1)} messages/s; ` +
      `429 answers from the server: ${api.floodRefusals}; failed ${summary.failed}, retried ${summary.retrying}; peak RSS ${mb(peakRss)}`,
  );
} finally {
  clearInterval(sampler);
  if (!dir && created.length > 0) {
    const broadcasts = (await db.broadcast.findMany({ where: { koperasiId: { in: created } }, select: { id: true } })).map((b) => b.id);
    await db.outboxMessage.deleteMany({ where: { broadcastId: { in: broadcasts } } });
    await db.broadcast.deleteMany({ where: { id: { in: broadcasts } } });
    await db.auditLog.deleteMany({ where: { koperasiId: { in: created }, action: 'broadcast.queue' } });
    await db.channelIdentity.deleteMany({ where: { member: { koperasiId: { in: created } } } });
    await db.koperasi.deleteMany({ where: { id: { in: created } } });
  }
  await store.close();
  await api.close();
  await db.$disconnect();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
