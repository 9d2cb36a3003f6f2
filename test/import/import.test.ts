/** Importing what bookkeeping programs export: all rows or none, with a report per row. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, TESTS_ON_POSTGRES, type TestApp } from '../helpers/app.ts';
import { importFile } from '../../src/import/import-file.ts';
import { describeProblem, summarize } from '../../src/import/report.ts';
import type { ImportKind } from '../../src/import/columns.ts';

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

async function run(kind: ImportKind, path: string, koperasiCode?: string) {
  return importFile(app.imports, kind, path, { koperasiCode, actor: 'test', now: NOW });
}

const KOPERASI_CSV = `kode,nama,jenis,kecamatan,desa,tutup_buku
KPRI-01,KPRI Bhakti Guru,kpri,Kraksaan,Patokan,31-12
KSP-02,KSP Sumber Rejeki,Koperasi Simpan Pinjam,Paiton,Sukodadi,
`;

const MEMBERS_CSV = `No. Anggota;Nama Lengkap;NIK;Nomor Telepon;Tgl Masuk;Status
A-001;Sulastri;3513124509800001;0812-3456-0001;02/03/2015;aktif
A-002;Abdul Rochim;'3513121203780010;+62 812-3456-0002;2012-07-16;Aktif
A-003;Yuli Astutik;3513126708900004;6281234560003;01/09/2021;
A-004;Hartono;;812 3456 0004;;nonaktif
`;

async function seedKoperasi() {
  const result = await run('koperasi', file('koperasi.csv', KOPERASI_CSV));
  expect(result.ok).toBe(true);
}

async function seedMembers() {
  await seedKoperasi();
  const result = await run('members', file('anggota.csv', MEMBERS_CSV), 'KPRI-01');
  expect(result.problems).toEqual([]);
}

describe('koperasi', () => {
  it('imports cooperatives, normalising the type and the book-year end', async () => {
    const result = await run('koperasi', file('koperasi.csv', KOPERASI_CSV));
    expect(summarize(result)).toBe('Impor koperasi selesai: 2 baris (2 baru, 0 diperbarui, 0 tetap).');
    const ksp = await app.db.koperasi.findUniqueOrThrow({ where: { code: 'KSP-02' } });
    expect(ksp).toMatchObject({ type: 'KSP', district: 'Paiton', bookYearEnd: '12-31', timezone: 'Asia/Jakarta' });
    const again = await run('koperasi', file('koperasi.csv', KOPERASI_CSV));
    expect(again).toMatchObject({ ok: true, created: 0, unchanged: 2 });
    expect(await app.db.koperasi.count()).toBe(2);
  });
});

describe('time zones', () => {
  it('gives new cooperatives the TZ setting, or the zone their file names, and shows times in it', async () => {
    const csv = 'kode,nama,jenis,zona_waktu\nKSU-BALI,KSU Dewata,KSU,\nKSU-PAPUA,KSU Cenderawasih,KSU,WIT\n';
    const result = await importFile(app.imports, 'koperasi', file('k.csv', csv), { actor: 'test', now: NOW, timeZone: 'Asia/Makassar' });
    expect(result.ok).toBe(true);
    const zones = (await app.db.koperasi.findMany({ orderBy: { code: 'asc' } })).map((k) => [k.code, k.timezone]);
    expect(zones).toEqual([['KSU-BALI', 'Asia/Makassar'], ['KSU-PAPUA', 'Asia/Jayapura']]);
    await run('members', file('m.csv', 'nomor_anggota,nama,no_hp\n1,Made,081234569999\n'), 'KSU-BALI');
    await run('meetings', file('r.csv', 'jenis,tahun_buku,tanggal,jam,tempat\nRAT,2026,20/02/2027,09.00,Balai Banjar\n'), 'KSU-BALI');
    expect(await app.say('6281234569999', 'kapan rat')).toContain('Sabtu, 20 Februari 2027, 09.00 WITA');
  });
});

describe('members', () => {
  it('accepts header aliases, ";" as separator and every common phone form', async () => {
    await seedKoperasi();
    const result = await run('members', file('anggota.csv', MEMBERS_CSV), 'kpri-01');
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, rows: 4, created: 4 });
    const members = await app.db.member.findMany({ orderBy: { memberNumber: 'asc' } });
    expect(members.map((m) => m.phone)).toEqual(['6281234560001', '6281234560002', '6281234560003', '6281234560004']);
    expect(members.map((m) => m.joinedOn)).toEqual(['2015-03-02', '2012-07-16', '2021-09-01', null]);
    expect(members.map((m) => m.status)).toEqual(['AKTIF', 'AKTIF', 'AKTIF', 'NONAKTIF']);
    // An apostrophe marks a NIK that really ends in 0.
    expect(members[1]!.nik).toBe('3513121203780010');
  });

  it('updates on re-import instead of duplicating', async () => {
    await seedMembers();
    const changed = MEMBERS_CSV.replace('0812-3456-0001', '0813-9999-0001');
    const result = await run('members', file('anggota2.csv', changed), 'KPRI-01');
    expect(result).toMatchObject({ ok: true, created: 0, updated: 1, unchanged: 3 });
    expect(await app.db.member.count()).toBe(4);
    const member = await app.db.member.findFirstOrThrow({ where: { memberNumber: 'A-001' } });
    expect(member.phone).toBe('6281399990001');
  });

  it('rejects the whole file when one row is wrong, naming row, column and problem', async () => {
    await seedKoperasi();
    const bad = `nomor_anggota,nama,nik,no_hp,tanggal_masuk,status
B-001,Good Person,3513124509800001,081234560001,02/03/2015,aktif
B-002,Short Nik,351312450980001,081234560002,02/03/2015,aktif
B-003,Excel Nik,3.51312E+15,081234560003,02/03/2015,aktif
B-004,Rounded Nik,3513124509800010,081234560004,02/03/2015,aktif
B-005,Bad Date,3513124509800005,081234560005,31/02/2026,aktif
B-001,Duplicate,3513124509800006,081234560006,02/03/2015,aktif
B-007,Bad Phone,3513124509800007,0335-123456,02/03/2015,aktif
B-008,,3513124509800008,081234560008,02/03/2015,pensiun
`;
    const result = await run('members', file('bad.csv', bad), 'KPRI-01');
    expect(result.ok).toBe(false);
    expect(await app.db.member.count()).toBe(0);
    const report = result.problems.map((p) => describeProblem(p));
    expect(report).toContain('Baris 3, kolom nik: NIK harus 16 digit, tertulis 15 digit ("351312450980001")');
    expect(report.find((l) => l.startsWith('Baris 4, kolom nik'))).toContain('Excel sudah membulatkannya');
    // One NIK ending in 0 among six is what genuine NIKs do: a note, not a refusal.
    expect(report.find((l) => l.startsWith('Baris 5, kolom nik'))).toBeUndefined();
    expect(result.warnings.map((w) => describeProblem(w, result.columns))).toContain(
      'Baris 5, kolom C (nik): NIK 3513124509800010 berakhiran 0; cocokkan dengan KTP (NIK yang dibulatkan Excel juga berakhiran 0)',
    );
    expect(report).toContain('Baris 6, kolom tanggal_masuk: tanggal 31/2/2026 tidak ada di kalender');
    expect(report).toContain('Baris 7, kolom nomor_anggota: nomor anggota B-001 sudah ada di baris 2 (duplikat)');
    // A landline is not a reason to refuse the file: it is not stored, and the clerk is told.
    expect(report.find((l) => l.startsWith('Baris 8'))).toBeUndefined();
    expect(result.warnings.map((w) => describeProblem(w)).find((l) => l.startsWith('Baris 8, kolom no_hp'))).toContain('bukan nomor HP Indonesia');
    expect(report).toContain('Baris 9, kolom nama: wajib diisi');
    expect(report.find((l) => l.startsWith('Baris 9, kolom status'))).toContain('tidak dikenal');
    expect(summarize(result)).toBe('Impor anggota dibatalkan: 6 masalah di 5 baris; tidak ada data yang diubah.');
  });

  it('reports a missing column and a malformed CSV without touching data', async () => {
    await seedKoperasi();
    const noName = await run('members', file('a.csv', 'nomor_anggota,no_hp\n1,081234567890\n'), 'KPRI-01');
    expect(noName.problems[0]!.message).toContain('Kolom wajib nama tidak ditemukan');
    const broken = await run('members', file('b.csv', 'nomor_anggota,nama\n1,"Siti\n2,Budi\n'), 'KPRI-01');
    expect(broken.ok).toBe(false);
    expect(broken.problems[0]!.message).toContain('CSV rusak');
    const unknown = await run('members', file('c.csv', MEMBERS_CSV), 'TIDAK-ADA');
    expect(unknown.problems[0]!.message).toContain('Koperasi dengan kode TIDAK-ADA belum terdaftar');
    expect(await app.db.member.count()).toBe(0);
  });

  it('reads XLSX and tells a NIK stored as a number from one stored as text', async () => {
    await seedKoperasi();
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Anggota');
    sheet.addRow(['Nomor Anggota', 'Nama', 'NIK', 'No HP', 'Tanggal Masuk']);
    sheet.addRow(['X-1', 'Teks NIK', '3513124509800010', '081234560101', new Date(Date.UTC(2019, 8, 10))]);
    sheet.addRow(['X-2', 'Angka NIK', 3513124509800011, 81234560102, '10/09/2019']);
    const path = join(app.dir, 'anggota.xlsx');
    await workbook.xlsx.writeFile(path);
    const result = await run('members', path, 'KPRI-01');
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(describeProblem(result.problems[0]!)).toContain('Baris 3, kolom nik: NIK 3513124509800011 tersimpan sebagai angka');

    sheet.getRow(3).getCell(3).value = '3513124509800011';
    await workbook.xlsx.writeFile(path);
    const fixed = await run('members', path, 'KPRI-01');
    expect(fixed.problems).toEqual([]);
    const members = await app.db.member.findMany({ orderBy: { memberNumber: 'asc' } });
    expect(members.map((m) => [m.nik, m.phone, m.joinedOn])).toEqual([
      ['3513124509800010', '6281234560101', '2019-09-10'],
      ['3513124509800011', '6281234560102', '2019-09-10'],
    ]);
  });
});

describe('savings', () => {
  const SAVINGS = `nomor_anggota,jenis_simpanan,saldo,per_tanggal
A-001,Simpanan Pokok,Rp 100.000,31/10/2026
A-001,wajib,"Rp 1.250.000,00",31/10/2026
A-001,Simpanan Hari Raya,450000,31/10/2026
A-002,sukarela,"2,500,000.00",2026-10-31
`;

  it('parses every amount style and keeps integer rupiah', async () => {
    await seedMembers();
    const result = await run('savings', file('simpanan.csv', SAVINGS), 'KPRI-01');
    expect(result.problems).toEqual([]);
    const accounts = await app.db.savingsAccount.findMany({ orderBy: { id: 'asc' } });
    expect(accounts.map((a) => [a.kind, a.label, a.balance])).toEqual([
      ['pokok', 'Simpanan Pokok', 100_000n],
      ['wajib', 'Simpanan Wajib', 1_250_000n],
      ['hari_raya', 'Simpanan Hari Raya', 450_000n],
      ['sukarela', 'Simpanan Sukarela', 2_500_000n],
    ]);
  });

  it('records the change since the last import as a movement, and nothing when re-imported unchanged', async () => {
    await seedMembers();
    await run('savings', file('s1.csv', SAVINGS), 'KPRI-01');
    const same = await run('savings', file('s1.csv', SAVINGS), 'KPRI-01');
    expect(same).toMatchObject({ ok: true, unchanged: 4, created: 0 });
    expect(await app.db.savingsTransaction.count()).toBe(0);

    const next = SAVINGS.replace('"Rp 1.250.000,00",31/10/2026', '"Rp 1.300.000,00",30/11/2026');
    app.clock.now = new Date('2026-12-01T03:00:00Z');
    const moved = await importFile(app.imports, 'savings', file('s2.csv', next), { koperasiCode: 'KPRI-01', actor: 'test', now: app.clock.now });
    expect(moved).toMatchObject({ ok: true, updated: 1, unchanged: 3 });
    const tx = await app.db.savingsTransaction.findMany();
    expect(tx.map((t) => [t.date, t.amount, t.balanceAfter])).toEqual([['2026-11-30', 50_000n, 1_300_000n]]);
    expect(await app.db.savingsAccount.count()).toBe(4);
  });

  it('imports a future as-of date with a warning', async () => {
    await seedMembers();
    const result = await run('savings', file('future.csv', 'nomor_anggota,jenis_simpanan,saldo,per_tanggal\nA-001,wajib,100000,31/12/2026\n'), 'KPRI-01');
    expect(result.ok).toBe(true);
    expect(result.warnings.map((p) => describeProblem(p))).toEqual(['Baris 2, kolom per_tanggal: tanggal saldo 31 Desember 2026 ada di masa depan; periksa kembali']);
  });

  it('refuses an older file that would roll balances back', async () => {
    await seedMembers();
    await run('savings', file('s1.csv', SAVINGS), 'KPRI-01');
    const older = SAVINGS.replaceAll('31/10/2026', '30/09/2026').replace('2026-10-31', '2026-09-30');
    const result = await run('savings', file('old.csv', older), 'KPRI-01');
    expect(result.ok).toBe(false);
    expect(result.problems[0]!.message).toContain('lebih lama dari data yang sudah ada');
  });

  it('rejects unknown member numbers, sen and negative balances, writing nothing', async () => {
    await seedMembers();
    const bad = `nomor_anggota,jenis_simpanan,saldo,per_tanggal
A-001,pokok,100000,31/10/2026
Z-999,wajib,100000,31/10/2026
A-002,wajib,"1.250.000,50",31/10/2026
A-003,wajib,-5000,31/10/2026
A-004,wajib,seratus ribu,31/10/2026
A-001,pokok,100000,31/10/2026
`;
    const result = await run('savings', file('bad.csv', bad), 'KPRI-01');
    const report = result.problems.map((p) => describeProblem(p));
    expect(report).toEqual([
      'Baris 3, kolom nomor_anggota: nomor anggota Z-999 tidak terdaftar di koperasi KPRI-01 (impor data anggota dulu)',
      'Baris 4, kolom saldo: nominal harus rupiah bulat, tertulis 1.250.000,50',
      'Baris 5, kolom saldo: nominal tidak boleh negatif (-5000)',
      'Baris 6, kolom saldo: "seratus ribu" bukan nominal rupiah (contoh: 1.250.000 atau Rp 1.250.000,00)',
      'Baris 7, kolom jenis_simpanan: simpanan anggota/jenis A-001/pokok sudah ada di baris 2 (duplikat)',
    ]);
    expect(await app.db.savingsAccount.count()).toBe(0);
  });
});

describe('loans', () => {
  const LOANS = `nomor_anggota,nomor_pinjaman,plafon,sisa_pokok,angsuran_per_bulan,tenor_bulan,tanggal_cair,jatuh_tempo_berikutnya,tunggakan
A-001,PJ-001,12.000.000,9.000.000,1.120.000,12,10/01/2026,10/12/2026,0
A-002,PJ-002,5000000,5000000,460000,12,2026-11-01,2026-12-01,
`;

  it('imports loans with an installment schedule and is idempotent', async () => {
    await seedMembers();
    const result = await run('loans', file('pinjaman.csv', LOANS), 'KPRI-01');
    expect(result.problems).toEqual([]);
    const loan = await app.db.loan.findFirstOrThrow({ where: { loanNumber: 'PJ-001' }, include: { schedule: { orderBy: { number: 'asc' } } } });
    expect(loan.schedule).toHaveLength(12);
    expect(loan.schedule[0]).toMatchObject({ number: 1, dueOn: '2026-02-10', principal: 1_000_000n, interest: 120_000n });
    expect(loan.schedule.find((s) => s.dueOn === '2026-12-10')!.number).toBe(11);
    const again = await run('loans', file('pinjaman.csv', LOANS), 'KPRI-01');
    expect(again).toMatchObject({ ok: true, unchanged: 2 });
    expect(await app.db.loanInstallment.count()).toBe(24);
  });

  it('shows the imported loan to its member in chat', async () => {
    await seedMembers();
    await run('loans', file('pinjaman.csv', LOANS), 'KPRI-01');
    const reply = await app.say('6281234560001', 'sisa pinjaman');
    expect(reply).toContain('Angsuran ke-11 dari 12: Rp1.120.000 (pokok Rp1.000.000 + jasa Rp120.000)');
    expect(reply).toContain('Kamis, 10 Desember 2026 (18 hari lagi)');
  });

  it('rejects impossible loans', async () => {
    await seedMembers();
    const bad = `${LOANS.split('\n')[0]}
A-001,PJ-009,1000000,2000000,100000,12,10/01/2026,10/02/2026,0
A-002,PJ-010,1000000,500000,100000,0,10/01/2026,10/02/2026,0
A-003,PJ-011,1000000,500000,100000,12,10/01/2026,,0
`;
    const result = await run('loans', file('bad.csv', bad), 'KPRI-01');
    expect(result.problems.map((p) => describeProblem(p))).toEqual([
      'Baris 2, kolom sisa_pokok: sisa pokok lebih besar dari plafon',
      'Baris 3, kolom tenor_bulan: harus antara 1 dan 600',
      'Baris 4, kolom jatuh_tempo_berikutnya: wajib diisi selama pinjaman belum lunas',
    ]);
    expect(await app.db.loan.count()).toBe(0);
  });
});

describe('meetings', () => {
  it('imports a RAT in local time, splits the agenda, and moves it on re-import', async () => {
    await seedKoperasi();
    const csv = `jenis,tahun_buku,tanggal,jam,tempat,agenda
RAT,2026,20/02/2027,09.00,Aula Kantor Kecamatan Kraksaan,"Laporan pengurus; Laporan pengawas; Pembagian SHU"
`;
    const result = await run('meetings', file('rat.csv', csv), 'KPRI-01');
    expect(result.problems).toEqual([]);
    const meeting = await app.db.meeting.findFirstOrThrow();
    expect(meeting.startsAt.toISOString()).toBe('2027-02-20T02:00:00.000Z');
    expect(meeting.agenda).toBe('Laporan pengurus\nLaporan pengawas\nPembagian SHU');
    const moved = await run('meetings', file('rat2.csv', csv.replace('20/02/2027,09.00', '27/02/2027,08:30')), 'KPRI-01');
    expect(moved).toMatchObject({ ok: true, updated: 1 });
    expect(await app.db.meeting.count()).toBe(1);
    expect((await app.db.meeting.findFirstOrThrow()).startsAt.toISOString()).toBe('2027-02-27T01:30:00.000Z');
  });

  it('warns about a RAT past the legal six months and rejects an impossible time', async () => {
    await seedKoperasi();
    const late = await run('meetings', file('late.csv', 'jenis,tahun_buku,tanggal,jam,tempat\nRAT,2025,15/08/2026,09.00,Balai Desa\n'), 'KPRI-01');
    expect(late.ok).toBe(true);
    expect(late.warnings[0]!.message).toContain('melewati batas 6 bulan');
    const early = await run('meetings', file('early.csv', 'jenis,tahun_buku,tanggal,jam,tempat\nRAT,2027,15/02/2027,09.00,Balai Desa\n'), 'KPRI-01');
    expect(early.ok).toBe(true);
    expect(early.warnings[0]!.message).toContain('sebelum tutup buku 31 Desember 2027');
    const bad = await run('meetings', file('bad.csv', 'jenis,tahun_buku,tanggal,jam,tempat\nRAT,2026,15/02/2027,25.00,Balai Desa\n'), 'KPRI-01');
    expect(bad.problems.map((p) => describeProblem(p))).toEqual(['Baris 2, kolom jam: jam 25.00 tidak ada']);
  });
});

describe('audit', () => {
  it('logs every import', async () => {
    await seedMembers();
    const entries = await app.db.auditLog.findMany({ orderBy: { id: 'asc' } });
    expect(entries.map((e) => e.action)).toEqual(['import.koperasi', 'import.members']);
  });
});

describe('real exports', () => {
  it('re-importing members without optional columns keeps what is stored', async () => {
    await seedMembers();
    await app.db.member.updateMany({ where: { memberNumber: 'A-004' }, data: { status: 'KELUAR' } });
    const result = await run('members', file('names.csv', 'No. Anggota;Nama Lengkap\nA-001;Sulastri Wulandari\nA-004;Hartono\n'), 'KPRI-01');
    expect(result).toMatchObject({ ok: true, updated: 1, unchanged: 1 });
    const siti = await app.db.member.findFirstOrThrow({ where: { memberNumber: 'A-001' } });
    expect(siti).toMatchObject({ name: 'Sulastri Wulandari', nik: '3513124509800001', phone: '6281234560001', joinedOn: '2015-03-02' });
    expect((await app.db.member.findFirstOrThrow({ where: { memberNumber: 'A-004' } })).status).toBe('KELUAR');
  });

  it('catches member numbers that lost their leading zeros', async () => {
    await seedKoperasi();
    await run('members', file('m.csv', 'nomor_anggota,nama\n007,Budi\n'), 'KPRI-01');
    const twin = await run('members', file('m2.csv', 'nomor_anggota,nama\n7,Budi\n'), 'KPRI-01');
    expect(twin.problems[0]!.message).toContain('mirip 007');
    const savings = await run('savings', file('s.csv', 'nomor_anggota,jenis_simpanan,saldo,per_tanggal\n7,wajib,1000,31/10/2026\n'), 'KPRI-01');
    expect(savings.problems[0]!.message).toContain('maksudnya 007?');
    expect(await app.db.member.count()).toBe(1);

    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Simpanan');
    sheet.addRow(['nomor_anggota', 'jenis_simpanan', 'saldo', 'per_tanggal']);
    sheet.addRow([7, 'wajib', 1000, '31/10/2026']);
    sheet.getCell('A2').numFmt = '000';
    const path = join(app.dir, 'simpanan.xlsx');
    await workbook.xlsx.writeFile(path);
    expect((await run('savings', path, 'KPRI-01')).problems).toEqual([]);
  });

  it('maps the ways bookkeeping programs name savings kinds and RATs', async () => {
    await seedMembers();
    const savings = `No. Anggota,Jenis Simpanan,Saldo Akhir (Rp),Per Tanggal
A-001,Simpanan Wajib (SW),"Rp 250.000,-",31/10/2026
A-001,S. Pokok,100000,31/10/2026
A-001,Simp. Sukarela,-,31/10/2026
A-001,(SW),250000,31/10/2026
`;
    const result = await run('savings', file('s.csv', savings), 'KPRI-01');
    expect(result.problems.map((p) => describeProblem(p))).toEqual([
      'Baris 5, kolom jenis_simpanan: simpanan anggota/jenis A-001/wajib sudah ada di baris 2 (duplikat)',
    ]);
    const fixed = await run('savings', file('s2.csv', savings.split('\n').slice(0, 4).join('\n')), 'KPRI-01');
    expect(fixed.ok).toBe(true);
    const kinds = (await app.db.savingsAccount.findMany({ orderBy: { id: 'asc' } })).map((a) => [a.kind, a.balance]);
    expect(kinds).toEqual([['wajib', 250_000n], ['pokok', 100_000n], ['sukarela', 0n]]);

    const meetings = 'sep=;\nJenis;Tahun Buku;Tanggal;Jam;Tempat\nRapat Anggota Tahunan (RAT) Tahun Buku 2026;2026;20/02/2027;09.00;Aula\nPra-RAT;2026;06/02/2027;09.00;Aula\n';
    const imported = await run('meetings', file('r.csv', meetings), 'KPRI-01');
    expect(imported.problems).toEqual([]);
    expect((await app.db.meeting.findMany({ orderBy: { startsAt: 'asc' } })).map((m) => m.kind)).toEqual(['PRA_RAT', 'RAT']);
  });

  it('keeps month-end due dates on the month end', async () => {
    await seedMembers();
    const csv = `nomor_anggota,nomor_pinjaman,plafon (Rp),sisa_pokok,angsuran_per_bulan,tenor_bulan,tanggal_cair,jatuh_tempo_berikutnya
A-001,PJ-31,12000000,2000000,1100000,12,31/01/2026,31/12/2026
`;
    expect((await run('loans', file('l.csv', csv), 'KPRI-01')).problems).toEqual([]);
    const schedule = await app.db.loanInstallment.findMany({ orderBy: { number: 'asc' } });
    expect(schedule.slice(0, 3).map((s) => s.dueOn)).toEqual(['2026-02-28', '2026-03-31', '2026-04-30']);
    expect(schedule.find((s) => s.dueOn === '2026-12-31')!.number).toBe(11);
  });
});

// Another process's SQLite write lock; PostgreSQL's writers do not lock each other out so.
describe.skipIf(TESTS_ON_POSTGRES)('a busy database', () => {
  it('waits for another writer to finish instead of failing', async () => {
    await seedKoperasi();
    const Database = (await import('better-sqlite3')).default;
    const other = new Database(app.url.slice('file:'.length));
    other.exec('BEGIN IMMEDIATE');
    other.exec(`INSERT INTO AuditLog (actor, action, detail) VALUES ('other', 'hold', '{}')`);
    const release = setTimeout(() => other.exec('COMMIT'), 700);
    try {
      const result = await run('members', file('m.csv', 'nomor_anggota,nama\n1,Siti\n'), 'KPRI-01');
      expect(result.ok).toBe(true);
      expect(await app.db.member.count()).toBe(1);
    } finally {
      clearTimeout(release);
      if (other.inTransaction) other.exec('COMMIT');
      other.close();
    }
  });
});

describe('exports as they come', () => {
  it('refuses a row whose value spilled past the last column, instead of cutting it', async () => {
    await seedKoperasi();
    const csv = 'Jenis Rapat;Tahun Buku;Tanggal Rapat;Waktu;Lokasi;Acara\nRAT;2026;20 Februari 2027;9:00 WIB;Balai Desa Sidomukti;Laporan; SHU\n';
    const result = await run('meetings', file('m.csv', csv), 'KPRI-01');
    expect(result.problems.map((p) => describeProblem(p))).toEqual([
      'Baris 2: berisi 7 nilai, padahal judul kolom hanya 6; bila sebuah nilai memuat tanda pemisah (; atau ,), apit nilai itu dengan tanda kutip "…"',
    ]);
    const quoted = csv.replace('Laporan; SHU', '"Laporan; SHU"');
    expect((await run('meetings', file('m2.csv', quoted), 'KPRI-01')).ok).toBe(true);
    expect((await app.db.meeting.findFirstOrThrow()).agenda).toBe('Laporan\nSHU');
  });

  it('skips title lines above the header and reports every duplicate in one run', async () => {
    await seedKoperasi();
    const csv = 'DAFTAR ANGGOTA KPRI BHAKTI GURU\nPer 31 Oktober 2026\n\nnomor_anggota,nama,nik\n020,A,35131\n020,B,3513124501800021\n';
    const result = await run('members', file('m.csv', csv), 'KPRI-01');
    expect(result.problems.map((p) => describeProblem(p))).toEqual([
      'Baris 5, kolom nik: NIK harus 16 digit, tertulis 5 digit ("35131")',
      'Baris 6, kolom nomor_anggota: nomor anggota 020 sudah ada di baris 5 (duplikat)',
    ]);
  });

  it('warns when a due date has passed with no arrears, and the member is not thanked for paying on time', async () => {
    await seedMembers();
    const csv = 'nomor_anggota,nomor_pinjaman,plafon,sisa_pokok,Angsuran/Bulan,tenor_bulan,tanggal_cair,jatuh_tempo_berikutnya,tunggakan\nA-001,PJ-7,"Rp 2.000.000",2.000.000,"Rp 190.000",12,01/10/2026,01/11/2026,0\n';
    const result = await run('loans', file('l.csv', csv), 'KPRI-01');
    expect(result.ok).toBe(true);
    expect(result.warnings[0]!.message).toContain('jatuh tempo 1 November 2026 sudah lewat tetapi tunggakan 0');
    const reply = await app.say('6281234560001', 'pinjaman');
    expect(reply).toContain('belum tercatat dibayar');
    expect(reply).not.toContain('tertib membayar');
  });
});
