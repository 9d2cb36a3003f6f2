/**
 * Imports of files shaped and sized as cooperatives' clerks really export them: thousands of
 * rows numbered 001…, title lines, JUMLAH rows, signature blocks, wide savings sheets,
 * Windows-1252, NIKs as CSV keeps them. After each, the member sees the right figures.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { importFile } from '../../src/import/import-file.ts';
import { reportLines, summarize, writeReportCsv } from '../../src/import/report.ts';
import type { ImportKind } from '../../src/import/columns.ts';
import { formatRupiah } from '../../src/core/format.ts';
import { balanceOf, generateMembers, MEMBER_HEADER, memberRows, SAVINGS_KINDS, writeCsv, writeWideSavingsXlsx } from '../fixtures/cooperative-files.ts';

const NOW = new Date('2026-11-22T03:00:00Z');
const KOPBOT = fileURLToPath(new URL('../../bin/kopbot.js', import.meta.url));
let app: TestApp;

beforeEach(async () => {
  app = await createTestApp(NOW);
  const koperasi = writeCsv(join(app.dir, 'koperasi.csv'), ['kode', 'nama', 'jenis', 'kecamatan'], [['MJ', 'KSU Maju Jaya', 'KSU', 'Kraksaan']], { delimiter: ',' });
  expect((await run('koperasi', koperasi)).ok).toBe(true);
});
afterEach(async () => {
  await app.dispose();
});

function run(kind: ImportKind, path: string, options: { asOf?: string } = {}) {
  return importFile(app.imports, kind, path, { koperasiCode: kind === 'koperasi' ? undefined : 'MJ', actor: 'test', now: NOW, ...options });
}

/** 62812… as the members file's 0812… normalises. */
const waOf = (phone: string) => `62${phone.slice(1)}`;

describe('members files of a real cooperative', () => {
  it.each([100, 20_000])('imports %i members numbered 001…, then again without a change', async (count) => {
    const members = generateMembers({ count, seed: count });
    const path = writeCsv(join(app.dir, 'anggota.csv'), MEMBER_HEADER, memberRows(members), {
      titleLines: ['DAFTAR ANGGOTA KSU MAJU JAYA', `KEADAAN PER 31 OKTOBER 2026`],
      totalsRow: true,
      signatureBlock: true,
    });
    const first = await run('members', path);
    expect(first.problems).toEqual([]);
    expect(summarize(first)).toBe(`Impor anggota selesai: ${count.toLocaleString('id-ID')} baris (${count.toLocaleString('id-ID')} baru, 0 diperbarui, 0 tetap).`);
    // The JUMLAH row and the signature block are named once, not read as members.
    expect(first.warnings.filter((w) => w.line === null).map((w) => w.message)).toContainEqual(
      expect.stringMatching(/^baris \d+ \(baris jumlah\) dan baris \d+–\d+ \(tanda tangan dan keterangan di bawah daftar\) tidak dibaca sebagai data\.$/),
    );
    expect(await app.db.member.count()).toBe(count);
    const again = await run('members', path);
    expect(again).toMatchObject({ ok: true, created: 0, updated: 0, unchanged: count });
    expect(await app.db.member.count()).toBe(count);

    const last = members[count - 1]!;
    const stored = await app.db.member.findFirstOrThrow({ where: { memberNumber: last.number } });
    expect(stored).toMatchObject({ name: last.name, nik: last.nik, phone: waOf(last.phone), status: 'AKTIF' });
    expect(last.number).toBe(String(count).padStart(Math.max(3, String(count).length), '0'));
  });

  it('updates 5,000 changed members in one re-import, keeping what the file leaves out', async () => {
    const members = generateMembers({ count: 5000 });
    expect((await run('members', writeCsv(join(app.dir, 'a.csv'), MEMBER_HEADER, memberRows(members)))).ok).toBe(true);
    // The clerk filled in new phones for every other member and left some statuses empty.
    const rows = memberRows(members).map((row, i) => (i % 2 === 0 ? [row[0]!, row[1]!, row[2]!, `0857${String(10_000_000 + i)}`, row[4]!, i % 4 === 0 ? '' : 'Aktif'] : row));
    const again = await run('members', writeCsv(join(app.dir, 'b.csv'), MEMBER_HEADER, rows));
    expect(again).toMatchObject({ ok: true, created: 0, updated: 2500, unchanged: 2500 });
    const changed = await app.db.member.findFirstOrThrow({ where: { memberNumber: members[4]!.number } });
    expect(changed).toMatchObject({ phone: '6285710000004', name: members[4]!.name, nik: members[4]!.nik, status: 'AKTIF' });
    const same = await app.db.member.findFirstOrThrow({ where: { memberNumber: members[5]!.number } });
    expect(same.phone).toBe(waOf(members[5]!.phone));
    expect(await run('members', writeCsv(join(app.dir, 'b.csv'), MEMBER_HEADER, rows))).toMatchObject({ ok: true, updated: 0, unchanged: 5000 });
  });

  it('imports 1,000 members numbered MJ-00001 and their savings', async () => {
    const members = generateMembers({ count: 1000, numbering: 'prefixed' });
    expect((await run('members', writeCsv(join(app.dir, 'a.csv'), MEMBER_HEADER, memberRows(members)))).ok).toBe(true);
    const rows = members.flatMap((m, i) => SAVINGS_KINDS.map((kind, k) => [m.number, kind, `Rp ${balanceOf(i, k).toLocaleString('id-ID')},00`, '31/10/2026']));
    const savings = await run('savings', writeCsv(join(app.dir, 's.csv'), ['No. Anggota', 'Jenis Simpanan', 'Saldo', 'Per Tanggal'], rows));
    expect(savings).toMatchObject({ ok: true, created: 3000 });
    const reply = await app.say(waOf(members[999]!.phone), 'cek saldo');
    expect(reply).toContain(formatRupiah(BigInt(balanceOf(999, 1))));
  });
});

describe('loans of a real cooperative', () => {
  it('imports 2,000 loans with their schedules in bulk, then again without a change', async () => {
    const members = generateMembers({ count: 2000 });
    await run('members', writeCsv(join(app.dir, 'a.csv'), MEMBER_HEADER, memberRows(members)));
    const header = ['No. Anggota', 'No. Pinjaman', 'Plafon', 'Sisa Pokok', 'Angsuran', 'Tenor', 'Tgl Cair', 'Jatuh Tempo', 'Tunggakan'];
    const rows = members.map((m, i) => [m.number, `PJ/2026/${i + 1}`, 'Rp 12.000.000', `Rp ${(6_000_000 + i * 1000).toLocaleString('id-ID')}`, '1.150.000', '12', '10/05/2026', '10/12/2026', '0']);
    const path = writeCsv(join(app.dir, 'pinjaman.csv'), header, rows, { titleLines: ['DAFTAR PINJAMAN ANGGOTA'], totalsRow: true });
    const first = await run('loans', path);
    expect(first.problems).toEqual([]);
    expect(first).toMatchObject({ ok: true, created: 2000 });
    expect(await app.db.loanInstallment.count()).toBe(2000 * 12);
    const loan = await app.db.loan.findFirstOrThrow({ where: { loanNumber: 'PJ/2026/2000' }, include: { schedule: { orderBy: { number: 'asc' } } } });
    expect(loan).toMatchObject({ outstanding: 7_999_000n, tenorMonths: 12, nextDueOn: '2026-12-10' });
    expect(loan.schedule.map((s) => s.dueOn).slice(0, 2)).toEqual(['2026-06-10', '2026-07-10']);
    expect(await run('loans', path)).toMatchObject({ ok: true, created: 0, updated: 0, unchanged: 2000 });
    expect(await app.db.loanInstallment.count()).toBe(2000 * 12);
    expect(await app.say(waOf(members[1999]!.phone), 'sisa utang brp')).toContain('Rp7.999.000');
  });
});

describe('savings kept wide, as clerks keep them', () => {
  it('imports a column per kind from an XLSX with a merged title and a JUMLAH row, dated by its title', async () => {
    const members = generateMembers({ count: 300 });
    expect((await run('members', writeCsv(join(app.dir, 'a.csv'), MEMBER_HEADER, memberRows(members)))).ok).toBe(true);
    const path = await writeWideSavingsXlsx(join(app.dir, 'simpanan.xlsx'), members);
    const result = await run('savings', path);
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, rows: 300, created: 900 });
    expect(result.ignoredColumns).toEqual(['No', 'Nama Anggota']);
    expect(result.warnings.map((w) => w.message).join('\n')).toContain('(baris jumlah)');
    const account = await app.db.savingsAccount.findFirstOrThrow({ where: { member: { memberNumber: members[41]!.number }, kind: 'wajib' } });
    expect(account).toMatchObject({ label: 'Simpanan Wajib', balance: BigInt(balanceOf(41, 1)), asOf: '2026-10-31' });

    const reply = await app.say(waOf(members[41]!.phone), 'cek sldo');
    for (let k = 0; k < SAVINGS_KINDS.length; k++) expect(reply).toContain(formatRupiah(BigInt(balanceOf(41, k))));
    expect(reply).toContain('31 Oktober 2026');
    expect(await run('savings', path)).toMatchObject({ ok: true, created: 0, updated: 0, unchanged: 900 });
  });

  it('refuses a row whose Jumlah is not the sum of its kinds, naming the column as the clerk sees it', async () => {
    const members = generateMembers({ count: 50 });
    await run('members', writeCsv(join(app.dir, 'a.csv'), MEMBER_HEADER, memberRows(members)));
    const result = await run('savings', await writeWideSavingsXlsx(join(app.dir, 's.xlsx'), members, { wrongTotalAt: 6 }));
    expect(result.ok).toBe(false);
    expect(reportLines(result)).toEqual([
      `Baris 11, kolom G (Jumlah): jumlah ${formatRupiah(BigInt(balanceOf(6, 0) + balanceOf(6, 1) + balanceOf(6, 2) + 1000))} tidak sama dengan total simpanan per jenis ${formatRupiah(BigInt(balanceOf(6, 0) + balanceOf(6, 1) + balanceOf(6, 2)))}`,
      'Catatan: tanggal saldo diambil dari judul berkas: per 31 Oktober 2026.',
      expect.stringContaining('Catatan: baris 55 (baris jumlah)'),
      'Kolom yang diabaikan: No, Nama Anggota',
    ]);
    expect(await app.db.savingsAccount.count()).toBe(0);
  });

  it('takes the date from --per-tanggal when neither a column nor the title gives it, and says how to give it otherwise', async () => {
    const members = generateMembers({ count: 3 });
    await run('members', writeCsv(join(app.dir, 'a.csv'), MEMBER_HEADER, memberRows(members)));
    const path = writeCsv(join(app.dir, 's.csv'), ['No. Anggota', 'Nama', 'Simp. Pokok', 'Simp. Wajib', 'Simpanan Hari Raya'], members.map((m) => [m.number, m.name, '100.000', '250.000', '-']));
    const undated = await run('savings', path);
    expect(undated.ok).toBe(false);
    expect(undated.problems[0]!.message).toContain('--per-tanggal');
    const dated = await run('savings', path, { asOf: '2026-10-31' });
    expect(dated).toMatchObject({ ok: true, created: 9 });
    const kinds = await app.db.savingsAccount.findMany({ where: { member: { memberNumber: members[0]!.number } }, orderBy: { kind: 'asc' } });
    expect(kinds.map((a) => [a.kind, a.label, a.balance])).toEqual([
      ['hari_raya', 'Simpanan Hari Raya', 0n],
      ['pokok', 'Simpanan Pokok', 100_000n],
      ['wajib', 'Simpanan Wajib', 250_000n],
    ]);
  });
});

describe('CSV as Indonesian Excel and older Windows save it', () => {
  it('reads Windows-1252 names right, and the member sees them spelt right through kopbot chat', async () => {
    const members = generateMembers({ count: 40, typographic: true });
    const path = writeCsv(join(app.dir, 'anggota.csv'), MEMBER_HEADER, memberRows(members), { encoding: 'windows-1252', titleLines: ['DAFTAR ANGGOTA'] });
    expect(readFileSync(path).includes(Buffer.from([0x92]))).toBe(true);
    const result = await run('members', path);
    expect(result.ok).toBe(true);
    const stored = await app.db.member.findFirstOrThrow({ where: { memberNumber: members[0]!.number } });
    expect(stored.name).toBe('Siti Mu’awanah “Ana” – 1');
    expect(stored.name).not.toMatch(/[\u0080-\u009f]/);
    const savings = writeCsv(join(app.dir, 's.csv'), ['No. Anggota', 'Nama', 'Simpanan Pokok', 'Simpanan Wajib'], [[members[0]!.number, members[0]!.name, '100.000', '1.250.000']], {
      encoding: 'windows-1252',
      titleLines: ['DAFTAR SIMPANAN – PER 31 OKTOBER 2026'],
    });
    expect(await run('savings', savings)).toMatchObject({ ok: true, created: 2 });

    const chat = spawnSync(process.execPath, [KOPBOT, 'chat', '--as', members[0]!.phone], {
      input: 'saldo\n',
      encoding: 'utf8',
      env: { ...process.env, ...app.env, LOG_LEVEL: 'warn' },
    });
    expect(chat.status).toBe(0);
    expect(chat.stdout).toContain('*Simpanan Siti Mu’awanah “Ana” – 1*');
    expect(chat.stdout).toContain('Simpanan Wajib: Rp1.250.000');
    expect(chat.stdout).toContain('Saldo per 31 Oktober 2026.');
  });

  it('takes a ";" file with title lines without ";", a signature block and 10% genuine NIKs ending in 0, listing those NIKs', async () => {
    const members = generateMembers({ count: 2000, nikZeroShare: 0.1, seed: 7 });
    const zeros = members.filter((m) => m.nik.endsWith('0')).length;
    expect(zeros).toBeGreaterThan(150);
    const path = writeCsv(join(app.dir, 'anggota.csv'), MEMBER_HEADER, memberRows(members), {
      titleLines: ['DAFTAR ANGGOTA KOPERASI SERBA USAHA MAJU JAYA', 'Desa Patokan, Kecamatan Kraksaan, Kabupaten Probolinggo'],
      signatureBlock: true,
    });
    const result = await run('members', path);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    const nikNotes = result.warnings.filter((w) => w.column === 'nik');
    expect(nikNotes).toHaveLength(zeros);
    const lines = reportLines(result);
    expect(lines).toContainEqual(expect.stringMatching(/^Catatan: Baris \d+, kolom C \(NIK\): NIK \d{15}0 berakhiran 0; cocokkan dengan KTP/));
    expect(lines).toContain(`  … dan ${(zeros - 2).toLocaleString('id-ID')} catatan lain yang serupa di kolom C (NIK).`);
    expect(await app.db.member.count({ where: { nik: { endsWith: '0' } } })).toBe(zeros);
  });

  it('refuses a file whose NIKs Excel rounded, with the advice, writing nothing', async () => {
    const members = generateMembers({ count: 500, excelRoundedNiks: true });
    const result = await run('members', writeCsv(join(app.dir, 'anggota.csv'), MEMBER_HEADER, memberRows(members)));
    expect(result.ok).toBe(false);
    expect(reportLines(result)).toEqual([
      'Kolom C (NIK): 500 dari 500 NIK berakhiran 0, ciri NIK yang dibulatkan Excel (Excel hanya menyimpan 15 digit, digit terakhir menjadi 0). Format kolom NIK sebagai Teks, isi ulang dari KTP, lalu ekspor lagi; NIK yang memang berakhiran 0 boleh ditulis dengan tanda petik di depan (\'3513…0).',
    ]);
    expect(await app.db.member.count()).toBe(0);
    // Marked as text with an apostrophe, the same NIKs are proven and accepted.
    const marked = await run('members', writeCsv(join(app.dir, 'b.csv'), MEMBER_HEADER, memberRows(members, { apostropheNiks: true })));
    expect(marked).toMatchObject({ ok: true, created: 500 });
  });

  it('reads dates with weekday names and Excel serials from General cells, noting the serials once per column', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Anggota');
    sheet.addRow(['No. Anggota', 'Nama', 'Tgl Masuk']);
    sheet.addRow(['001', 'Sulastri', 'Sabtu, 20 Februari 2021']);
    for (let i = 2; i <= 30; i++) sheet.addRow([String(i).padStart(3, '0'), `Anggota ${i}`, 42064 + i]);
    const path = join(app.dir, 'anggota.xlsx');
    await workbook.xlsx.writeFile(path);
    const result = await run('members', path);
    expect(result.ok).toBe(true);
    expect((await app.db.member.findFirstOrThrow({ where: { memberNumber: '001' } })).joinedOn).toBe('2021-02-20');
    expect((await app.db.member.findFirstOrThrow({ where: { memberNumber: '002' } })).joinedOn).toBe('2015-03-03');
    expect(reportLines(result)).toEqual([
      'Catatan: Baris 3, kolom C (Tgl Masuk): 42066 dibaca sebagai tanggal Excel (angka seri): 3 Maret 2015',
      'Catatan: Baris 4, kolom C (Tgl Masuk): 42067 dibaca sebagai tanggal Excel (angka seri): 4 Maret 2015',
      '  … dan 27 catatan lain yang serupa di kolom C (Tgl Masuk).',
    ]);
  });
});

describe('reports a clerk can act on', () => {
  it('gives one screenful for a 20,000-row file with one systematic mistake, and every problem in --laporan', async () => {
    const members = generateMembers({ count: 20_000 });
    // The clerk's export wrote every join date the American way.
    const rows = memberRows(members).map((row) => [...row.slice(0, 4), '12/31/2019', row[5]!]);
    const path = writeCsv(join(app.dir, 'anggota.csv'), MEMBER_HEADER, rows, { titleLines: ['DAFTAR ANGGOTA'] });
    const result = await run('members', path);
    expect(result.ok).toBe(false);
    const lines = reportLines(result);
    expect(lines).toEqual([
      'Baris 3, kolom E (Tgl Masuk): "12/31/2019" tampaknya ditulis bulan/tanggal/tahun (cara Amerika); di sini dibaca tanggal/bulan/tahun. Ubah format kolom tanggal di Excel ke tanggal/bulan/tahun, lalu ekspor lagi',
      'Baris 4, kolom E (Tgl Masuk): "12/31/2019" tampaknya ditulis bulan/tanggal/tahun (cara Amerika); di sini dibaca tanggal/bulan/tahun. Ubah format kolom tanggal di Excel ke tanggal/bulan/tahun, lalu ekspor lagi',
      'Baris 5, kolom E (Tgl Masuk): "12/31/2019" tampaknya ditulis bulan/tanggal/tahun (cara Amerika); di sini dibaca tanggal/bulan/tahun. Ubah format kolom tanggal di Excel ke tanggal/bulan/tahun, lalu ekspor lagi',
      '  … dan 19.997 masalah lain yang serupa di kolom E (Tgl Masuk).',
    ]);
    expect(summarize(result)).toBe('Impor anggota dibatalkan: 20.000 masalah di 20.000 baris; tidak ada data yang diubah.');
    const csv = join(app.dir, 'laporan.csv');
    await writeReportCsv(csv, result);
    const written = readFileSync(csv, 'utf8').split('\r\n').filter((l) => l !== '');
    expect(written[0]).toBe('\uFEFFbaris;kolom;jenis;keterangan');
    expect(written).toHaveLength(20_001);
    expect(written[1]).toBe('3;E (Tgl Masuk);masalah;"""12/31/2019"" tampaknya ditulis bulan/tanggal/tahun (cara Amerika); di sini dibaca tanggal/bulan/tahun. Ubah format kolom tanggal di Excel ke tanggal/bulan/tahun, lalu ekspor lagi"');
    expect(await app.db.member.count()).toBe(0);
  });
});
