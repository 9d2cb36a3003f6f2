/**
 * Import benchmark. Prints its figures; not part of `npm test`.
 *
 * Generates a members file of 100,000 rows (title lines, a JUMLAH row, a signature block,
 * Indonesian-Excel ";" CSV) and a long savings file of 300,000 rows (three kinds per member),
 * then imports members, savings, and both again unchanged, each in its own process through
 * the same `importFile` the CLI uses, printing seconds and peak RSS for each step.
 *
 *   npm run bench:import                  # 100,000 members, 300,000 savings rows
 *   npm run bench:import -- 20000         # smaller
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createApp } from '../src/app.ts';
import { importFile } from '../src/import/import-file.ts';
import { favourSmallHeap } from '../src/import/heap.ts';
import type { ImportKind } from '../src/import/columns.ts';
import { summarize } from '../src/import/report.ts';
import { tempDir } from '../test/helpers/app.ts';
import { balanceOf, generateMembers, MEMBER_HEADER, memberRows, SAVINGS_KINDS, writeCsv } from '../test/fixtures/cooperative-files.ts';

const NOW = new Date('2026-11-22T03:00:00Z');

if (process.argv[2] === '--step') {
  // One import in this process: print its time, peak RSS and summary as JSON.
  const [, , , url, kind, path, koperasi] = process.argv as string[];
  favourSmallHeap(); // as `kopbot import` does
  const app = await createApp({ DATABASE_URL: url!, LOG_LEVEL: 'warn' }, { logger: pino({ level: 'silent' }) });
  const started = performance.now();
  const result = await importFile(app.imports, kind as ImportKind, path!, { koperasiCode: koperasi, actor: 'bench', now: NOW });
  const seconds = (performance.now() - started) / 1000;
  await app.close();
  process.stdout.write(JSON.stringify({ seconds, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), summary: summarize(result), ok: result.ok, problems: result.problems.slice(0, 5) }));
  process.exit(result.ok ? 0 : 1);
}

const MEMBERS = Number(process.argv[2] ?? 100_000);
const dir = tempDir('kopbot-bench-import-');
const url = `file:${join(dir, 'bench.db')}`;
const self = fileURLToPath(import.meta.url);

const generated = performance.now();
const members = generateMembers({ count: MEMBERS, numbering: 'digits' });
const membersCsv = writeCsv(join(dir, 'anggota.csv'), MEMBER_HEADER, memberRows(members), {
  titleLines: ['DAFTAR ANGGOTA KSU MAJU JAYA', 'PER 31 OKTOBER 2026'],
  totalsRow: true,
  signatureBlock: true,
});
const savingsRows = members.flatMap((m, i) => SAVINGS_KINDS.map((kind, k) => [m.number, kind, `Rp ${balanceOf(i, k).toLocaleString('id-ID')},00`, '31/10/2026']));
const savingsCsv = writeCsv(join(dir, 'simpanan.csv'), ['No. Anggota', 'Jenis Simpanan', 'Saldo', 'Per Tanggal'], savingsRows);
const koperasiCsv = writeCsv(join(dir, 'koperasi.csv'), ['kode', 'nama', 'jenis', 'kecamatan'], [['MJ', 'KSU Maju Jaya', 'KSU', 'Kraksaan']]);
process.stdout.write(`Berkas dibuat: ${MEMBERS.toLocaleString('id-ID')} anggota, ${savingsRows.length.toLocaleString('id-ID')} baris simpanan (${((performance.now() - generated) / 1000).toFixed(1)} s)\n`);

function step(label: string, kind: ImportKind, path: string, koperasi?: string): void {
  const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--step', url, kind, path, ...(koperasi ? [koperasi] : [])], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (child.status !== 0 && !child.stdout) {
    process.stderr.write(child.stderr);
    throw new Error(`${label} failed`);
  }
  const figures = JSON.parse(child.stdout) as { seconds: number; peakRssMb: number; summary: string; ok: boolean; problems: unknown[] };
  process.stdout.write(`${label.padEnd(34)} ${figures.seconds.toFixed(1).padStart(6)} s   peak RSS ${String(figures.peakRssMb).padStart(4)} MB   ${figures.summary}\n`);
  if (!figures.ok) throw new Error(`${label}: ${figures.summary} ${JSON.stringify(figures.problems)}`);
}

try {
  step('koperasi', 'koperasi', koperasiCsv);
  step(`anggota (${MEMBERS.toLocaleString('id-ID')})`, 'members', membersCsv, 'MJ');
  step(`simpanan (${savingsRows.length.toLocaleString('id-ID')})`, 'savings', savingsCsv, 'MJ');
  step('anggota lagi, tanpa perubahan', 'members', membersCsv, 'MJ');
  step('simpanan lagi, tanpa perubahan', 'savings', savingsCsv, 'MJ');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
