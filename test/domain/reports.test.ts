/**
 * The Dinas' view of the cooperatives' figures (domain/reports.ts), on SQLite and PostgreSQL:
 * the rows the boards imported, across cooperatives, by district and book year.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { listAnnualReports } from '../../src/domain/reports.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { importFile } from '../../src/import/import-file.ts';
import { openDatabase, type Db } from '../../src/persistence/database.ts';
import { createKoperasiStore, createReportStore } from '../../src/persistence/domain-stores.ts';
import { createImportStore } from '../../src/persistence/import-store.ts';
import { createTestPostgres } from '../helpers/postgres.ts';

const NOW = new Date('2026-11-23T03:00:00Z');

const STORES = [
  {
    name: 'SQLite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'kopbot-reports-'));
      return { url: `file:${join(dir, 'test.db')}`, dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    async create() {
      const pg = await createTestPostgres();
      const dir = mkdtempSync(join(tmpdir(), 'kopbot-reports-'));
      return { url: pg.url, dir, drop: async () => { await pg.drop(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
];

describe.each(STORES)('the Dinas\' view of yearly figures on $name', (store) => {
  let database: Awaited<ReturnType<(typeof STORES)[number]['create']>>;
  let db: Db;

  beforeEach(async () => {
    database = await store.create();
    db = await openDatabase(database.url);
  });
  afterEach(async () => {
    await db.$disconnect();
    await database.drop();
  });

  async function importCsv(kind: 'koperasi' | 'members' | 'report', name: string, text: string, koperasiCode?: string) {
    const path = join(database.dir, name);
    writeFileSync(path, text);
    const result = await importFile(createImportStore(db), kind, path, { koperasiCode, actor: 'test', now: NOW });
    expect(result.problems).toEqual([]);
    return result;
  }

  test('lists every cooperative\'s rows with its code, name, type and district, filtered by district and book year', async () => {
    await importCsv('koperasi', 'koperasi.csv', 'kode;nama;jenis;kecamatan\nKSP-01;KSP Sumber Rejeki;KSP;Paiton\nKPRI-02;KPRI Bhakti Guru;KPRI;Kraksaan\nKUD-03;KUD Tani Makmur;KUD;kraksaan \n');
    const header = 'Tahun Buku;Jumlah Anggota;Total Aset;Modal Sendiri;Simpanan Anggota;Pinjaman Beredar;Volume Usaha;Pendapatan;Biaya;SHU;NPL (%);Tgl RAT';
    for (const code of ['KSP-01', 'KPRI-02', 'KUD-03']) {
      const members = ['No. Anggota;Nama', ...Array.from({ length: 30 }, (_, i) => `${i + 1};Anggota ${i + 1}`)].join('\n');
      await importCsv('members', `anggota-${code}.csv`, members, code);
    }
    await importCsv('report', 'ksp.csv', `${header}\n2024;28;900.000.000;300.000.000;500.000.000;700.000.000;1.000.000.000;150.000.000;120.000.000;30.000.000;6,5;18/03/2025\n2025;30;1.000.000.000;330.000.000;540.000.000;760.000.000;1.100.000.000;160.000.000;125.000.000;35.000.000;5;\n`, 'KSP-01');
    await importCsv('report', 'kpri.csv', `${header}\n2025;29;2.000.000.000;800.000.000;1.500.000.000;1.700.000.000;2.500.000.000;300.000.000;240.000.000;60.000.000;;14/03/2026\n`, 'KPRI-02');
    await importCsv('report', 'kud.csv', `${header}\n2025;25;400.000.000;150.000.000;100.000.000;;600.000.000;90.000.000;97.500.000;(7.500.000);;\n`, 'KUD-03');
    const domain = { reports: createReportStore(db), koperasi: createKoperasiStore(db) };

    const all = await listAnnualReports(domain);
    expect(all.map((r) => [r.koperasi.district, r.koperasi.code, r.bookYear])).toEqual([
      ['Kraksaan', 'KPRI-02', 2025],
      ['kraksaan', 'KUD-03', 2025],
      ['Paiton', 'KSP-01', 2024],
      ['Paiton', 'KSP-01', 2025],
    ]);
    expect(all[0]).toEqual({
      koperasi: { code: 'KPRI-02', name: 'KPRI Bhakti Guru', type: 'KPRI', district: 'Kraksaan' },
      bookYear: 2025, memberCount: 29, assets: 2_000_000_000n, ownCapital: 800_000_000n, memberSavings: 1_500_000_000n, loansOutstanding: 1_700_000_000n,
      businessVolume: 2_500_000_000n, revenue: 300_000_000n, costs: 240_000_000n, shu: 60_000_000n, nplBasisPoints: null, ratDate: '2026-03-14', importedAt: NOW,
    });
    expect(all[1]).toMatchObject({ shu: -7_500_000n, loansOutstanding: null, ratDate: null });

    const year = await listAnnualReports(domain, { bookYear: 2025 });
    expect(year.map((r) => [r.koperasi.code, r.nplBasisPoints])).toEqual([['KPRI-02', null], ['KUD-03', null], ['KSP-01', 500]]);
    const paiton = await listAnnualReports(domain, { district: ' PAITON ', bookYear: 2024 });
    expect(paiton.map((r) => [r.koperasi.code, r.bookYear, r.nplBasisPoints, r.ratDate])).toEqual([['KSP-01', 2024, 650, '2025-03-18']]);
    // Districts are matched as a person reads them: spelled two ways on file, both are found.
    expect((await listAnnualReports(domain, { district: 'KRAKSAAN' })).map((r) => r.koperasi.code)).toEqual(['KPRI-02', 'KUD-03']);

    await expect(listAnnualReports(domain, { district: 'Gending' })).rejects.toThrow(new DomainError('district_unknown', 'Kecamatan Gending tidak ada di data koperasi.'));
    await expect(listAnnualReports(domain, { bookYear: 25 })).rejects.toMatchObject({ code: 'report_filter_invalid' });
  });
});
