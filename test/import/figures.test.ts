/** Importing the cooperative's yearly figures (laporan) and each member's SHU: aliases, rupiah forms, the checks, all or nothing. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { importFile } from '../../src/import/import-file.ts';
import { describeProblem, summarize } from '../../src/import/report.ts';
import type { ImportKind } from '../../src/import/columns.ts';
import { generateMembers, MEMBER_HEADER, memberRows, shuOf, writeCsv, writeShuXlsx } from '../fixtures/cooperative-files.ts';

let app: TestApp;
const NOW = new Date('2026-11-22T03:00:00Z');

beforeEach(async () => {
  app = await createTestApp(NOW);
});
afterEach(async () => {
  await app.dispose();
});

function file(name: string, content: string): string {
  const path = join(app.dir, name);
  writeFileSync(path, content);
  return path;
}

async function run(kind: ImportKind, path: string, koperasiCode = 'MJ') {
  return importFile(app.imports, kind, path, { koperasiCode, actor: 'test', now: NOW });
}

/** The cooperative MJ with `count` members (numbers 001…). */
async function seedMembers(count: number) {
  const koperasi = writeCsv(join(app.dir, 'koperasi.csv'), ['kode', 'nama', 'jenis', 'kecamatan'], [['MJ', 'KSU Maju Jaya', 'KSU', 'Kraksaan']], { delimiter: ',' });
  expect((await importFile(app.imports, 'koperasi', koperasi, { actor: 'test', now: NOW })).ok).toBe(true);
  const members = generateMembers({ count, seed: 3 });
  const result = await run('members', writeCsv(join(app.dir, 'anggota.csv'), MEMBER_HEADER, memberRows(members)));
  expect(result.problems).toEqual([]);
  return members;
}

const problems = (result: Awaited<ReturnType<typeof run>>) => result.problems.map((p) => describeProblem(p, result.columns));

/** The RAT report's "perkembangan koperasi" table as a clerk exports it: title lines, Excel rupiah forms, a signature block. */
const REPORT_CSV = [
  'LAPORAN PERKEMBANGAN KOPERASI;;;;;;;;;;;;',
  'KSU MAJU JAYA KRAKSAAN;;;;;;;;;;;;',
  ';;;;;;;;;;;;',
  'Tahun Buku;Jumlah Anggota (orang);Total Aset;Modal Sendiri;Simpanan Anggota;Pinjaman Beredar;Volume Usaha;Pendapatan;Biaya;SHU Tahun Berjalan;NPL (%);Tgl RAT;Keterangan',
  '2024;1.050;Rp 1.250.000.000,00;Rp 410.000.000;980.000.000;850.000.000;2.100.000.000;Rp 310.000.000,00;Rp 260.000.000,00;Rp 50.000.000,00;3,25;15/03/2025;',
  'TB 2025;1.080;1,375,000,000.40;"Rp 452.500.000,-";1.010.000.000;823.000.000;2.350.000.000;330.500.000,50;274.499.999,75;56.000.001;2,9%;Sabtu, 14 Maret 2026;Disahkan RAT ke-31',
  ';;;;;;;;;;;;',
  ';;;;;;;;;;Kraksaan, 14 Maret 2026;;',
  ';;;;;;;;;;Ketua;;',
  ';;;;;;;;;;(H. Moh. Sholeh);;',
].join('\r\n');

describe('laporan', () => {
  it('reads the yearly figures under their clerks\' names and rupiah forms, and a re-import changes nothing', async () => {
    await seedMembers(1000);
    const result = await run('report', file('laporan.csv', REPORT_CSV));
    expect(problems(result)).toEqual([]);
    expect(result.warnings.map((w) => describeProblem(w, result.columns))).toEqual([
      'baris 8–10 (tanda tangan dan keterangan di bawah daftar) tidak dibaca sebagai data.',
      'Baris 5, kolom B (Jumlah Anggota (orang)): jumlah anggota 1.050 sedikit di atas 1.000 anggota yang tercatat; periksa bila ada anggota yang belum diimpor',
      'Baris 6, kolom B (Jumlah Anggota (orang)): jumlah anggota 1.080 sedikit di atas 1.000 anggota yang tercatat; periksa bila ada anggota yang belum diimpor',
    ]);
    expect(summarize(result)).toBe('Impor laporan selesai: 2 baris (2 baru, 0 diperbarui, 0 tetap).');
    const rows = await app.db.annualReport.findMany({ orderBy: { bookYear: 'asc' } });
    expect(rows.map(({ id: _, koperasiId: __, ...r }) => r)).toEqual([
      {
        bookYear: 2024, memberCount: 1050, assets: 1_250_000_000n, ownCapital: 410_000_000n, memberSavings: 980_000_000n, loansOutstanding: 850_000_000n,
        businessVolume: 2_100_000_000n, revenue: 310_000_000n, costs: 260_000_000n, shu: 50_000_000n, nplBasisPoints: 325, ratDate: '2025-03-15', note: null, importedAt: NOW,
      },
      {
        // Sen round to whole rupiah (half up); SHU = pendapatan − biaya holds within the rupiah that leaves.
        bookYear: 2025, memberCount: 1080, assets: 1_375_000_000n, ownCapital: 452_500_000n, memberSavings: 1_010_000_000n, loansOutstanding: 823_000_000n,
        businessVolume: 2_350_000_000n, revenue: 330_500_001n, costs: 274_500_000n, shu: 56_000_001n, nplBasisPoints: 290, ratDate: '2026-03-14', note: 'Disahkan RAT ke-31', importedAt: NOW,
      },
    ]);
    const again = await importFile(app.imports, 'report', file('laporan.csv', REPORT_CSV), { koperasiCode: 'MJ', actor: 'test', now: new Date('2026-11-23T03:00:00Z') });
    expect(summarize(again)).toBe('Impor laporan selesai: 2 baris (0 baru, 0 diperbarui, 2 tetap).');
    expect((await app.db.annualReport.findMany()).map((r) => r.importedAt)).toEqual([NOW, NOW]);
    // A corrected figure updates its year's row, and only it; a file without the RAT column keeps the RAT dates.
    const corrected = 'Tahun;Anggota;Jumlah Aset;Ekuitas;Simpanan;Piutang;Omzet;Total Pendapatan;Total Biaya;Sisa Hasil Usaha\n2025;1080;1.400.000.000;452.500.000;1.010.000.000;823.000.000;2.350.000.000;330.500.001;274.500.000;56.000.001\n';
    const update = await run('report', file('koreksi.csv', corrected));
    expect(summarize(update)).toBe('Impor laporan selesai: 1 baris (0 baru, 1 diperbarui, 0 tetap).');
    expect(await app.db.annualReport.findFirstOrThrow({ where: { bookYear: 2025 } })).toMatchObject({ assets: 1_400_000_000n, ratDate: '2026-03-14', nplBasisPoints: 290, note: 'Disahkan RAT ke-31' });
    expect(await app.db.annualReport.count()).toBe(2);
  });

  it('takes a year of loss, and figures the cooperative does not report left empty', async () => {
    await seedMembers(40);
    const csv = 'tahun_buku,jumlah_anggota,aset,modal_sendiri,simpanan_anggota,pinjaman_beredar,volume_usaha,pendapatan,biaya,shu\n2025,38,"250.000.000",,,-,,"40.000.000","52.500.000","(12.500.000)"\n';
    const result = await run('report', file('rugi.csv', csv));
    expect(problems(result)).toEqual([]);
    expect(await app.db.annualReport.findFirstOrThrow()).toMatchObject({ shu: -12_500_000n, ownCapital: null, loansOutstanding: 0n, businessVolume: null });
  });

  it('refuses the whole file, naming row and figures, when SHU is not pendapatan − biaya, a year has not closed, or the member count is far above the file', async () => {
    await seedMembers(100);
    const header = 'Tahun Buku;Jumlah Anggota;Aset;Modal Sendiri;Simpanan Anggota;Pinjaman Beredar;Volume Usaha;Pendapatan;Biaya;SHU;Tanggal RAT';
    const csv = [
      header,
      '2023;95;900.000.000;300.000.000;500.000.000;400.000.000;1.000.000.000;200.000.000;150.000.000;50.000.000;20/03/2024',
      '2024;98;950.000.000;310.000.000;520.000.000;410.000.000;1.100.000.000;210.000.000;160.000.000;55.000.000;',
      '2025;180;1.000.000.000;320.000.000;540.000.000;420.000.000;1.200.000.000;220.000.000;170.000.000;50.000.000;10/12/2026',
      '2026;100;1.000.000.000;320.000.000;540.000.000;420.000.000;1.200.000.000;220.000.000;170.000.000;50.000.000;',
      '2027;100;1.000.000.000;320.000.000;540.000.000;420.000.000;1.200.000.000;220.000.000;170.000.000;50.000.000;',
      '2024;98;950.000.000;310.000.000;520.000.000;410.000.000;1.100.000.000;210.000.000;160.000.000;50.000.000;',
    ].join('\n');
    const result = await run('report', file('salah.csv', csv));
    expect(result.ok).toBe(false);
    expect(problems(result)).toEqual([
      'Baris 3, kolom J (SHU): SHU tahun buku 2024 tertulis Rp55.000.000, padahal pendapatan Rp210.000.000 dikurangi biaya Rp160.000.000 adalah Rp50.000.000; periksa ketiga angka itu (bila SHU ditulis sesudah pajak, masukkan pajaknya ke biaya)',
      'Baris 4, kolom K (Tanggal RAT): RAT 10 Desember 2026 belum terjadi; kosongkan tanggal RAT sampai laporan ini disahkan',
      'Baris 5, kolom A (Tahun Buku): tahun buku 2026 belum ditutup (tutup buku 31 Desember 2026); laporannya baru bisa diimpor sesudah itu',
      'Baris 6, kolom A (Tahun Buku): tahun buku 2027 masih di masa depan',
      'Baris 7, kolom A (Tahun Buku): laporan tahun buku 2024 sudah ada di baris 3 (duplikat)',
    ]);
    expect(summarize(result)).toBe('Impor laporan dibatalkan: 5 masalah di 5 baris; tidak ada data yang diubah.');
    // The member count is checked once the rows read well: 180 against 100 on file.
    const count = await run('report', file('anggota.csv', [header, '2025;180;1.000.000.000;320.000.000;540.000.000;420.000.000;1.200.000.000;220.000.000;170.000.000;50.000.000;'].join('\n')));
    expect(problems(count)).toEqual([
      'Baris 2, kolom B (Jumlah Anggota): jumlah anggota tahun buku 2025 tertulis 180, jauh di atas 100 anggota yang tercatat di koperasi MJ (lebih dari 10% dan lebih dari 5 orang); periksa angkanya, atau impor dulu data anggota yang lengkap',
    ]);
    // Within 10%: a note, not a refusal.
    const near = await run('report', file('dekat.csv', [header, '2025;110;1.000.000.000;320.000.000;540.000.000;420.000.000;1.200.000.000;220.000.000;170.000.000;50.000.000;'].join('\n')));
    expect(near.ok).toBe(true);
    expect(await app.db.annualReport.count()).toBe(1);
  });

  it('reads an Excel sheet as the treasurer keeps it: numbers to the sen, a percentage cell, a date cell, a header under a merged title', async () => {
    await seedMembers(60);
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Perkembangan');
    sheet.addRow(['PERKEMBANGAN KSU MAJU JAYA']);
    sheet.mergeCells(1, 1, 1, 12);
    sheet.addRow(['Tahun Buku', 'Jumlah Anggota', 'Jumlah Aset', 'Modal Sendiri', 'Simpanan Anggota', 'Piutang Anggota', 'Volume Usaha', 'Pendapatan', 'Biaya', 'SHU', 'NPL', 'Tanggal RAT']);
    const rows = [
      [2024, 58, 612_345_678.5, 200_000_000, 300_000_000, 250_000_000, 900_000_000, 120_000_000.25, 95_000_000.25, 25_000_000, 0.0325, new Date(Date.UTC(2025, 2, 22))],
      [2025, 60, 650_000_000, 210_000_000, 310_000_000, 255_000_000, 950_000_000, 125_500_000, 98_000_000, 27_500_000, 0.029, new Date(Date.UTC(2026, 2, 14))],
    ];
    for (const values of rows) {
      const row = sheet.addRow(values);
      for (let c = 3; c <= 10; c++) row.getCell(c).numFmt = '#,##0.00';
      row.getCell(11).numFmt = '0.00%';
      row.getCell(12).numFmt = 'dd/mm/yyyy';
    }
    const path = join(app.dir, 'perkembangan.xlsx');
    await workbook.xlsx.writeFile(path);
    const result = await run('report', path);
    expect(problems(result)).toEqual([]);
    const stored = await app.db.annualReport.findMany({ orderBy: { bookYear: 'asc' } });
    expect(stored.map((r) => [r.bookYear, r.assets, r.revenue, r.costs, r.loansOutstanding, r.nplBasisPoints, r.ratDate])).toEqual([
      [2024, 612_345_679n, 120_000_000n, 95_000_000n, 250_000_000n, 325, '2025-03-22'],
      [2025, 650_000_000n, 125_500_000n, 98_000_000n, 255_000_000n, 290, '2026-03-14'],
    ]);
  });

  it('tells the clerk how to turn a RAT book\'s table with the years across, instead of misreading it', async () => {
    await seedMembers(10);
    const csv = ['PERKEMBANGAN KOPERASI', 'Uraian;Tahun 2024;Tahun 2025;Naik/Turun (%)', 'Jumlah Anggota;8;10;25', 'Total Aset;100.000.000;120.000.000;20', 'Modal Sendiri;40.000.000;45.000.000;12,5', 'SHU;5.000.000;6.000.000;20'].join('\n');
    const result = await run('report', file('perkembangan.csv', csv));
    expect(result.ok).toBe(false);
    expect(problems(result)).toEqual([expect.stringContaining('Laporan ini tersusun satu baris per uraian (Jumlah Anggota, Aset, SHU, …) dengan tahun sebagai kolom.')]);
    expect(problems(result)[0]).toContain('Tempel Spesial → Transpose');
  });

  it('says plainly when a required column is missing', async () => {
    await seedMembers(10);
    const result = await run('report', file('kurang.csv', 'Tahun Buku;Jumlah Anggota;Aset\n2025;10;100.000.000\n'));
    expect(result.ok).toBe(false);
    expect(problems(result)[0]).toMatch(/^Baris 1: Kolom wajib modal_sendiri tidak ditemukan/);
  });
});

describe('shu', () => {
  it('reads each member\'s SHU under the clerks\' headers, refusing unknown members and totals that do not add up, all or nothing', async () => {
    await seedMembers(20);
    const csv = [
      'No;No. Anggota;Nama;Tahun;SHU Jasa Modal;SHU Jasa Usaha;Jumlah SHU;Tanggal Dibayar;Cara Pembayaran',
      '1;001;Siti;2025;Rp 125.000,00;Rp 75.500,00;Rp 200.500,00;20/03/2026;Tunai',
      '2;002;Ahmad;2025;"Rp 80.000,-";40.000;120.000;;',
      '3;003;Nur;2025;100.000;50.000;160.000;;',
      '4;099;Orang Lain;2025;100.000;50.000;150.000;;',
      '5;004;Sri;2025;100.000;50.000;150.000;01/01/2027;Transfer',
      '6;005;Moh.;2026;100.000;50.000;150.000;;',
      '7;001;Siti;2025;125.000;75.500;200.500;;',
    ].join('\n');
    const bad = await run('shu', file('shu.csv', csv));
    expect(problems(bad)).toEqual([
      'Baris 4, kolom G (Jumlah SHU): total Rp160.000 tidak sama dengan jasa modal Rp100.000 + jasa usaha Rp50.000 (Rp150.000)',
      'Baris 5, kolom B (No. Anggota): nomor anggota 099 tidak terdaftar di koperasi MJ (impor data anggota dulu)',
      'Baris 6, kolom H (Tanggal Dibayar): tanggal dibayar 1 Januari 2027 belum terjadi; kosongkan sampai SHU-nya dibayarkan',
      'Baris 7, kolom D (Tahun): tahun buku 2026 belum ditutup (tutup buku 31 Desember 2026); laporannya baru bisa diimpor sesudah itu',
      'Baris 8, kolom B (No. Anggota): SHU anggota/tahun buku 001/2025 sudah ada di baris 2 (duplikat)',
    ]);
    expect(await app.db.memberShu.count()).toBe(0);
    const good = await run('shu', file('shu-ok.csv', csv.split('\n').slice(0, 3).join('\n')));
    expect(summarize(good)).toBe('Impor shu selesai: 2 baris (2 baru, 0 diperbarui, 0 tetap).');
    const rows = await app.db.memberShu.findMany({ orderBy: { id: 'asc' }, include: { member: { select: { memberNumber: true } } } });
    expect(rows.map((r) => [r.member.memberNumber, r.bookYear, r.jasaModal, r.jasaUsaha, r.total, r.paidOn, r.paidHow])).toEqual([
      ['001', 2025, 125_000n, 75_500n, 200_500n, '2026-03-20', 'Tunai'],
      ['002', 2025, 80_000n, 40_000n, 120_000n, null, null],
    ]);
  });

  it('imports a printed SHU list of thousands of members (title, JUMLAH row, signature, amounts to the sen) and a re-import changes nothing', async () => {
    const members = await seedMembers(3000);
    const path = await writeShuXlsx(join(app.dir, 'shu-2025.xlsx'), members);
    const result = await run('shu', path);
    expect(problems(result)).toEqual([]);
    expect(result.warnings.map((w) => describeProblem(w))).toEqual([`baris 3005 (baris jumlah) dan baris 3007–3010 (tanda tangan dan keterangan di bawah daftar) tidak dibaca sebagai data.`]);
    expect(summarize(result)).toBe('Impor shu selesai: 3.000 baris (3.000 baru, 0 diperbarui, 0 tetap).');
    const member = await app.db.member.findFirstOrThrow({ where: { memberNumber: members[1234]!.number } });
    const row = await app.db.memberShu.findUniqueOrThrow({ where: { memberId_bookYear: { memberId: member.id, bookYear: 2025 } } });
    const { jasaModal, jasaUsaha } = shuOf(1234);
    expect(row).toMatchObject({ jasaModal: BigInt(Math.round(jasaModal)), jasaUsaha: BigInt(Math.round(jasaUsaha)), paidOn: '2026-03-20', paidHow: 'Tunai' });
    expect(await app.db.memberShu.count({ where: { paidHow: 'Ditambahkan ke simpanan sukarela' } })).toBe(1000);
    const again = await run('shu', path);
    expect(summarize(again)).toBe('Impor shu selesai: 3.000 baris (0 baru, 0 diperbarui, 3.000 tetap).');
    // One wrong total among 3,000 refuses the file and names its row.
    const wrong = await run('shu', await writeShuXlsx(join(app.dir, 'shu-salah.xlsx'), members, { bookYear: 2024, paidOn: null, wrongTotalAt: 2500 }));
    expect(wrong.ok).toBe(false);
    expect(problems(wrong)).toEqual([expect.stringMatching(/^Baris 2505, kolom G \(Jumlah SHU \(Rp\)\): total Rp[\d.]+ tidak sama dengan jasa modal/)]);
    expect(await app.db.memberShu.count({ where: { bookYear: 2024 } })).toBe(0);
  });
});
