/** The `kopbot` program as a user runs it: a real process, real stdin/stdout, exit statuses. */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, TEST_ACTIVATION_CODE_SECRET } from '../helpers/app.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { unusedPort } from '../helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/kopbot.js');

function kopbot(args: string[], options: { env?: Record<string, string>; input?: string } = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('kopbot', () => {
  let env: Record<string, string>;
  let dir: string;

  beforeAll(() => {
    dir = tempDir('kopbot-cli-');
    env = { DATABASE_URL: `file:${join(dir, 'koperasi.db')}` };
    const seeded = kopbot(['seed', '--demo'], { env });
    expect(seeded.stderr).toBe('');
    expect(seeded.status).toBe(0);
    expect(seeded.stdout).toContain('Data demo siap: 2 koperasi, 6 anggota.');
    expect(seeded.stdout).toContain('npx kopbot chat --as 0812-3456-7890   # Drs. Sugeng Riyadi (pengurus');
  });

  it('has --help for every command', () => {
    for (const args of [[], ['start'], ['seed'], ['chat'], ['import'], ['import', 'anggota'], ['import', 'simpanan'], ['activation-code'], ['flows', 'check'], ['broadcast'], ['outbox', 'drain'], ['jobs', 'run-due']]) {
      const result = kopbot([...args, '--help']);
      expect(result.status, args.join(' ')).toBe(0);
      expect(result.stdout).toContain('Cara pakai: kopbot');
      // Commander's own lines are in Indonesian too.
      for (const english of ['Usage:', 'Options:', 'Arguments:', 'Commands:', 'display help', '[options]', 'default:']) {
        expect(result.stdout, `${args.join(' ')}: ${english}`).not.toContain(english);
      }
    }
  });

  it("lists each import kind's columns and aliases in its help, in the clerk's words and the English kinds", () => {
    const members = kopbot(['import', 'anggota', '--help']);
    expect(members.stdout).toContain('Cara pakai: kopbot import anggota|members [pilihan] <berkas>');
    expect(members.stdout).toMatch(/nomor_anggota \(wajib\): juga no_anggota, .*kode_anggota/);
    expect(members.stdout).toMatch(/no_hp: juga nomor_hp, .*no_wa/);
    const savings = kopbot(['import', 'savings', '--help']);
    expect(savings.stdout).toContain('--per-tanggal <TANGGAL>');
    expect(savings.stdout).toContain('satu kolom per jenis (Simpanan Pokok, Simpanan Wajib');
    const list = kopbot(['import', '--help']);
    for (const kind of ['koperasi', 'anggota|members', 'simpanan|savings', 'pinjaman|loans', 'rapat|meetings']) expect(list.stdout).toContain(kind);
    const missing = kopbot(['import', 'anggota']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("galat: argumen wajib 'berkas' belum diisi");
    expect(kopbot(['import']).status).toBe(1);
    const unknownKind = kopbot(['import', 'tabungan', 'x.csv']);
    expect(unknownKind.status).not.toBe(0);
    expect(unknownKind.stderr).toContain("perintah 'tabungan' tidak dikenal");
  });

  it('broadcasts, drains and runs due jobs with one-line summaries; bad input gets a sentence and a non-zero status', () => {
    const chatEnv = { ...env };
    // Siti has used the terminal channel (beforeAll's seed, then this chat): drain prints her message.
    kopbot(['chat', '--as', '0812-3456-7801'], { env: chatEnv, input: 'saldo\n' });
    const queued = kopbot(['broadcast', '--koperasi', 'kpri-sejahtera', '--text', 'Kantor tutup 25 Desember.'], { env });
    expect(queued.status).toBe(0);
    expect(queued.stdout).toMatch(/^Pengumuman #\d+ diantrekan untuk 4 anggota KPRI Sejahtera Kraksaan, dikirim mulai .+ WIB( \(setelah jam tenang 21\.00–06\.00\))?\.\n$/);
    // Queued for the night, it is said to go out when the quiet hours end; in the day, at the time given.
    const night = kopbot(['broadcast', '--koperasi', 'kpri-sejahtera', '--text', 'Rapat anggota.', '--at', '2030-01-01T23:30+07:00'], { env });
    expect(night.stdout).toContain('dikirim mulai Rabu, 2 Januari 2030, 06.00 WIB (setelah jam tenang 21.00–06.00).');
    const day = kopbot(['broadcast', '--koperasi', 'kpri-sejahtera', '--text', 'Rapat anggota.', '--at', '2030-01-02T08:00+07:00'], { env: { ...env, QUIET_HOURS: '22-5' } });
    expect(day.stdout).toContain('dikirim mulai Rabu, 2 Januari 2030, 08.00 WIB.');
    const drained = kopbot(['outbox', 'drain'], { env: { ...env, QUIET_HOURS: 'off' } });
    expect(drained.stdout).toContain('Kepada 0812-3456-7801:\nKantor tutup 25 Desember.\n---');
    expect(drained.stdout).toMatch(/Outbox: 1 terkirim, 0 gagal, 1 dilewati/); // Nur Hayati: no phone, no chat
    // Ahmad and Hasan have only a phone: WhatsApp, which is off. Said, and not a success.
    expect(drained.stderr).toContain('Tidak dikirim dan tetap di antrean: 2 pesan menunggu WhatsApp');
    expect(drained.status).toBe(1);
    const jobs = kopbot(['jobs', 'run-due', '--now', '2030-01-01T08:00+07:00'], { env });
    expect(jobs.status).toBe(0);
    expect(jobs.stdout).toContain('Pengingat RAT: 0 pesan diantrekan');
    expect(jobs.stdout).toContain('Pengingat Gempur Koperasi: ');
    expect(jobs.stdout).not.toMatch(/_(reminders|invitations)/); // no internal job names for a clerk
    expect(jobs.stdout).toMatch(/Tugas terjadwal pada Selasa, 1 Januari 2030, 08\.00 WIB/);

    const unknown = kopbot(['broadcast', '--koperasi', 'TIDAK-ADA', '--text', 'x'], { env });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe('Koperasi dengan kode TIDAK-ADA tidak ada.\n');
    const badTime = kopbot(['broadcast', '--koperasi', 'KPRI-SEJAHTERA', '--text', 'x', '--at', '31/02/2027'], { env });
    expect(badTime.status).toBe(1);
    expect(badTime.stderr).toContain('tidak sah');
    const empty = kopbot(['broadcast', '--koperasi', 'KPRI-SEJAHTERA', '--text', '   '], { env });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain('kosong');
    const badNow = kopbot(['jobs', 'run-due', '--now', 'kemarin'], { env });
    expect(badNow.status).toBe(2);
    expect(badNow.stderr).toContain('bukan waktu ISO-8601');
  });

  it('chats in a pipe: replies, then --- after each line', () => {
    const result = kopbot(['chat', '--as', '0812-3456-7801'], { env, input: 'cek sldo\n\nsisa utang brp\nkapan rat\n' });
    expect(result.status).toBe(0);
    const answers = result.stdout.split('---\n');
    expect(answers).toHaveLength(5); // four lines, then what follows the last ---
    expect(answers[0]).toContain('*Total: Rp6.150.000*');
    expect(answers[1]).toBe('');
    expect(answers[2]).toContain('Sisa pokok: Rp7.083.338');
    expect(answers[3]).toContain('1. Hadir');
    expect(answers[4]).toBe('');
    expect(result.stderr).toBe('');
  });

  it('stops quietly when the reader closes the pipe', async () => {
    const child = spawn(process.execPath, [BIN, 'chat', '--as', '081234567801'], { cwd: ROOT, env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.once('data', () => child.stdout.destroy());
    child.stdin.end('saldo\n'.repeat(2000));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });

  it('shows an unknown phone no one’s data', () => {
    const result = kopbot(['chat', '--as', '+62 899-1234-5678'], { env, input: 'saldo\n001\n1234\n' });
    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(/Rp\d/);
    expect(result.stdout).toContain('tidak cocok');
  });

  it('lets a member without a phone on file in with an officer’s activation code', () => {
    const issued = kopbot(['activation-code', '--koperasi', 'KPRI-SEJAHTERA', '--member', '004'], { env });
    expect(issued.status).toBe(0);
    const code = /: ([A-Z0-9]{4}-[A-Z0-9]{4}),/.exec(issued.stdout)?.[1];
    expect(code).toBeDefined();
    const result = kopbot(['chat', '--as', '085712345678'], { env, input: `saldo\n004\n${code}\n` });
    expect(result.stdout).toContain('Terima kasih, Nur Hayati');
    expect(result.stdout).toContain('Simpanan Wajib: Rp1.200.000');
  });

  it('refuses a phone that is not one, with a sentence', () => {
    const result = kopbot(['chat', '--as', 'budi'], { env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Nomor HP "budi" tidak sah');
  });

  it('imports a good file with exit 0 and a bad one with exit 1 and a row report', () => {
    const good = join(dir, 'anggota.csv');
    writeFileSync(good, 'nomor_anggota,nama,nik,no_hp\n101,Rina Wati,3513124509800101,081299990101\n');
    const ok = kopbot(['import', 'members', good, '--koperasi', 'KPRI-SEJAHTERA'], { env });
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim()).toBe('Impor anggota selesai: 1 baris (1 baru, 0 diperbarui, 0 tetap).');

    const bad = join(dir, 'buruk.csv');
    writeFileSync(bad, 'nomor_anggota,nama,nik,no_hp\n102,Andi,12345,081299990102\n');
    const failed = kopbot(['import', 'members', bad, '--koperasi', 'KPRI-SEJAHTERA'], { env });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('Baris 2, kolom C (nik): NIK harus 16 digit, tertulis 5 digit');
    expect(failed.stderr).toContain('tidak ada data yang diubah');

    const missing = kopbot(['import', 'members', join(dir, 'tidak-ada.csv'), '--koperasi', 'KPRI-SEJAHTERA'], { env });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('tidak ditemukan');

    const which = kopbot(['import', 'anggota', good], { env });
    expect(which.status).toBe(1);
    expect(which.stderr).toContain('sebutkan koperasinya dengan --koperasi KODE');
  });

  it('stops on invalid configuration with one sentence per problem', () => {
    const result = kopbot(['start'], { env: { ...env, PORT: 'abc', LOG_LEVEL: 'loud', TZ: 'Mars/Olympus' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT harus berupa angka.');
    expect(result.stderr).toContain('LOG_LEVEL harus salah satu dari');
    expect(result.stderr).toContain('TZ bukan zona waktu yang dikenal');
  });

  it('checks flows: 0 when valid, 1 with file:line when not', () => {
    expect(kopbot(['flows', 'check']).status).toBe(0);
    const flows = join(tempDir('kopbot-flows-cli-'), 'flows');
    cpSync(join(ROOT, 'flows'), flows, { recursive: true });
    const file = join(flows, 'member.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('none: savings_none', 'none: savings_nothing'));
    const result = kopbot(['flows', 'check', '--dir', flows]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/member\.yaml:\d+: node "savings_nothing" tidak ada/);
  });

  it('runs the service, answers its health check and stops cleanly on SIGTERM', async () => {
    await expectHealthyService(env);
  });
});

describe('kopbot on PostgreSQL', () => {
  let pg: TestPostgres;
  let env: Record<string, string>;

  beforeAll(async () => {
    pg = await createTestPostgres();
    env = { DATABASE_URL: pg.url, ACTIVATION_CODE_SECRET: TEST_ACTIVATION_CODE_SECRET };
  });
  afterAll(async () => {
    await pg.drop();
  });

  it('refuses to start without ACTIVATION_CODE_SECRET, in one sentence', () => {
    const result = kopbot(['seed', '--demo'], { env: { DATABASE_URL: pg.url, ACTIVATION_CODE_SECRET: '' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ACTIVATION_CODE_SECRET: wajib diisi bila DATABASE_URL=postgresql://');
  });

  it('seeds, chats, imports, issues a code, broadcasts and runs due jobs; the service answers /health', async () => {
    const seeded = kopbot(['seed', '--demo'], { env });
    expect(seeded.stderr).toBe('');
    expect(seeded.stdout).toContain('Data demo siap: 2 koperasi, 6 anggota.');
    const chat = kopbot(['chat', '--as', '0812-3456-7801'], { env, input: 'cek sldo\nsisa utang brp\n' });
    expect(chat.status).toBe(0);
    expect(chat.stdout).toContain('*Total: Rp6.150.000*');
    expect(chat.stdout).toContain('Sisa pokok: Rp7.083.338');
    const dir = tempDir('kopbot-cli-pg-');
    writeFileSync(join(dir, 'anggota.csv'), 'nomor_anggota,nama,no_hp\nPG-001,Wulan Sari,0812-3456-9901\n');
    const imported = kopbot(['import', 'anggota', join(dir, 'anggota.csv'), '--koperasi', 'KPRI-SEJAHTERA'], { env });
    expect(imported.status).toBe(0);
    expect(imported.stdout).toContain('Impor anggota selesai: 1 baris (1 baru');
    const code = kopbot(['activation-code', '--koperasi', 'KPRI-SEJAHTERA', '--member', 'PG-001'], { env });
    expect(code.status).toBe(0);
    expect(code.stdout).toMatch(/^Kode aktivasi untuk Wulan Sari \(PG-001\): /);
    const queued = kopbot(['broadcast', '--koperasi', 'KPRI-SEJAHTERA', '--text', 'Kantor tutup 25 Desember.'], { env });
    expect(queued.status).toBe(0);
    expect(queued.stdout).toMatch(/^Pengumuman #\d+ diantrekan untuk 5 anggota KPRI Sejahtera Kraksaan/);
    const drained = kopbot(['outbox', 'drain'], { env: { ...env, QUIET_HOURS: 'off' } });
    expect(drained.stdout).toContain('Kepada 0812-3456-7801:\nKantor tutup 25 Desember.\n---');
    const jobs = kopbot(['jobs', 'run-due', '--now', '2030-01-01T08:00+07:00'], { env });
    expect(jobs.status).toBe(0);
    expect(jobs.stdout).toContain('Pengingat RAT: 0 pesan diantrekan');

    await expectHealthyService(env);
  });
});

/**
 * `kopbot start` on a free port: once it says it runs, /health answers ok for the two demo
 * cooperatives, and SIGTERM ends it with status 0.
 */
async function expectHealthyService(env: Record<string, string>): Promise<void> {
  const port = await unusedPort();
  const child = spawn(process.execPath, [BIN, 'start'], { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) } });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('berjalan di port')) resolve();
    });
    void exited.then(() => reject(new Error(`service exited early: ${stderr}`)));
  });
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok', koperasi: 2 });
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
}
