/**
 * Pushes scripted member messages through the conversation core — identity lookup, flow,
 * database query, reply — on one core, and prints throughput and latency percentiles. By
 * default one message at a time; with a concurrency C, C members' conversations run at once
 * (each member's messages still in order), as the service answers many chats together. On a fresh SQLite file by default; DATABASE_URL=postgresql://… names an empty
 * PostgreSQL database instead (ACTIVATION_CODE_SECRET is set for it if unset).
 *
 *   npm run bench:messages                 # 10,000 messages, 1,000 members
 *   npm run bench:messages -- 50000 5000   # messages, members
 *   npm run bench:messages -- 10000 1000 8 # …, 8 conversations at once
 *   DATABASE_URL=postgresql://root@127.0.0.1/bench npm run bench:messages
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/app.ts';
import { createLogger } from '../src/logger.ts';
import { terminalMessage } from '../src/channels/terminal/terminal-channel.ts';
import { zonedTimeToUtc } from '../src/core/format.ts';
import { storeKindOf } from '../src/persistence/database.ts';

const MESSAGES = Number(process.argv[2] ?? 10_000);
const MEMBERS = Number(process.argv[3] ?? 1_000);
const CONCURRENCY = Number(process.argv[4] ?? 1);
if (MEMBERS % CONCURRENCY !== 0) throw new Error('members must be a multiple of the concurrency (each member stays in one lane)');
const SCRIPT = [
  'halo', 'cek sldo', 'saldo', '1', 'sisa utang brp', '2', 'kapan rat', 'hadir', 'menu', 'pinjaman',
  'simpanan wajib saya', 'tunggakan', 'rat', 'tidak hadir', 'makasih', 'asdfgh', 'bantuan', 'pengumuman',
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const dir = mkdtempSync(join(tmpdir(), 'kopbot-bench-'));
const url = process.env.DATABASE_URL ?? `file:${join(dir, 'bench.db')}`;
const store = storeKindOf(url) === 'postgresql' ? 'PostgreSQL' : 'SQLite';
const app = await createApp(
  { DATABASE_URL: url, LOG_LEVEL: 'warn', ACTIVATION_CODE_SECRET: process.env.ACTIVATION_CODE_SECRET ?? 'kunci-bench-kode-aktivasi-0123456789abcdef' },
  { logger: createLogger('warn') },
);
try {
  if ((await app.db.koperasi.count()) > 0) throw new Error(`${url}: the benchmark needs an empty database`);
  const koperasi = await app.db.koperasi.create({ data: { code: 'BENCH', name: 'KSP Bench Makmur', type: 'KSP' } });
  const phones: string[] = [];
  const members = [];
  for (let i = 0; i < MEMBERS; i++) {
    const phone = `62812${String(10_000_000 + i)}`;
    phones.push(phone);
    members.push({ koperasiId: koperasi.id, memberNumber: String(i + 1).padStart(5, '0'), name: `Anggota ${i + 1}`, phone });
  }
  await app.db.member.createMany({ data: members });
  const rows = await app.db.member.findMany({ select: { id: true } });
  await app.db.savingsAccount.createMany({
    data: rows.flatMap((m) => [
      { memberId: m.id, kind: 'pokok', label: 'Simpanan Pokok', balance: 100_000n, asOf: '2026-10-31' },
      { memberId: m.id, kind: 'wajib', label: 'Simpanan Wajib', balance: 2_450_000n, asOf: '2026-10-31' },
      { memberId: m.id, kind: 'sukarela', label: 'Simpanan Sukarela', balance: 1_250_000n, asOf: '2026-10-31' },
    ]),
  });
  const accounts = await app.db.savingsAccount.findMany({ where: { kind: 'wajib' }, select: { id: true } });
  await app.db.savingsTransaction.createMany({
    data: accounts.flatMap((a) => [
      { accountId: a.id, date: '2026-09-05', amount: 50_000n, balanceAfter: 2_400_000n, description: 'setoran' },
      { accountId: a.id, date: '2026-10-05', amount: 50_000n, balanceAfter: 2_450_000n, description: 'setoran' },
    ]),
  });
  for (const m of rows.filter((_, i) => i % 2 === 0)) {
    const loan = await app.db.loan.create({
      data: {
        koperasiId: koperasi.id, memberId: m.id, loanNumber: `PJ-${m.id}`, principal: 12_000_000n, outstanding: 9_000_000n,
        installment: 1_120_000n, tenorMonths: 12, disbursedOn: '2026-01-10', nextDueOn: '2026-12-10', arrears: m.id % 6 === 0 ? 1_120_000n : 0n,
      },
    });
    await app.db.loanInstallment.createMany({
      data: Array.from({ length: 12 }, (_, k) => ({
        loanId: loan.id, number: k + 1, dueOn: `2026-${String(k + 2).padStart(2, '0')}-10`.replace('2026-13', '2027-01'), principal: 1_000_000n, interest: 120_000n,
      })),
    });
  }
  await app.db.meeting.create({
    data: {
      koperasiId: koperasi.id, key: 'RAT:2026', kind: 'RAT', bookYear: 2026, startsAt: zonedTimeToUtc('2027-02-20', 9, 0, 'Asia/Jakarta'),
      place: 'Aula Koperasi', agenda: 'Laporan pengurus\nLaporan pengawas\nSHU',
    },
  });

  // Warm-up: every member asks once (verification happens here), not measured.
  for (const phone of phones) await app.engine.handle(terminalMessage(phone, 'menu'));
  for (const phone of phones) await app.engine.handle(terminalMessage(phone, 'saldo'));

  const latencies: number[] = [];
  let replies = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  // Lane k takes messages k, k + C, k + 2C, …: its members are those whose index ≡ k (mod C).
  const lane = async (k: number) => {
    for (let i = k; i < MESSAGES; i += CONCURRENCY) {
      // Members take turns; each walks the script as a conversation (so "hadir" answers "kapan rat").
      const phone = phones[i % phones.length]!;
      const text = SCRIPT[Math.floor(i / phones.length) % SCRIPT.length]!;
      const t0 = performance.now();
      const batch = await app.engine.handle(terminalMessage(phone, text));
      latencies.push(performance.now() - t0);
      replies += batch.replies.length;
      if (batch.replies.length === 0 || batch.replies[0]!.text.includes('gangguan')) throw new Error(`no proper reply to "${text}"`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, k) => lane(k)));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(`member messages: ${MESSAGES} messages from ${MEMBERS} members, ${replies} replies, ${store}, one process, ${CONCURRENCY} at a time`);
  console.log(`throughput: ${(MESSAGES / seconds).toFixed(0)} messages/s (${seconds.toFixed(2)} s)`);
  console.log(
    `latency ms: p50 ${percentile(latencies, 50).toFixed(2)}  p90 ${percentile(latencies, 90).toFixed(2)}  p99 ${percentile(latencies, 99).toFixed(2)}  max ${latencies.at(-1)!.toFixed(2)}`,
  );
  // CPU time moves less than wall time when other work shares the cores (PostgreSQL's own is not in it).
  console.log(`cpu: ${((cpu.user + cpu.system) / MESSAGES).toFixed(0)} µs per message in this process (user + system)`);
  console.log(`rss: ${rss.toFixed(0)} MB`);
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
