/** `kopbot rat attach` as a clerk runs it: a real process, one-line summaries, exit statuses. */
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.ts';
import { KOPBOT_BIN, ROOT, runKopbot, spawnKopbot, unusedPort } from '../helpers/cli.ts';
import { readFileSync } from 'node:fs';
import { invitationPhotoJpeg, ratReportPdf, wordFileNamedPdf } from '../fixtures/rat-documents.ts';
import { openDatabase } from '../../src/persistence/database.ts';

function kopbot(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [KOPBOT_BIN, ...args], { cwd: ROOT, input: '', encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info', ...env }, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('kopbot rat attach', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(() => {
    dir = tempDir('kopbot-rat-attach-');
    env = { DATABASE_URL: `file:${join(dir, 'koperasi.db')}` };
    expect(kopbot(['seed', '--demo'], env).status).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has Indonesian help', () => {
    const help = kopbot(['rat', 'attach', '--help'], env);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Cara pakai: kopbot rat attach [pilihan] <berkas>');
    expect(help.stdout).toContain('--jenis <JENIS>');
    const ratHelp = kopbot(['rat', '--help'], env);
    expect(ratHelp.stdout).toContain('attach');
    const missing = kopbot(['rat', 'attach', 'x.pdf'], env);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("pilihan wajib '--koperasi <KODE>' belum diisi");
  });

  it('attaches a report and an invitation, says so in one line, changes nothing the second time, replaces with a new file', async () => {
    const report = join(dir, 'Laporan RAT 2025.pdf');
    writeFileSync(report, ratReportPdf({ pages: 60, padKb: 20 }));
    const first = kopbot(['rat', 'attach', '--koperasi', 'kpri-sejahtera', report], env);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^Laporan RAT tahun buku \d{4} KPRI Sejahtera Kraksaan \(RAT .+ WIB\) dilampirkan: Laporan RAT 2025\.pdf, 1,2 MB\. Anggota memintanya dengan "laporan rat"\.\n$/);
    const again = kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', report], env);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('sudah terlampir (berkas yang sama), tidak ada yang berubah');
    writeFileSync(report, ratReportPdf({ pages: 61, padKb: 20 }));
    const replaced = kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', '--jenis', 'laporan', report], env);
    expect(replaced.stdout).toContain('dilampirkan, menggantikan berkas sebelumnya');

    const photo = join(dir, 'undangan-rat.jpg');
    writeFileSync(photo, invitationPhotoJpeg(400));
    const invitation = kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', photo], env);
    expect(invitation.status).toBe(0);
    expect(invitation.stdout).toMatch(/^Undangan RAT .*dilampirkan: undangan-rat\.jpg, 400 KB\. Anggota memintanya dengan "undangan rat"\.\n$/);

    const db = await openDatabase(env.DATABASE_URL!);
    try {
      expect(await db.meetingDocument.count()).toBe(2);
      expect(await db.auditLog.count({ where: { action: 'rat.document_attach', actor: 'cli' } })).toBe(3);
    } finally {
      await db.$disconnect();
    }
  });

  it('refuses with one sentence and a non-zero status: not a PDF by content, too big, missing, a folder, a bad year, an unknown cooperative', () => {
    const fake = join(dir, 'laporan.pdf');
    writeFileSync(fake, wordFileNamedPdf());
    const word = kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', fake], env);
    expect(word.status).toBe(1);
    expect(word.stdout).toBe('');
    expect(word.stderr).toBe('Berkas laporan.pdf tidak bisa dilampirkan: namanya berakhiran .pdf, tetapi isinya bukan PDF. Kirim laporan atau undangan sebagai PDF (atau foto JPG/PNG).\n');
    const big = join(dir, 'besar.pdf');
    writeFileSync(big, Buffer.alloc(11 * 1024 * 1024, 0x25));
    const tooBig = kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', big], env);
    expect(tooBig.status).toBe(1);
    expect(tooBig.stderr).toContain('Berkas itu 11 MB; paling besar 10 MB.');
    expect(kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', join(dir, 'tidak-ada.pdf')], env)).toMatchObject({ status: 2, stderr: expect.stringContaining('tidak ada') });
    mkdirSync(join(dir, 'folder'), { recursive: true });
    expect(kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', join(dir, 'folder')], env)).toMatchObject({ status: 2, stderr: expect.stringContaining('bukan berkas') });
    const pdf = join(dir, 'ok.pdf');
    writeFileSync(pdf, ratReportPdf({ pages: 1 }));
    expect(kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', '--tahun-buku', '25', pdf], env)).toMatchObject({ status: 2, stderr: expect.stringContaining('bukan tahun') });
    expect(kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', '--tahun-buku', '2001', pdf], env)).toMatchObject({ status: 1, stderr: expect.stringContaining('Belum ada RAT tahun buku 2001') });
    expect(kopbot(['rat', 'attach', '--koperasi', 'TIDAK-ADA', pdf], env)).toMatchObject({ status: 1, stderr: 'Koperasi dengan kode TIDAK-ADA tidak ada.\n' });
    expect(kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', '--jenis', 'foto', pdf], env)).toMatchObject({ status: 1, stderr: expect.stringContaining("'foto' bukan nilai yang sah untuk --jenis") });
  });

  it('kopbot chat shows the report as a link to the running service (HOST:PORT), which answers the same bytes', async () => {
    const pdf = join(dir, 'laporan-tahunan.pdf');
    writeFileSync(pdf, ratReportPdf({ pages: 12, padKb: 20 }));
    expect(kopbot(['rat', 'attach', '--koperasi', 'KPRI-SEJAHTERA', '--jenis', 'laporan', pdf], env).status).toBe(0);
    const port = String(await unusedPort());
    const service = spawnKopbot(['start'], { ...env, PORT: port, HOST: '127.0.0.1' });
    try {
      await service.saysOnStderr('Layanan koperasi berjalan');
      const chat = await runKopbot(['chat', '--as', '0812-3456-7801'], { ...env, PORT: port, HOST: '127.0.0.1' }, 'laporan rat\n');
      expect(chat.code).toBe(0);
      const link = new RegExp(`📄 laporan-tahunan\\.pdf \\(\\d+ KB\\): (http://127\\.0\\.0\\.1:${port}/dokumen/[A-Za-z0-9_-]{32})`).exec(chat.stdout)?.[1];
      expect(link, chat.stdout).toBeDefined();
      expect(chat.stdout).toContain('📄 *Laporan RAT tahun buku');
      expect(chat.stdout.trimEnd().endsWith('---')).toBe(true);
      const response = await fetch(link!);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/pdf');
      expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(pdf))).toBe(true);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});
