/**
 * Launch day. Members are told "press 📱 Bagikan nomor saya" and they all do: a real `kopbot
 * start` polls a local Bot API on 127.0.0.1 that enforces Telegram's limits (30 messages a
 * second overall, 429 beyond), and 1,000 new Telegram users each share their contact and send 4
 * messages, all within 2 seconds. Prints the time to the last reply, replies lost, session states
 * lost, /health's answer time (polled every 100 ms throughout) and how long SIGTERM takes to end
 * the process. Then the same again while a broadcast to 6,000 members drains, and the difference
 * in the members' reply time.
 *
 * A reply counts as lost when it never arrived; a session state as lost when the conversation
 * row does not hold the phone the member's contact proved (or the service logged "not saved").
 *
 *   npm run bench:launch                       # 1,000 users, 4 messages each, broadcast to 6,000
 *   npm run bench:launch -- 200 4 1000 300     # users, messages per user, broadcast size, most seconds to wait
 *   DATABASE_URL=postgresql://root@127.0.0.1:5432/postgres npm run bench:launch   # on PostgreSQL: a new database per run
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.ts';
import { DEMO_KOPERASI, seedDemo } from '../src/persistence/seed-demo.ts';
import { queueAnnouncement } from '../src/domain/announcements.ts';
import { spawnKopbot, unusedPort } from '../test/helpers/cli.ts';
import { FakeBotApi, type FakeUser } from '../test/helpers/fake-bot-api.ts';

const USERS = Number(process.argv[2] ?? 1_000);
const MESSAGES = Number(process.argv[3] ?? 4);
const BROADCAST = Number(process.argv[4] ?? 6_000);
/** What has not arrived this long after the burst counts as lost (a frozen service never goes quiet). */
const GIVE_UP_MS = Number(process.argv[5] ?? 900) * 1000;
const SPREAD_MS = 2_000;
const SCRIPT = ['saldo', 'pinjaman', 'kapan rat', 'menu', 'simpanan wajib saya', 'rat'];
/** Nothing more arrives this long after the last reply: what is missing is lost (a reply waits 60 s at most). */
const SILENCE_MS = 65_000;
const FIRST_CHAT = 3_000_000;
const BROADCAST_CHAT = 4_000_000;
/** DATABASE_URL=postgresql://… runs on that server, in a new database each run (dropped after). */
const POSTGRES = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : undefined;
/** PostgreSQL keeps no key file beside the database: the service needs the secret given. */
const SECRET = { ACTIVATION_CODE_SECRET: process.env.ACTIVATION_CODE_SECRET ?? 'a bench secret of at least thirty-two characters' };

const phoneOf = (i: number) => `62816${String(10_000_000 + i)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface RunResult {
  lastReplyMs: number;
  expected: number;
  received: number;
  replyP50: number;
  replyP99: number;
  lostByService: number;
  sessionsLost: number;
  notSavedLogs: number;
  healthP99: number;
  healthMax: number;
  healthFailed: number;
  exitMs: number;
  exitCode: number | null;
  broadcastSent: number;
}

/** Members with phones (the users-to-be), a savings account each; with a broadcast, its audience verified on Telegram. */
async function seed(url: string, api: FakeBotApi, broadcast: number): Promise<void> {
  const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent', ...SECRET });
  try {
    const db = app.db;
    await seedDemo(db);
    const demo = await db.koperasi.findUniqueOrThrow({ where: { code: DEMO_KOPERASI } });
    const audience = broadcast > 0 ? await db.koperasi.create({ data: { code: 'SIARAN', name: 'KSP Siaran Makmur', type: 'KSP' } }) : null;
    // Setting up is not what is measured: rows in bulk, through Prisma on either store.
    const members = async (rows: { koperasiId: number; memberNumber: string; name: string; phone: string }[]) => {
      const made: number[] = [];
      for (let at = 0; at < rows.length; at += 2_000) {
        const chunk = rows.slice(at, at + 2_000).map((row) => ({ ...row, status: 'AKTIF' }));
        made.push(...(await db.member.createManyAndReturn({ data: chunk, select: { id: true } })).map((m) => m.id));
      }
      return made;
    };
    // One more than the users: the member who shows what each step is answered with.
    const users = await members(Array.from({ length: USERS + 1 }, (_, i) => ({ koperasiId: demo.id, memberNumber: `LD${String(i).padStart(5, '0')}`, name: `Peserta ${i}`, phone: phoneOf(i) })));
    await db.savingsAccount.createMany({ data: users.map((memberId) => ({ memberId, kind: 'wajib', label: 'Simpanan Wajib', balance: 1_250_000n, asOf: '2026-10-31' })) });
    if (audience) {
      const phones = Array.from({ length: broadcast }, (_, i) => `62817${String(10_000_000 + i)}`);
      const listeners = await members(phones.map((phone, i) => ({ koperasiId: audience.id, memberNumber: String(i + 1).padStart(5, '0'), name: `Anggota Siaran ${i}`, phone })));
      await db.channelIdentity.createMany({
        data: listeners.map((memberId, i) => ({ channel: 'telegram', externalId: String(BROADCAST_CHAT + i), memberId, phone: phones[i]!, verifiedBy: 'contact', verifiedAt: new Date(), language: 'id' })),
      });
      for (let i = 0; i < broadcast; i++) api.addChat(BROADCAST_CHAT + i);
      await queueAnnouncement(app.domain, { koperasiCode: audience.code, text: 'Pengumuman: kantor koperasi tutup 25 Desember.', actor: 'bench', now: new Date() });
    }
  } finally {
    await app.close();
  }
}

/** After a run: how many users' session rows lost the phone their contact proved, and how many broadcast messages went out. */
async function readBack(url: string, users: readonly FakeUser[]): Promise<{ sessionsLost: number; broadcastSent: number }> {
  const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent', ...SECRET });
  try {
    const rows = await app.db.conversationSession.findMany({ where: { channel: 'telegram', chatId: { in: users.map((u) => String(u.id)) } }, select: { chatId: true, data: true } });
    const proven = new Map(rows.map((row) => [row.chatId, (JSON.parse(row.data) as { provenPhone?: string }).provenPhone]));
    const sessionsLost = users.filter((u, i) => proven.get(String(u.id)) !== phoneOf(i)).length;
    const broadcastSent = await app.db.outboxMessage.count({ where: { state: 'sent' } });
    return { sessionsLost, broadcastSent };
  } finally {
    await app.close();
  }
}

/** A database of the run's own: a temporary SQLite file, or a new database on the PostgreSQL server DATABASE_URL names. */
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (POSTGRES) {
    process.env.KOPBOT_TEST_POSTGRES = POSTGRES;
    const { createTestPostgres } = await import('../test/helpers/postgres.ts');
    return createTestPostgres('kopbot_bench_launch');
  }
  const dir = mkdtempSync(join(tmpdir(), 'kopbot-bench-launch-'));
  return { url: `file:${join(dir, 'bench.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** How many messages the bot sends for each step, seen on one member taking the steps one by one. */
async function messagesPerStep(api: FakeBotApi, user: FakeUser, steps: readonly ((user: FakeUser) => void)[]): Promise<number[]> {
  const counts: number[] = [];
  for (const step of steps) {
    const before = api.messagesTo(user.id).length;
    step(user);
    await api.waitForMessages(user.id, 1, { after: before, timeoutMs: 30_000 });
    for (let seen = -1; seen !== api.messagesTo(user.id).length; ) {
      seen = api.messagesTo(user.id).length;
      await sleep(300);
    }
    counts.push(api.messagesTo(user.id).length - before);
  }
  return counts;
}

/** GET /health every 100 ms until stopped; each answer's time (a failure or a 30 s timeout counts as 30 s). */
function pollHealth(port: number): { stop(): Promise<{ times: number[]; failed: number; last: { telegram?: { repliesLost?: number } } }> } {
  const times: number[] = [];
  let failed = 0;
  let last: { telegram?: { repliesLost?: number } } = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      const began = performance.now();
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(30_000) });
        last = (await response.json()) as typeof last;
        if (!response.ok) failed++;
        times.push(performance.now() - began);
      } catch {
        failed++;
        times.push(30_000);
      }
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { times, failed, last };
    },
  };
}

async function run(broadcast: number): Promise<RunResult> {
  const database = await freshDatabase();
  const api = await new FakeBotApi().start();
  try {
    const url = database.url;
    await seed(url, api, broadcast);
    const port = await unusedPort();
    const kopbot = spawnKopbot(['start'], { ...SECRET, DATABASE_URL: url, TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url, PORT: String(port), LOG_LEVEL: 'warn', QUIET_HOURS: 'off', WHATSAPP_ENABLED: 'false' });
    await kopbot.saysOnStderr('Layanan koperasi berjalan');

    const steps = [(u: FakeUser, i: number) => api.shareContact(u, { phone: phoneOf(i) }), ...Array.from({ length: MESSAGES }, (_, k) => (u: FakeUser) => void api.sendText(u, SCRIPT[k % SCRIPT.length]!))];
    const perStep = await messagesPerStep(api, { id: FIRST_CHAT + USERS, first_name: 'Contoh' }, steps.map((step) => (u: FakeUser) => step(u, USERS)));
    const perUser = perStep.reduce((a, b) => a + b, 0);

    // The burst: user i takes all its steps at i × 2 ms, 1,000 users over 2 seconds.
    const users: FakeUser[] = Array.from({ length: USERS }, (_, i) => ({ id: FIRST_CHAT + i, first_name: `Peserta${i}` }));
    const sentAt = users.map(() => [] as number[]);
    const health = pollHealth(port);
    const burstAt = Date.now();
    for (let next = 0; next < USERS; ) {
      const due = Math.min(USERS, Math.floor(((Date.now() - burstAt) / SPREAD_MS) * USERS) + 1);
      for (; next < due; next++) {
        for (const step of steps) {
          sentAt[next]!.push(Date.now());
          step(users[next]!, next);
        }
      }
      await sleep(5);
    }

    const ids = new Set(users.map((u) => u.id));
    const toUsers = () => api.sent.filter((m) => ids.has(m.chat_id));
    for (let last = Date.now(), count = 0; ; ) {
      const now = toUsers().length;
      if (now !== count) [count, last] = [now, Date.now()];
      if (count >= USERS * perUser || Date.now() - last > SILENCE_MS || Date.now() - burstAt > GIVE_UP_MS) break;
      await sleep(250);
    }
    const polled = await health.stop();

    const replies = users.map((u) => api.messagesTo(u.id));
    const received = replies.reduce((sum, r) => sum + Math.min(perUser, r.length), 0);
    // Step k's answer is the first message after the earlier steps' messages (a chat is answered in order).
    const waits: number[] = [];
    replies.forEach((got, i) => {
      let index = 0;
      perStep.forEach((count, k) => {
        if (got[index]) waits.push(got[index]!.at - sentAt[i]![k]!);
        index += count;
      });
    });
    const lastReplyMs = Math.max(...toUsers().map((m) => m.at)) - burstAt;

    const stopping = Date.now();
    kopbot.child.kill('SIGTERM');
    const exit = await kopbot.exited;
    const exitMs = Date.now() - stopping;

    const { sessionsLost, broadcastSent } = await readBack(url, users);

    return {
      lastReplyMs,
      expected: USERS * perUser,
      received,
      replyP50: percentile(waits, 50),
      replyP99: percentile(waits, 99),
      lostByService: polled.last.telegram?.repliesLost ?? 0,
      sessionsLost,
      notSavedLogs: exit.stderr.split('\n').filter((line) => line.includes('not saved')).length,
      healthP99: percentile(polled.times, 99),
      healthMax: Math.max(...polled.times),
      healthFailed: polled.failed,
      exitMs,
      exitCode: exit.code,
      broadcastSent,
    };
  } finally {
    await api.close();
    await database.drop();
  }
}

function report(label: string, r: RunResult): void {
  console.log(`${label}:`);
  console.log(`  last reply ${seconds(r.lastReplyMs)} after the first contact; replies lost ${r.expected - r.received} of ${r.expected} (the service counted ${r.lostByService} as lost past its 60 s deadline)`);
  console.log(`  members' reply time p50 ${seconds(r.replyP50)}, p99 ${seconds(r.replyP99)}`);
  console.log(`  session states lost ${r.sessionsLost} of ${USERS} ("not saved" logged ${r.notSavedLogs} times)`);
  console.log(`  /health p99 ${Math.round(r.healthP99)} ms, max ${Math.round(r.healthMax)} ms, failed ${r.healthFailed}`);
  console.log(`  SIGTERM to exit ${r.exitMs} ms (code ${r.exitCode})${r.broadcastSent > 0 ? `; broadcast messages sent meanwhile ${r.broadcastSent}` : ''}`);
}

console.log(`launch day on ${POSTGRES ? 'PostgreSQL' : 'SQLite'}: ${USERS} new Telegram users each share their contact and send ${MESSAGES} messages within ${SPREAD_MS / 1000} s; Bot API at 30 messages/s on 127.0.0.1`);
const calm = await run(0);
report('alone', calm);
if (BROADCAST > 0) {
  const busy = await run(BROADCAST);
  report(`while a broadcast to ${BROADCAST} drains`, busy);
  console.log(`members' reply p99: ${seconds(busy.replyP99 - calm.replyP99)} above the run without the broadcast (goal: under 3 s)`);
}
console.log('goals: 0 replies lost, 0 session states lost, /health p99 under 1 s, SIGTERM to exit under 10 s');
