/**
 * `kopbot seed --demo`: a demo cooperative (and a second one, for a member of both) with
 * members, savings and their movements, loans (one in arrears), a RAT and a bimtek, the last
 * two book years' figures of both cooperatives and members' SHU. Dates are
 * relative to now so the demo always shows an upcoming RAT. Running it again resets the demo
 * rows instead of adding more.
 */
import type { Db } from './database.ts';
import { addMonths, localDate, localParts, zonedTimeToUtc } from '../core/format.ts';
import { buildSchedule, type LoanRecord } from '../import/importers.ts';
import { issueActivationCode } from '../domain/activation-codes.ts';
import { createActivationCodeStore, createMemberDirectory } from './domain-stores.ts';

export const DEMO_KOPERASI = 'KPRI-SEJAHTERA';
/** The demo's officers: a board member of KPRI Sejahtera and a Dinas staff member. */
export const DEMO_OFFICERS = {
  board: { name: 'Drs. Sugeng Riyadi', phone: '6281234567890' },
  dinas: { name: 'Staf Bidang Kelembagaan', phone: '6281234567899' },
} as const;

export const DEMO_PHONES = {
  /** Siti Aminah: savings, a loan in good standing. */
  siti: '6281234567801',
  /** Ahmad Fauzi: a loan in arrears with a late fee. */
  ahmad: '6281234567802',
  /** Moh. Hasan: a member of two cooperatives. */
  hasan: '6281234567803',
  /** Bambang: left the cooperative, sees nothing. */
  bambang: '6281234567805',
};
const TZ = 'Asia/Jakarta';

interface DemoMember {
  number: string;
  name: string;
  nik: string;
  phone: string | null;
  joinedOn: string;
  status: string;
}

export interface DemoSummary {
  koperasi: string[];
  members: number;
  phones: Record<string, string>;
  activation: { memberNumber: string; code: string };
  ratAt: Date;
}

function nextSaturday(from: Date, daysAhead: number): string {
  const start = new Date(from.getTime() + daysAhead * 86_400_000);
  const p = localParts(start, TZ);
  const date = localDate(start, TZ);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const add = (6 - p.weekday + 7) % 7;
  const t = new Date(Date.UTC(y, m - 1, d + add));
  return t.toISOString().slice(0, 10);
}

export async function seedDemo(db: Db, now = new Date()): Promise<DemoSummary> {
  const today = localDate(now, TZ);
  const monthStart = `${today.slice(0, 7)}-05`;

  const kpri = await db.koperasi.upsert({
    where: { code: DEMO_KOPERASI },
    create: { code: DEMO_KOPERASI, name: 'KPRI Sejahtera Kraksaan', type: 'KPRI', district: 'Kraksaan', village: 'Patokan', quorumPercent: 50 },
    update: { name: 'KPRI Sejahtera Kraksaan', type: 'KPRI', district: 'Kraksaan', village: 'Patokan' },
  });
  const ksu = await db.koperasi.upsert({
    where: { code: 'KSU-MAJU-BERSAMA' },
    create: { code: 'KSU-MAJU-BERSAMA', name: 'KSU Maju Bersama Paiton', type: 'KSU', district: 'Paiton', village: 'Karanganyar' },
    update: {},
  });

  const kpriMembers: DemoMember[] = [
    { number: '001', name: 'Siti Aminah', nik: '3513124509800001', phone: DEMO_PHONES.siti, joinedOn: '2015-03-02', status: 'AKTIF' },
    { number: '002', name: 'Ahmad Fauzi', nik: '3513121203780002', phone: DEMO_PHONES.ahmad, joinedOn: '2012-07-16', status: 'AKTIF' },
    { number: '003', name: 'Moh. Hasan', nik: '3513120511850003', phone: DEMO_PHONES.hasan, joinedOn: '2018-01-08', status: 'AKTIF' },
    { number: '004', name: 'Nur Hayati', nik: '3513126708900004', phone: null, joinedOn: '2021-09-01', status: 'AKTIF' },
    { number: '005', name: 'Bambang Sutrisno', nik: '3513121010700005', phone: DEMO_PHONES.bambang, joinedOn: '2010-02-01', status: 'KELUAR' },
  ];
  const ids = new Map<string, number>();
  for (const m of kpriMembers) {
    const data = { name: m.name, nik: m.nik, phone: m.phone, joinedOn: m.joinedOn, status: m.status, optOutAnnouncements: false };
    const row = await db.member.upsert({
      where: { koperasiId_memberNumber: { koperasiId: kpri.id, memberNumber: m.number } },
      create: { koperasiId: kpri.id, memberNumber: m.number, ...data },
      update: data,
    });
    ids.set(m.number, row.id);
  }
  const hasanKsu = await db.member.upsert({
    where: { koperasiId_memberNumber: { koperasiId: ksu.id, memberNumber: 'KSU-0117' } },
    create: { koperasiId: ksu.id, memberNumber: 'KSU-0117', name: 'Moh. Hasan', nik: '3513120511850003', phone: DEMO_PHONES.hasan, joinedOn: '2020-05-11' },
    update: { phone: DEMO_PHONES.hasan, status: 'AKTIF' },
  });

  // Savings with a few months of movements that add up to the balance.
  const savings: { member: number; kind: string; label: string; opening: bigint; moves: [number, bigint, string][] }[] = [
    { member: ids.get('001')!, kind: 'pokok', label: 'Simpanan Pokok', opening: 100_000n, moves: [] },
    { member: ids.get('001')!, kind: 'wajib', label: 'Simpanan Wajib', opening: 4_000_000n, moves: [[-3, 50_000n, 'setoran'], [-2, 50_000n, 'setoran'], [-1, 50_000n, 'setoran'], [0, 50_000n, 'setoran']] },
    { member: ids.get('001')!, kind: 'sukarela', label: 'Simpanan Sukarela', opening: 1_500_000n, moves: [[-2, 250_000n, 'setoran'], [-1, -500_000n, 'penarikan'], [0, 0n, '']] },
    { member: ids.get('001')!, kind: 'hari_raya', label: 'Simpanan Hari Raya', opening: 450_000n, moves: [[-1, 75_000n, 'setoran'], [0, 75_000n, 'setoran']] },
    { member: ids.get('002')!, kind: 'pokok', label: 'Simpanan Pokok', opening: 100_000n, moves: [] },
    { member: ids.get('002')!, kind: 'wajib', label: 'Simpanan Wajib', opening: 6_300_000n, moves: [[-1, 50_000n, 'setoran']] },
    { member: ids.get('003')!, kind: 'pokok', label: 'Simpanan Pokok', opening: 100_000n, moves: [] },
    { member: ids.get('003')!, kind: 'wajib', label: 'Simpanan Wajib', opening: 2_350_000n, moves: [[0, 50_000n, 'setoran']] },
    { member: ids.get('004')!, kind: 'pokok', label: 'Simpanan Pokok', opening: 100_000n, moves: [] },
    { member: ids.get('004')!, kind: 'wajib', label: 'Simpanan Wajib', opening: 1_200_000n, moves: [] },
    { member: hasanKsu.id, kind: 'pokok', label: 'Simpanan Pokok', opening: 50_000n, moves: [] },
    { member: hasanKsu.id, kind: 'sukarela', label: 'Simpanan Sukarela', opening: 780_000n, moves: [] },
  ];
  for (const s of savings) {
    const moves = s.moves.filter(([, amount]) => amount !== 0n);
    const balance = moves.reduce((sum, [, amount]) => sum + amount, s.opening);
    const account = await db.savingsAccount.upsert({
      where: { memberId_kind: { memberId: s.member, kind: s.kind } },
      create: { memberId: s.member, kind: s.kind, label: s.label, balance, asOf: today },
      update: { label: s.label, balance, asOf: today },
    });
    await db.savingsTransaction.deleteMany({ where: { accountId: account.id } });
    let running = s.opening;
    for (const [monthOffset, amount, description] of moves) {
      running += amount;
      const date = addMonths(monthStart, monthOffset);
      await db.savingsTransaction.create({
        data: { accountId: account.id, date: date > today ? today : date, amount, balanceAfter: running, description },
      });
    }
  }

  // Loans: one in good standing, one two installments behind with a late fee.
  const loans: LoanRecord[] = [
    {
      // Seven installments paid; the eighth is due a month from now.
      memberNumber: '001', loanNumber: 'PJ-2026-0012', principal: 10_000_000n, outstanding: 7_083_338n, installment: 516_666n,
      tenorMonths: 24, disbursedOn: addMonths(today, -7), nextDueOn: addMonths(addMonths(today, -7), 8), arrears: 0n, lateFee: 0n,
    },
    {
      // Six installments paid; the seventh and eighth, due two and one months ago, are unpaid.
      memberNumber: '002', loanNumber: 'PJ-2025-0087', principal: 15_000_000n, outstanding: 11_250_000n, installment: 775_000n,
      tenorMonths: 24, disbursedOn: addMonths(today, -9), nextDueOn: addMonths(addMonths(today, -9), 7), arrears: 1_550_000n, lateFee: 46_500n,
    },
  ];
  for (const loan of loans) {
    const { memberNumber, ...fields } = loan;
    const memberId = ids.get(memberNumber)!;
    const row = await db.loan.upsert({
      where: { koperasiId_loanNumber: { koperasiId: kpri.id, loanNumber: loan.loanNumber } },
      create: { ...fields, koperasiId: kpri.id, memberId },
      update: { ...fields, memberId },
    });
    await db.loanInstallment.deleteMany({ where: { loanId: row.id } });
    await db.loanInstallment.createMany({ data: buildSchedule(loan).map((s) => ({ ...s, loanId: row.id })) });
  }

  // The RAT: on a Saturday about six weeks ahead, at 09.00 WIB.
  const ratDate = nextSaturday(now, 42);
  const ratAt = zonedTimeToUtc(ratDate, 9, 0, TZ);
  const bookYear = Number(ratDate.slice(0, 4)) - 1;
  const agenda = [
    'Pembukaan dan laporan kehadiran (kuorum)',
    `Laporan pertanggungjawaban pengurus tahun buku ${bookYear}`,
    'Laporan hasil pengawasan',
    `Pembagian SHU tahun buku ${bookYear}`,
    `Rencana kerja dan RAPB tahun buku ${bookYear + 1}`,
    'Lain-lain',
  ].join('\n');
  await db.meeting.deleteMany({ where: { koperasiId: kpri.id, kind: 'RAT', key: { not: `RAT:${bookYear}` } } });
  await db.meeting.upsert({
    where: { koperasiId_key: { koperasiId: kpri.id, key: `RAT:${bookYear}` } },
    create: { koperasiId: kpri.id, key: `RAT:${bookYear}`, kind: 'RAT', bookYear, startsAt: ratAt, place: 'Aula KPRI Sejahtera, Jl. Panglima Sudirman 12, Kraksaan', agenda },
    update: { startsAt: ratAt, place: 'Aula KPRI Sejahtera, Jl. Panglima Sudirman 12, Kraksaan', agenda },
  });
  await db.ratHeld.upsert({
    where: { koperasiId_bookYear: { koperasiId: kpri.id, bookYear: bookYear - 1 } },
    create: { koperasiId: kpri.id, bookYear: bookYear - 1, heldOn: `${bookYear}-02-22` },
    update: {},
  });

  await seedFigures(db, now, { kpri: kpri.id, ksu: ksu.id, members: ids, hasanKsu: hasanKsu.id, lastBookYear: bookYear - 1, ratHeldOn: `${bookYear}-02-22` });

  // Bimtek: one open to members, one for boards (used by invitations).
  const bimtekDate = nextSaturday(now, 14);
  const events = [
    { title: 'Bimtek Literasi Keuangan Anggota Koperasi', topic: 'Mengelola simpanan dan pinjaman keluarga', forMembers: true, roles: '' },
    { title: 'Bimtek Penyusunan Laporan RAT', topic: 'Laporan pertanggungjawaban dan neraca', forMembers: false, roles: 'PENGURUS,PENGAWAS' },
  ];
  for (const e of events) {
    const old = await db.event.findMany({ where: { title: e.title }, select: { id: true } });
    await db.eventInvitation.deleteMany({ where: { eventId: { in: old.map((o) => o.id) } } });
    await db.event.deleteMany({ where: { title: e.title } });
    await db.event.create({
      data: {
        ...e,
        startsAt: zonedTimeToUtc(bimtekDate, e.forMembers ? 8 : 13, 0, TZ),
        place: 'Aula Dinas Koperasi dan Usaha Mikro Kab. Probolinggo, Kraksaan',
        capacity: e.forMembers ? 60 : 40,
        organiser: 'Dinas Koperasi dan Usaha Mikro Kabupaten Probolinggo',
      },
    });
  }

  await db.officer.upsert({
    where: { phone_koperasiId_role: { phone: DEMO_OFFICERS.board.phone, koperasiId: kpri.id, role: 'PENGURUS' } },
    create: { koperasiId: kpri.id, name: DEMO_OFFICERS.board.name, phone: DEMO_OFFICERS.board.phone, role: 'PENGURUS' },
    update: {},
  });
  const dinas = await db.officer.findFirst({ where: { phone: DEMO_OFFICERS.dinas.phone, koperasiId: null, role: 'DINAS' } });
  if (!dinas) await db.officer.create({ data: { koperasiId: null, name: DEMO_OFFICERS.dinas.name, phone: DEMO_OFFICERS.dinas.phone, role: 'DINAS' } });

  const activation = await issueActivationCode({ members: createMemberDirectory(db), activationCodes: createActivationCodeStore(db) }, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'seed', now });
  return {
    koperasi: [kpri.code, ksu.code],
    members: kpriMembers.length + 1,
    phones: { ...DEMO_PHONES },
    activation: { memberNumber: '004', code: activation.code },
    ratAt,
  };
}

/**
 * The last two book years' figures of both cooperatives (KPRI Sejahtera's approved at its RAT,
 * KSU Maju Bersama's last year uploaded but not yet approved) and SHU rows: Siti's paid into
 * her savings, Ahmad's not yet paid, none for Moh. Hasan at KPRI (he asks and is told so).
 */
async function seedFigures(
  db: Db,
  now: Date,
  demo: { kpri: number; ksu: number; members: Map<string, number>; hasanKsu: number; lastBookYear: number; ratHeldOn: string },
): Promise<void> {
  const last = demo.lastBookYear;
  const reports = [
    {
      koperasiId: demo.kpri, bookYear: last - 1, memberCount: 1218, assets: 18_450_000_000n, ownCapital: 6_120_000_000n, memberSavings: 11_900_000_000n,
      loansOutstanding: 15_300_000_000n, businessVolume: 16_800_000_000n, revenue: 2_310_000_000n, costs: 1_760_000_000n, shu: 550_000_000n, nplBasisPoints: 410, ratDate: `${last}-02-24`,
    },
    {
      koperasiId: demo.kpri, bookYear: last, memberCount: 1247, assets: 20_150_000_000n, ownCapital: 6_840_000_000n, memberSavings: 12_950_000_000n,
      loansOutstanding: 16_050_000_000n, businessVolume: 17_900_000_000n, revenue: 2_520_000_000n, costs: 1_904_000_000n, shu: 616_000_000n, nplBasisPoints: 350, ratDate: demo.ratHeldOn,
    },
    {
      koperasiId: demo.ksu, bookYear: last - 1, memberCount: 342, assets: 2_850_000_000n, ownCapital: 910_000_000n, memberSavings: 1_640_000_000n,
      loansOutstanding: 2_120_000_000n, businessVolume: 4_300_000_000n, revenue: 612_000_000n, costs: 548_500_000n, shu: 63_500_000n, nplBasisPoints: null, ratDate: `${last}-03-14`,
    },
    {
      koperasiId: demo.ksu, bookYear: last, memberCount: 355, assets: 3_010_000_000n, ownCapital: 968_000_000n, memberSavings: 1_715_000_000n,
      loansOutstanding: 2_060_000_000n, businessVolume: 4_650_000_000n, revenue: 640_000_000n, costs: 571_200_000n, shu: 68_800_000n, nplBasisPoints: null, ratDate: null,
    },
  ];
  await db.annualReport.deleteMany({ where: { koperasiId: { in: [demo.kpri, demo.ksu] }, bookYear: { notIn: [last - 1, last] } } });
  for (const { koperasiId, bookYear, ...figures } of reports) {
    const data = { ...figures, note: null, importedAt: now };
    await db.annualReport.upsert({ where: { koperasiId_bookYear: { koperasiId, bookYear } }, create: { koperasiId, bookYear, ...data }, update: data });
  }
  const member = (number: string) => demo.members.get(number)!;
  const shu = [
    { koperasiId: demo.kpri, memberId: member('001'), bookYear: last - 1, jasaModal: 371_200n, jasaUsaha: 254_300n, paidOn: `${last}-03-03`, paidHow: 'ditambahkan ke simpanan sukarela' },
    { koperasiId: demo.kpri, memberId: member('001'), bookYear: last, jasaModal: 412_350n, jasaUsaha: 286_900n, paidOn: `${last + 1}-03-02`, paidHow: 'ditambahkan ke simpanan sukarela' },
    { koperasiId: demo.kpri, memberId: member('002'), bookYear: last, jasaModal: 538_100n, jasaUsaha: 402_750n, paidOn: null, paidHow: null },
    { koperasiId: demo.kpri, memberId: member('004'), bookYear: last, jasaModal: 96_400n, jasaUsaha: 0n, paidOn: `${last + 1}-03-02`, paidHow: 'tunai' },
    { koperasiId: demo.ksu, memberId: demo.hasanKsu, bookYear: last, jasaModal: 54_200n, jasaUsaha: 31_750n, paidOn: null, paidHow: null },
  ];
  await db.memberShu.deleteMany({ where: { koperasiId: { in: [demo.kpri, demo.ksu] } } });
  await db.memberShu.createMany({ data: shu.map((row) => ({ ...row, total: row.jasaModal + row.jasaUsaha, importedAt: now })) });
}
