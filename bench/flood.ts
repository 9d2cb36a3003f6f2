/**
 * One chat floods, the others must not notice. A real `kopbot start` polls a local Bot API on
 * 127.0.0.1 (Telegram's limits: 30 messages a second, 429 beyond). Twice: 100 members writing
 * at a normal pace, then the same while one member sends 10,000 messages at once. Prints the
 * others' reply time (p50, p99) in each run, the difference, what the flooder got, and how long
 * SIGTERM took to end the process each time.
 *
 *   npm run bench:flood                  # 100 others, 10,000 flood messages, 4 rounds
 *   npm run bench:flood -- 100 20000 6   # others, flood messages, rounds
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/app.ts';
import { seedDemo } from '../src/persistence/seed-demo.ts';
import { addTelegramMembers, FakeBotApi } from '../test/helpers/fake-bot-api.ts';

const OTHERS = Number(process.argv[2] ?? 100);
const FLOOD = Number(process.argv[3] ?? 10_000);
const ROUNDS = Number(process.argv[4] ?? 4);
/** Each member writes once per round; a round lasts long enough for Telegram's 30 a second. */
const ROUND_MS = Math.max(1_000, Math.ceil((OTHERS / 25) * 1_000));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface RunResult {
  p50: number;
  p99: number;
  answered: number;
  expected: number;
  toFlooder: number;
  exitMs: number;
  exitCode: number | null;
  /** From the flood's first message to Telegram told past its last. */
  drainMs: number;
}

async function run(flood: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kopbot-bench-flood-'));
  const api = await new FakeBotApi().start();
  try {
    const url = `file:${join(dir, 'bench.db')}`;
    const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent' });
    await seedDemo(app.db);
    await addTelegramMembers(app.db, api, { koperasiCode: 'KPRI-SEJAHTERA', count: OTHERS + 1, firstChatId: 50_000 });
    await app.close();
    const others = Array.from({ length: OTHERS }, (_, i) => ({ id: 50_000 + i, first_name: `Anggota ${i}` }));
    const flooder = { id: 50_000 + OTHERS, first_name: 'Banjir' };

    const env = { ...process.env, DATABASE_URL: url, TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url, PORT: String(await freePort()), LOG_LEVEL: 'warn', QUIET_HOURS: 'off', WHATSAPP_ENABLED: 'false' };
    const child = spawn(process.execPath, [join(ROOT, 'bin/kopbot.js'), 'start'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Layanan koperasi berjalan')) resolve();
      });
      void exited.then(() => reject(new Error(`kopbot start ended: ${stderr}`)));
    });

    // Each member's k-th reply answers its k-th message (a chat is answered in order).
    const sentAt = new Map<number, number[]>(others.map((m) => [m.id, []]));
    let drainMs = Number.NaN;
    for (let round = 0; round < ROUNDS; round++) {
      if (round === 1 && flood > 0) {
        const began = Date.now();
        for (let i = 0; i < flood; i++) api.sendText(flooder, `spam ${i}`);
        const last = api.lastUpdateId;
        // The others' messages sent meanwhile wait at Telegram behind the whole flood.
        void api.waitUntil(() => api.confirmedBelow > last, { timeoutMs: 60_000 }).then(() => (drainMs = Date.now() - began), () => undefined);
      }
      for (const member of others) {
        sentAt.get(member.id)!.push(Date.now());
        api.sendText(member, 'ok');
        await new Promise((resolve) => setTimeout(resolve, ROUND_MS / OTHERS));
      }
    }
    const expected = OTHERS * ROUNDS;
    const deadline = Date.now() + 60_000;
    const answered = () => others.reduce((sum, m) => sum + Math.min(ROUNDS, api.messagesTo(m.id).length), 0);
    while (answered() < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

    const waits: number[] = [];
    for (const member of others) {
      const replies = api.messagesTo(member.id);
      sentAt.get(member.id)!.forEach((at, k) => {
        if (replies[k]) waits.push(replies[k]!.at - at);
      });
    }
    waits.sort((a, b) => a - b);

    const began = Date.now();
    child.kill('SIGTERM');
    const exitCode = await exited;
    return { p50: percentile(waits, 50), p99: percentile(waits, 99), answered: answered(), expected, toFlooder: api.messagesTo(flooder.id).length, exitMs: Date.now() - began, exitCode, drainMs };
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`${OTHERS} members, ${ROUNDS} rounds of one message each (a round every ${ROUND_MS} ms); flood: ${FLOOD.toLocaleString('en')} messages from one chat`);
const calm = await run(0);
console.log(`without the flood: others' replies p50 ${calm.p50} ms, p99 ${calm.p99} ms; ${calm.answered}/${calm.expected} answered; SIGTERM to exit ${calm.exitMs} ms (code ${calm.exitCode})`);
const flooded = await run(FLOOD);
console.log(
  `with the flood:    others' replies p50 ${flooded.p50} ms, p99 ${flooded.p99} ms; ${flooded.answered}/${flooded.expected} answered; the flooder got ${flooded.toFlooder} messages; the flood taken from Telegram in ${flooded.drainMs} ms; SIGTERM to exit ${flooded.exitMs} ms (code ${flooded.exitCode})`,
);
console.log(`p99 difference: ${flooded.p99 - calm.p99} ms (goal: within 50 ms); SIGTERM goal: under 10,000 ms`);
