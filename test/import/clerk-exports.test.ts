/**
 * The shapes an outside review found in clerks' exports: kinds that are amounts, running
 * totals, two-row headers, signature blocks in odd places, template rows, every usual way of
 * writing a title date, a phone or a time, UTF-16 and mixed encodings, files with the wrong
 * extension, workbooks whose data is on the second sheet.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { importFile } from '../../src/import/import-file.ts';
import { describeProblem, reportLines, summarize } from '../../src/import/report.ts';
import type { ImportKind } from '../../src/import/columns.ts';
import { titleDate } from '../../src/import/layout.ts';

const NOW = new Date('2026-11-22T03:00:00Z');
let app: TestApp;

beforeEach(async () => {
  app = await createTestApp(NOW);
  expect((await run('koperasi', file('k.csv', 'kode;nama;jenis;tutup_buku\nMJ;KSU Maju Jaya;KSU;31 Desember\n'))).ok).toBe(true);
  const members = ['No. Anggota;Nama;No. HP', ...Array.from({ length: 6 }, (_, i) => `00${i + 1};Anggota ${i + 1};08123456000${i + 1}`)].join('\n');
  expect((await run('members', file('m.csv', members))).ok).toBe(true);
});
afterEach(async () => {
  await app.dispose();
});

function file(name: string, content: string | Buffer): string {
  const path = join(app.dir, name);
  writeFileSync(path, content);
  return path;
}

function run(kind: ImportKind, path: string, asOf?: string) {
  return importFile(app.imports, kind, path, { koperasiCode: kind === 'koperasi' ? undefined : 'MJ', actor: 'test', now: NOW, asOf });
}

async function balances(memberNumber: string) {
  const accounts = await app.db.savingsAccount.findMany({ where: { member: { memberNumber } }, orderBy: { kind: 'asc' } });
  return Object.fromEntries(accounts.map((a) => [a.kind, a.balance]));
}

describe('savings sheets as clerks make them', () => {
  it('refuses an amount in the kind column instead of storing it as a kind', async () => {
    const csv = 'REKAP SIMPANAN PER 31 OKTOBER 2026\nNo.;No. Anggota;Nama;SIMPANAN;;;;Jumlah\n1;001;A;Rp 100.000,00;50.000;-;;150.000\n';
    const result = await run('savings', file('s.csv', csv));
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => describeProblem(p, result.columns))).toContain('Baris 3, kolom D (SIMPANAN): "Rp 100.000,00" bukan jenis simpanan');
    expect(await app.db.savingsAccount.count()).toBe(0);
  });

  it('reads the balance to date from running-total columns, and refuses two balances for one kind', async () => {
    const csv = 'PER 31 OKTOBER 2026\nNo;No. Anggota;Nama;Simpanan Pokok;Simpanan Wajib s/d Bulan Lalu;Simpanan Wajib Bulan Ini;Simpanan Wajib s/d Bulan Ini\n1;001;A;100.000;500.000;50.000;550.000\n';
    const result = await run('savings', file('w.csv', csv));
    expect(result.problems).toEqual([]);
    expect(await balances('001')).toEqual({ pokok: 100_000n, wajib: 550_000n });
    expect(result.ignoredColumns).toEqual(['No', 'Nama', 'Simpanan Wajib s/d Bulan Lalu', 'Simpanan Wajib Bulan Ini']);
    const twice = await run('savings', file('w2.csv', 'PER 31 OKTOBER 2026\nNo. Anggota;Simpanan Wajib;Simp. Wajib\n001;1;2\n'));
    expect(twice.ok).toBe(false);
    expect(twice.problems[0]!.message).toContain('Kolom B (Simpanan Wajib), C (Simp. Wajib) sama-sama simpanan wajib');
  });

  it('reads a two-row header: SIMPANAN merged over Pokok, Wajib, Sukarela, Hari Raya', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Simpanan');
    sheet.addRow(['DAFTAR SIMPANAN ANGGOTA POSISI 31/10/2026']);
    sheet.addRow(['No', 'No. Anggota', 'Nama', 'SIMPANAN', '', '', '', 'Jumlah']);
    sheet.addRow(['', '', '', 'Pokok', 'Wajib', 'Sukarela', 'Hari Raya', '']);
    sheet.mergeCells(2, 4, 2, 7);
    sheet.mergeCells(2, 1, 3, 1);
    sheet.mergeCells(2, 2, 3, 2);
    sheet.mergeCells(2, 3, 3, 3);
    sheet.mergeCells(2, 8, 3, 8);
    sheet.addRow([1, '001', 'A', 100_000, 250_000, 40_000, 75_000, 465_000]);
    sheet.addRow([2, '002', 'B', 100_000, 300_000, 0, 0, 400_000]);
    const path = join(app.dir, 's.xlsx');
    await workbook.xlsx.writeFile(path);
    const result = await run('savings', path);
    expect(result.problems).toEqual([]);
    expect(summarize(result)).toBe('Impor simpanan selesai: 2 baris, 8 saldo simpanan (8 baru, 0 diperbarui, 0 tetap).');
    expect(await balances('001')).toEqual({ hari_raya: 75_000n, pokok: 100_000n, sukarela: 40_000n, wajib: 250_000n });
    expect((await app.db.savingsAccount.findFirstOrThrow({ where: { kind: 'hari_raya' } })).asOf).toBe('2026-10-31');
  });

  it.each([
    ['PER 31 OKTOBER 2026'],
    ['s/d 31 Oktober 2026'],
    ['s.d. 31 Oktober 2026'],
    ['Keadaan s/d 31 Oktober 2026'],
    ['Periode 31 Oktober 2026'],
    ['REKAP SIMPANAN 31 OKTOBER 2026'],
    ['BULAN OKTOBER 2026'],
    ['Posisi 31/10/2026'],
    ['Dicetak 1 November 2026, saldo per 31 Oktober 2026'],
  ])('takes the as-of date from a title "%s"', (title) => {
    expect(titleDate([{ line: 1, cells: [{ text: title }] }])).toBe('2026-10-31');
  });
});

describe('what is not data', () => {
  it('skips group headings, unused template rows, spaced totals and signature blocks of every shape', async () => {
    const csv = [
      'DAFTAR ANGGOTA',
      'No;No. Anggota;Nama Lengkap;NIK;No. HP;Tgl Masuk;Status',
      ';KELOMPOK A;;;;;',
      '1;001;Anggota 1;3513124509800001;081234560001;01/02/2015;Aktif',
      ';;SUB-TOTAL;1;;;',
      ';KELOMPOK B;;;;;',
      '2;002;Anggota 2;3513124509800002;081234560002;01/02/2015;Aktif',
      ';J U M L A H;;2;;;',
      '3;;;;;;',
      '4;;;;;;',
      ';Mengetahui,;;;;;',
      'Ketua;;Sekretaris;;Bendahara;;',
      '(Moh. Sholeh);;(Ani);;(Siti);;',
      'Keterangan: data per 31 Oktober 2026;;;;;;',
      'Dicetak: 01/11/2026 10:32;;;;;;',
    ].join('\r\n');
    const result = await run('members', file('a.csv', csv));
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.rows).toBe(2);
    expect(reportLines(result)).toContain(
      'Catatan: baris 5, 8 (baris jumlah) dan baris 3, 6 (judul kelompok atau baris kosong templat) dan baris 9–15 (tanda tangan dan keterangan di bawah daftar) tidak dibaca sebagai data.',
    );
  });

  it('never takes a member for a signature or a total: numbers like JML-001, AN-001 or SUMBER-01 are members', async () => {
    const csv = 'No. Anggota;Nama;No. HP\nJML-001;Joko;081234560100\nAN-001;Ani;081234560101\nSUMBER-01;Budi;081234560102\n;;\n;Kraksaan, 31 Oktober 2026;\n;Ketua;\n;(H. Moh. Sholeh);\n';
    const result = await run('members', file('an.csv', csv));
    expect(result).toMatchObject({ ok: true, created: 3 });
    expect(await app.db.member.count({ where: { memberNumber: { in: ['JML-001', 'AN-001', 'SUMBER-01'] } } })).toBe(3);
  });
});

describe('values as clerks write them', () => {
  it('reads tenors in months, book years with TB, times with "selesai", dashes for nothing, two phones and old statuses', async () => {
    const loans = 'nomor_anggota;nomor_pinjaman;plafon;sisa_pokok;angsuran;jangka waktu;tgl cair;jatuh tempo\n001;P-1;12.000.000;6.000.000;1.100.000;12 bulan;10/05/2026;10/12/2026\n';
    expect(await run('loans', file('l.csv', loans))).toMatchObject({ ok: true, created: 1 });
    const meetings = 'jenis;tahun buku;tanggal;jam;tempat\nRAT;TB 2026;Sabtu, 20 Februari 2027;09.00 - selesai;Balai Desa\n';
    expect(await run('meetings', file('r.csv', meetings))).toMatchObject({ ok: true, created: 1 });
    expect(await app.say('6281234560001', 'kapan rat')).toContain('Sabtu, 20 Februari 2027, 09.00 WIB');
    expect((await app.db.koperasi.findFirstOrThrow()).bookYearEnd).toBe('12-31');

    const members = [
      'No. Anggota;Nama;N I K;No. HP;No. WA;Tgl Masuk;Status Keanggotaan;Jenis Kelamin',
      '001;Anggota 1;-;0812-3456-7890 / 0857-1234-5678;;-;Aktif;P',
      '002;Anggota 2;belum ada;0812 3456 7892 (WA);;01/02/2015;Keluar (2023);L',
      '003;Anggota 3;3513124509800003;(0335) 841234;;01/02/2015;Pindah;Laki-laki',
    ].join('\n');
    const result = await run('members', file('m2.csv', members));
    expect(result.problems).toEqual([]);
    const stored = await app.db.member.findMany({ where: { memberNumber: { in: ['001', '002', '003'] } }, orderBy: { memberNumber: 'asc' } });
    expect(stored.map((m) => [m.nik, m.phone, m.joinedOn, m.status, m.gender])).toEqual([
      [null, '6281234567890', null, 'AKTIF', 'P'],
      [null, '6281234567892', '2015-02-01', 'KELUAR', 'L'],
      ['3513124509800003', null, '2015-02-01', 'KELUAR', 'L'],
    ]);
    const notes = result.warnings.map((w) => describeProblem(w, result.columns));
    expect(notes).toContain('Baris 2, kolom D (No. HP): berisi 2 nomor ("0812-3456-7890 / 0857-1234-5678"); yang disimpan 0812-3456-7890');
    expect(notes.find((n) => n.startsWith('Baris 4, kolom D (No. HP)'))).toContain('tidak disimpan');
    expect(result.ignoredColumns).toEqual(['No. WA']);
  });

  it('says a date was written month first, and a number in another case is the same member', async () => {
    const result = await run('members', file('us.csv', 'No. Anggota;Nama;Tgl Masuk\n007;A;12/25/2019\nmj-1;B;01/02/2019\n'));
    expect(result.ok).toBe(false);
    expect(result.problems[0]!.message).toContain('tampaknya ditulis bulan/tanggal/tahun (cara Amerika)');
    await run('members', file('mj.csv', 'No. Anggota;Nama\nMJ-1;C\n'));
    const twin = await run('members', file('mj2.csv', 'No. Anggota;Nama\nmj-1;C\n'));
    expect(twin.problems[0]!.message).toBe('nomor anggota mj-1 mirip MJ-1 yang sudah ada: nol di depan hilang? Format kolom nomor anggota sebagai Teks');
  });
});

describe('files as they arrive', () => {
  it('reads UTF-16 ("Unicode Text"), files mixing UTF-8 and Windows-1252, and a quote inside a name', async () => {
    const text = 'No. Anggota\tNama\r\n001\tSiti Mu’awanah\r\n';
    expect(await run('members', file('u16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf16le')])))).toMatchObject({ ok: true, updated: 1 });
    expect((await app.db.member.findFirstOrThrow({ where: { memberNumber: '001' } })).name).toBe('Siti Mu’awanah');
    const mixed = Buffer.concat([Buffer.from('No. Anggota;Nama\n001;Siti Mu’awanah\n', 'utf8'), iconv.encode('002;José Budi "Cak" Santoso\n', 'win1252')]);
    const result = await run('members', file('mix.csv', mixed));
    expect(result.ok).toBe(true);
    expect((await app.db.member.findFirstOrThrow({ where: { memberNumber: '002' } })).name).toBe('José Budi "Cak" Santoso');
    expect((await app.db.member.findFirstOrThrow({ where: { memberNumber: '001' } })).name).toBe('Siti Mu’awanah');
    expect(result.warnings[0]!.message).toContain('sebagian baris berkas ini ditulis dengan Windows-1252');
  });

  it("numbers rows as Excel does: without the sep= line, one row per record however many lines an address spans", async () => {
    const sep = await run('members', file('sep.csv', 'sep=;\nNo. Anggota;Nama;Tgl Masuk\n001;A;31/02/2020\n'));
    expect(sep.problems.map((p) => describeProblem(p, sep.columns))).toEqual(['Baris 2, kolom C (Tgl Masuk): tanggal 31/2/2020 tidak ada di kalender']);
    const quoted = await run('members', file('q.csv', 'No. Anggota;Nama;Alamat;Tgl Masuk\n001;A;"Jl. Mawar 1\nKraksaan";01/02/2020\n002;B;"Dusun Krajan\nRT 1\nRW 2";31/02/2020\n'));
    expect(quoted.problems.map((p) => p.line)).toEqual([3]);
  });

  it('reads the sheet that holds the data, and names a file with the wrong extension', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Petunjuk').addRow(['Isi data anggota di lembar berikutnya.']);
    const data = workbook.addWorksheet('Anggota');
    data.addRow(['No. Anggota', 'Nama']);
    data.addRow(['001', 'Sulastri']);
    const path = join(app.dir, 'ms.xlsx');
    await workbook.xlsx.writeFile(path);
    const result = await run('members', path);
    expect(result).toMatchObject({ ok: true, updated: 1 });
    expect(result.warnings.map((w) => w.message)).toContain('dibaca lembar kerja "Anggota" (dari 2 lembar).');

    const renamed = join(app.dir, 'anggota.csv');
    writeFileSync(renamed, await workbook.xlsx.writeBuffer() as unknown as Buffer);
    expect((await run('members', renamed)).problems[0]!.message).toContain('sebenarnya berkas Excel (.xlsx) yang diberi nama .csv');
    expect((await run('members', file('a.xlsx', 'No. Anggota;Nama\n001;A\n'))).problems[0]!.message).toContain('bukan berkas Excel .xlsx yang sah');
    expect((await run('members', file('empty.xlsx', ''))).problems[0]!.message).toBe('Berkas kosong: tidak ada baris judul kolom.');
    expect((await run('members', app.dir)).problems[0]!.message).toContain('Jenis berkas');
  });
});
