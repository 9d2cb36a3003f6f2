/**
 * Members, the owners, ask for their cooperative's figures and their own SHU: through `kopbot
 * chat` and `kopbot import` as real processes, and in process on every store.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, STORES, tempDir, type TestApp } from '../helpers/app.ts';
import { runKopbot } from '../helpers/cli.ts';
import { DEMO_PHONES, seedDemo } from '../../src/persistence/seed-demo.ts';
import { loadFlows } from '../../src/core/flows/load.ts';
import { FLOW_ACTION_NAMES as ACTION_NAMES } from '../../src/core/create-engine.ts';
import { FLOWS_DIR } from '../../src/core/create-engine.ts';
import { tokenize } from '../../src/core/text-match.ts';
import { understand } from '../../src/core/engine.ts';

/** What `kopbot chat` answered to each line (its answers end with a "---" line each). */
const answers = (stdout: string) => stdout.split(/^---$/m).map((a) => a.trim()).filter((a) => a !== '');

describe('kopbot chat, before and after the board imports its figures', () => {
  it('says no report was uploaded, then shows the card and the year-on-year change, and the member\'s own SHU, asked in Indonesian, Javanese, Madurese and English', async () => {
    const dir = tempDir('kopbot-figures-');
    const env = { DATABASE_URL: `file:${join(dir, 'koperasi.db')}`, LOG_LEVEL: 'warn' };
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const kopbot = async (args: string[], input?: string) => {
      const result = await runKopbot(args, env, input);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result;
    };
    await kopbot(['import', 'koperasi', write('koperasi.csv', 'kode;nama;jenis;kecamatan\nMJ;KSU Maju Jaya;KSU;Kraksaan\n')]);
    const members = ['No. Anggota;Nama;No. HP', '001;Sulastri;0812-3456-9001', '002;Abdul Rochim;0812-3456-9002', ...Array.from({ length: 38 }, (_, i) => `${String(i + 3).padStart(3, '0')};Anggota ${i + 3};`)];
    await kopbot(['import', 'anggota', write('anggota.csv', members.join('\n')), '--koperasi', 'MJ']);

    const before = answers((await kopbot(['chat', '--as', '0812-3456-9001'], 'laporan koperasi\nshu saya brp\n')).stdout);
    expect(before[0]).toContain('Belum ada laporan yang diunggah pengurus KSU Maju Jaya');
    expect(before[1]).toContain('SHU (sisa hasil usaha) dibagikan sesuai keputusan RAT');

    const report = [
      'LAPORAN PERKEMBANGAN KSU MAJU JAYA',
      '',
      'Tahun Buku;Jumlah Anggota;Total Aset;Modal Sendiri;Simpanan Anggota;Pinjaman Beredar;Volume Usaha;Pendapatan;Biaya;SHU Tahun Berjalan;Tgl RAT',
      '2024;36;Rp 500.000.000,00;Rp 200.000.000,00;Rp 250.000.000,00;Rp 300.000.000,00;Rp 800.000.000,00;Rp 100.000.000,00;Rp 75.000.000,00;Rp 25.000.000,00;20/03/2025',
      '2025;40;Rp 560.000.000,00;Rp 200.000.000,00;Rp 242.500.000,00;Rp 310.000.000,00;Rp 900.000.000,00;Rp 108.000.000,00;Rp 80.000.000,00;Rp 28.000.000,00;14/03/2026',
    ].join('\n');
    const imported = await kopbot(['import', 'laporan', write('laporan.csv', report), '--koperasi', 'MJ']);
    expect(imported.stdout).toBe('Impor laporan selesai: 2 baris (2 baru, 0 diperbarui, 0 tetap).\n');
    const shu = ['No. Anggota;Tahun Buku;Jasa Modal;Jasa Usaha;Jumlah SHU;Tgl Dibayar;Cara Bayar', '001;2025;Rp 150.000,00;Rp 95.500,00;Rp 245.500,00;21/03/2026;ditambahkan ke simpanan sukarela', '002;2025;80.000;20.000;100.000;;'].join('\n');
    expect((await kopbot(['import', 'shu', write('shu.csv', shu), '--koperasi', 'MJ'])).stdout).toBe('Impor shu selesai: 2 baris (2 baru, 0 diperbarui, 0 tetap).\n');

    const lines = ['laporan koperasi', 'aset koperasi brp', 'koperasi piye perkembangane', 'shu saya brp', 'shu bule sanapa', 'shu ku piro', 'english', 'how is the cooperative doing', 'my shu'];
    const after = answers((await kopbot(['chat', '--as', '0812-3456-9001'], `${lines.join('\n')}\n`)).stdout);
    const card = after[0]!;
    expect(card).toContain('*Laporan KSU Maju Jaya, tahun buku 2025*');
    expect(card).toContain('• Anggota: 40 orang (naik 11%)');
    expect(card).toContain('• Aset: Rp560.000.000 (naik 12%)');
    expect(card).toContain('• Modal sendiri: Rp200.000.000 (tetap)');
    expect(card).toContain('• Simpanan anggota: Rp242.500.000 (turun 3%)');
    expect(card).toContain('• SHU: Rp28.000.000 (naik 12%)');
    expect(card).toContain('Dalam kurung: perubahan dari tahun buku 2024.');
    expect(card).toContain('Angka ini disahkan di RAT 14 Maret 2026.');
    expect(card).not.toContain('NPL');
    expect(after[1]).toBe(card);
    expect(after[2]).toBe(card);
    for (const own of [after[3]!, after[4]!, after[5]!]) {
      expect(own).toContain('*SHU Sulastri, tahun buku 2025*');
      expect(own).toContain('• Jasa modal: Rp150.000');
      expect(own).toContain('• Jasa usaha: Rp95.500');
      expect(own).toContain('*Total: Rp245.500*');
      expect(own).toContain('Sudah dibayarkan pada 21 Maret 2026 (ditambahkan ke simpanan sukarela).');
      expect(own).not.toContain('Rp100.000');
    }
    expect(after[7]).toContain('*KSU Maju Jaya report, book year 2025*');
    expect(after[7]).toContain('• Assets: Rp560.000.000 (up 12%)');
    expect(after[7]).toContain("• Members' savings: Rp242.500.000 (down 3%)");
    expect(after[7]).toContain('These figures were approved at the RAT on 14 March 2026.');
    expect(after[8]).toContain('Paid out on 21 March 2026 (ditambahkan ke simpanan sukarela).');

    const other = answers((await kopbot(['chat', '--as', '0812-3456-9002'], 'shu saya brp\n')).stdout);
    expect(other[0]).toContain('*Total: Rp100.000*');
    expect(other[0]).toContain('Pembayarannya belum tercatat.');
    expect(other[0]).not.toContain('Rp245.500');
  });
});

describe.each(STORES)('with the $name store', ({ hotPath, postgres }) => {
  let app: TestApp;
  const { siti: SITI, ahmad: AHMAD, hasan: HASAN } = DEMO_PHONES;

  beforeEach(async () => {
    app = await createTestApp(undefined, { hotPath, postgres });
    await seedDemo(app.db, app.clock.now);
  });
  afterEach(async () => {
    await app.dispose();
  });

  it('shows the last book year with its change from the year before, and that the RAT approved it', async () => {
    const card = await app.say(SITI, 'perkembangan koperasi');
    expect(card).toContain('*Laporan KPRI Sejahtera Kraksaan, tahun buku 2025*');
    expect(card).toContain('• Anggota: 1.247 orang (naik 2%)');
    expect(card).toContain('• Modal sendiri: Rp6.840.000.000 (naik 12%)');
    expect(card).toContain('• Pinjaman beredar: Rp16.050.000.000 (naik 5%)');
    expect(card).toContain('• NPL (pinjaman bermasalah): 3,5% (2024: 4,1%)');
    expect(card).toContain('Angka ini disahkan di RAT 22 Februari 2026.');
    expect(await app.say(SITI, 'shu koperasi tahun lalu')).toContain('• SHU: Rp616.000.000 (naik 12%)');
  });

  it('says when figures were only uploaded by the board, not approved at a RAT', async () => {
    await app.say(HASAN, 'laporan koperasi');
    const card = await app.say(HASAN, '2');
    expect(card).toContain('*Laporan KSU Maju Bersama Paiton, tahun buku 2025*');
    expect(card).toContain('• Pinjaman beredar: Rp2.060.000.000 (turun 3%)');
    expect(card).toContain('Angka ini diunggah pengurus pada 22 November 2026 dan belum disahkan RAT.');
  });

  it('compares only with the year just before, and shows a loss as a loss', async () => {
    const koperasi = await app.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    await app.db.annualReport.deleteMany({ where: { koperasiId: koperasi.id, bookYear: 2024 } });
    await app.db.annualReport.create({ data: { koperasiId: koperasi.id, bookYear: 2023, memberCount: 1200, assets: 1n, shu: 1n, importedAt: app.clock.now } });
    await app.db.annualReport.update({ where: { koperasiId_bookYear: { koperasiId: koperasi.id, bookYear: 2025 } }, data: { shu: -12_500_000n, revenue: null, costs: null, ownCapital: null } });
    const card = await app.say(SITI, 'laporan koperasi');
    expect(card).toContain('• SHU: rugi Rp12.500.000\n');
    expect(card).not.toContain('Modal sendiri');
    expect(card).not.toMatch(/naik|turun/);
    expect(card).toContain('Angka tahun buku 2024 belum diunggah, jadi perubahannya belum bisa ditampilkan.');
  });

  it("gives the member their own SHU, says plainly when theirs is not recorded, and never another member's", async () => {
    const siti = await app.say(SITI, 'berapa shu saya tahun lalu');
    expect(siti).toContain('*SHU Siti Aminah, tahun buku 2025*');
    expect(siti).toContain('*Total: Rp699.250*');
    expect(siti).toContain('Sudah dibayarkan pada 2 Maret 2026 (ditambahkan ke simpanan sukarela).');
    const ahmad = await app.say(AHMAD, 'shu sy brp');
    expect(ahmad).toContain('*Total: Rp940.850*');
    expect(ahmad).toContain('Pembayarannya belum tercatat.');
    expect(ahmad).not.toContain('Rp699.250');
    await app.say(HASAN, 'shu saya');
    const hasan = await app.say(HASAN, '1');
    expect(hasan).toContain('SHU Anda untuk tahun buku 2025 belum tercatat di KPRI Sejahtera Kraksaan');
    expect(hasan).not.toMatch(/Rp\d/);
  });

  it('says no report was uploaded, and gives the RAT line for SHU, while the board has imported nothing', async () => {
    await app.db.annualReport.deleteMany();
    await app.db.memberShu.deleteMany();
    expect(await app.say(SITI, 'laporan koperasi')).toContain('Belum ada laporan yang diunggah pengurus KPRI Sejahtera Kraksaan.');
    const shu = await app.say(SITI, 'shu saya brp');
    expect(shu).toContain('SHU (sisa hasil usaha) dibagikan sesuai keputusan RAT');
    expect(shu).not.toMatch(/Rp\d/);
    await app.say(SITI, 'english');
    expect(await app.say(SITI, 'cooperative report')).toContain('No report has been uploaded by the board of KPRI Sejahtera Kraksaan yet.');
  });

  it('answers in English with the English words and numbers', async () => {
    await app.say(SITI, 'english');
    const card = await app.say(SITI, 'how is the cooperative doing');
    expect(card).toContain('*KPRI Sejahtera Kraksaan report, book year 2025*');
    expect(card).toContain('• Members: 1,247 people (up 2%)');
    expect(card).toContain('• NPL (non-performing loans): 3.5% (2024: 4.1%)');
    expect(card).toContain('These figures were approved at the RAT on 22 February 2026.');
    const shu = await app.say(SITI, 'my shu');
    expect(shu).toContain('*SHU of Siti Aminah, book year 2025*');
    expect(shu).toContain('Paid out on 2 March 2026 (ditambahkan ke simpanan sukarela).');
  });

  it('keeps complaints complaints: "mau lapor" and "laporan saldo saya salah" are filed, not answered with the card', async () => {
    expect(await app.say(SITI, 'mau lapor')).toContain('tulis pengaduan');
    await app.say(SITI, 'batal');
    const filed = await app.say(SITI, 'laporan saldo saya salah, simpanan wajib bulan lalu belum tercatat');
    expect(filed).toContain('nomor tiket');
    expect(filed).not.toContain('tahun buku');
  });

  it('answers an unverified phone with neither figures nor anyone\'s SHU', async () => {
    for (const text of ['laporan koperasi', 'shu saya brp', 'cooperative report']) {
      const reply = await app.say('6289911112222', text);
      expect(reply, text).not.toMatch(/Rp\d/);
      expect(reply, text).toContain('kode aktivasi');
    }
  });
});

describe('free-text understanding of the figures', () => {
  const flows = loadFlows(FLOWS_DIR, ACTION_NAMES);
  const intentOf = (text: string) => understand(flows, tokenize(text, flows.lexicon, flows.emoji)).join('+') || null;
  const EXPECTED: [string, string][] = [
    ['laporan koperasi', 'coop_report'],
    ['Laporan koperasinya mana?', 'coop_report'],
    ['perkembangan koperasi', 'coop_report'],
    ['aset koperasi brp', 'coop_report'],
    ['total aset brp', 'coop_report'],
    ['shu koperasi tahun lalu', 'coop_report'],
    ['koperasi piye perkembangane', 'coop_report'],
    ['aset koperasine piro', 'coop_report'],
    ['perkembangan koperasi deremma', 'coop_report'],
    ['cooperative report', 'coop_report'],
    ['how is the cooperative doing', 'coop_report'],
    ['shu saya brp', 'shu'],
    ['shu ku piro', 'shu'],
    ['shu bule sanapa', 'shu'],
    ['my shu', 'shu'],
    ['berapa shu saya tahun lalu', 'shu'],
    ['mau lapor', 'complaint'],
    ['laporan saldo saya salah', 'complaint'],
    ['laporan koperasi tidak sesuai', 'complaint'],
    ['saya asep, mau cek saldo', 'savings'],
  ];
  it('routes the report, the own SHU and complaints apart', () => {
    expect(EXPECTED.filter(([text, intent]) => intentOf(text) !== intent).map(([text, intent]) => `${text} → ${intentOf(text)} (want ${intent})`)).toEqual([]);
  });
});
