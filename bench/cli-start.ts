/**
 * How long each `kopbot` command takes to start: `--help` of every command, and `flows check`
 * (which runs). Each is a fresh `node bin/kopbot.js` process, as a clerk types it; the figure is
 * the median of five runs, wall-clock from spawn to exit. Goal: under a second each (the CLI
 * loads a command's modules only when that command runs).
 *
 *   npm run bench:cli
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/kopbot.js', import.meta.url));
const COMMANDS = [
  ['--help'],
  ['start', '--help'],
  ['chat', '--help'],
  ['import', 'anggota', '--help'],
  ['broadcast', '--help'],
  ['outbox', 'drain', '--help'],
  ['jobs', 'run-due', '--help'],
  ['activation-code', '--help'],
  ['seed', '--help'],
  ['flows', 'check'],
];
const RUNS = 5;

let worst = 0;
for (const args of COMMANDS) {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' } });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (run.status !== 0) throw new Error(`kopbot ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(RUNS / 2)]!;
  worst = Math.max(worst, median);
  console.log(`kopbot ${args.join(' ').padEnd(24)} ${median.toFixed(0).padStart(5)} ms`);
}
console.log(`slowest command start: ${worst.toFixed(0)} ms (goal < 1000 ms)`);
