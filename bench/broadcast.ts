/**
 * Broadcast benchmark. Prints its figures; not part of `npm test`.
 *
 * 1. Queue an announcement to 100,000 members of one cooperative on SQLite (the same
 *    `queueAnnouncement` `kopbot broadcast` uses): time taken and peak memory.
 * 2. Drain 3,000 messages to a local Telegram-like Bot API server on 127.0.0.1 that enforces
 *    30 messages per second overall (and Telegram's per-chat limits), through the real
 *    dispatcher and Telegram sender: achieved rate and the number of 429 answers.
 *
 *   npm run bench:broadcast                  # 100,000 queued, 3,000 drained
 *   npm run bench:broadcast -- 20000 600     # smaller
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pino from 'pino';
import { Telegram } from 'telegraf';
import { createApp } from '../src/app.ts';
import { TelegramSender } from '../src/channels/telegram/telegram-sender.ts';
import { telegramOutbound } from '../src/outbox/channels.ts';
import { queueAnnouncement } from '../src/outbox/broadcast.ts';
import { OutboxDispatcher } from '../src/outbox/dispatcher.ts';
import { openOutboxStore } from '../src/persistence/outbox-stores.ts';
import { sqliteDateTime } from '../src/persistence/sqlite-hot-path.ts';
import { sqlitePathOf } from '../src/persistence/database.ts';
import { tempDir } from '../test/helpers/app.ts';
import { FakeBotApi } from '../test/helpers/fake-bot-api.ts';

const QUEUE = Number(process.argv[2] ?? 100_000);
const DRAIN = Number(process.argv[3] ?? 3_000);
const quiet = pino({ level: 'silent' });

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

const dir = tempDir('kopbot-bench-broadcast-');
const url = `file:${join(dir, 'bench.db')}`;
const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'warn' }, { logger: quiet });
const api = await new FakeBotApi().start();
const store = openOutboxStore(url);
try {
  // Members are written straight into SQLite (setting up is not what is measured).
  const big = await app.db.koperasi.create({ data: { code: 'BESAR', name: 'KSP Bench Besar', type: 'KSP' } });
  const small = await app.db.koperasi.create({ data: { code: 'TELEGRAM', name: 'KSP Bench Telegram', type: 'KSP' } });
  const raw = new Database(sqlitePathOf(url));
  const now = sqliteDateTime(new Date());
  const insertMember = raw.prepare('INSERT INTO Member (koperasiId, memberNumber, name, phone, status, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertIdentity = raw.prepare("INSERT INTO ChannelIdentity (channel, externalId, memberId, phone, verifiedBy, language, failedAttempts, createdAt, updatedAt) VALUES ('telegram', ?, ?, ?, 'contact', 'id', 0, ?, ?)");
  raw.transaction(() => {
    for (let i = 0; i < QUEUE; i++) insertMember.run(big.id, String(i + 1).padStart(6, '0'), `Anggota ${i + 1}`, `62812${String(10_000_000 + i)}`, 'AKTIF', now, now);
    for (let i = 0; i < DRAIN; i++) {
      const phone = `62813${String(10_000_000 + i)}`;
      const id = Number(insertMember.run(small.id, String(i + 1).padStart(6, '0'), `Anggota T${i + 1}`, phone, 'AKTIF', now, now).lastInsertRowid);
      insertIdentity.run(String(100_000 + i), id, phone, now, now);
      api.addChat(100_000 + i);
    }
  })();
  raw.close();

  // 1. Queueing.
  const rssBefore = process.memoryUsage().rss;
  peakRss = rssBefore;
  let started = performance.now();
  const queued = await queueAnnouncement(app.db, store, { koperasiCode: 'BESAR', text: 'Pengumuman: RAT tahun buku 2026 diadakan Sabtu, 13 Maret 2027.', actor: 'bench', now: new Date() });
  const queueMs = performance.now() - started;
  console.log(`queue: ${queued.recipients.toLocaleString('en')} recipients in ${(queueMs / 1000).toFixed(2)} s (${Math.round(queued.recipients / (queueMs / 1000)).toLocaleString('en')} rows/s); RSS ${mb(rssBefore)} before, peak ${mb(peakRss)}`);

  // 2. Draining to the local Bot API server (30 messages/s overall).
  // The 100,000 rows of the first broadcast are put aside so the drain sends exactly DRAIN.
  const aside = new Database(sqlitePathOf(url));
  aside.prepare("UPDATE OutboxMessage SET notBefore = '2999-01-01T00:00:00.000+00:00' WHERE broadcastId = ?").run(queued.broadcastId);
  aside.close();
  await queueAnnouncement(app.db, store, { koperasiCode: 'TELEGRAM', text: 'Pengumuman: kantor tutup 25 Desember.', actor: 'bench', now: new Date() });
  const telegram = new Telegram(api.token, { apiRoot: api.url });
  const sender = new TelegramSender((method, payload) => telegram.callApi(method as never, payload as never), quiet);
  const dispatcher = new OutboxDispatcher({ store, channels: [telegramOutbound(sender)], logger: quiet, quietHours: null });
  started = performance.now();
  const summary = await dispatcher.drain();
  const drainS = (performance.now() - started) / 1000;
  console.log(
    `drain: ${summary.sent.toLocaleString('en')} sent in ${drainS.toFixed(1)} s = ${(summary.sent / drainS).toFixed(1)} messages/s; ` +
      `429 answers from the server: ${api.floodRefusals}; failed ${summary.failed}, retried ${summary.retrying}; peak RSS ${mb(peakRss)}`,
  );
} finally {
  clearInterval(sampler);
  await store.close();
  await api.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
