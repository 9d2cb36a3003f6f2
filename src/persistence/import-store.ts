/**
 * The import's store port (src/import/ports.ts) with Prisma, on SQLite and PostgreSQL: reads
 * paged by id so no statement grows with the cooperative, new rows as multi-row inserts
 * (bulk-insert.ts), and the whole write in one transaction, tried again while busy.
 */
import type { ImportReads, ImportStore, ImportWriter, KoperasiRef, StoredAnnualReport, StoredLoan, StoredMember, StoredMemberShu, StoredSavingsAccount } from '../import/ports.ts';
import { insertMany, updateMany } from './bulk-insert.ts';
import { retryWhileBusy } from './busy.ts';
import type { Db } from './database.ts';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** Rows fetched per query when reading what a cooperative already has: bounded, whatever its size. */
const PAGE = 5000;

/** Every row of a query, fetched in pages by id, each handed to `visit` and let go of page by page. */
async function forEachPage<T extends { id: number }>(fetch: (afterId: number, take: number) => Promise<T[]>, visit: (row: T) => void): Promise<void> {
  let afterId = 0;
  for (;;) {
    const page = await fetch(afterId, PAGE);
    for (const row of page) visit(row);
    if (page.length < PAGE) return;
    afterId = page[page.length - 1]!.id;
  }
}

const KOPERASI_REF = { id: true, code: true, timezone: true, bookYearEnd: true } as const;
const MEMBER = { id: true, memberNumber: true, name: true, nik: true, phone: true, joinedOn: true, gender: true, status: true } as const;
const SAVINGS = { id: true, memberId: true, kind: true, balance: true, asOf: true, label: true } as const;
const LOAN = {
  id: true, memberId: true, loanNumber: true, principal: true, outstanding: true, installment: true,
  tenorMonths: true, disbursedOn: true, nextDueOn: true, arrears: true, lateFee: true,
} as const;
const ANNUAL_REPORT = {
  id: true, bookYear: true, memberCount: true, assets: true, ownCapital: true, memberSavings: true, loansOutstanding: true,
  businessVolume: true, revenue: true, costs: true, shu: true, nplBasisPoints: true, ratDate: true, note: true,
} as const;
const MEMBER_SHU = { id: true, memberId: true, bookYear: true, jasaModal: true, jasaUsaha: true, total: true, paidOn: true, paidHow: true } as const;

function reads(db: Db | Tx): ImportReads {
  return {
    koperasiByCode: (code) => db.koperasi.findUnique({ where: { code }, select: KOPERASI_REF }) as Promise<KoperasiRef | null>,
    someKoperasi: (take) => db.koperasi.findMany({ select: KOPERASI_REF, take, orderBy: { id: 'asc' } }),
    forEachMember: (koperasiId, visit) =>
      forEachPage<StoredMember>((afterId, take) => db.member.findMany({ where: { koperasiId, id: { gt: afterId } }, orderBy: { id: 'asc' }, take, select: MEMBER }), visit),
    forEachSavingsAccount: (koperasiId, visit) =>
      forEachPage<StoredSavingsAccount>(
        (afterId, take) => db.savingsAccount.findMany({ where: { member: { koperasiId }, id: { gt: afterId } }, orderBy: { id: 'asc' }, take, select: SAVINGS }),
        visit,
      ),
    forEachLoan: (koperasiId, visit) =>
      forEachPage<StoredLoan>((afterId, take) => db.loan.findMany({ where: { koperasiId, id: { gt: afterId } }, orderBy: { id: 'asc' }, take, select: LOAN }), visit),
    countMembers: (koperasiId) => db.member.count({ where: { koperasiId } }),
    annualReports: (koperasiId): Promise<StoredAnnualReport[]> => db.annualReport.findMany({ where: { koperasiId }, orderBy: { bookYear: 'asc' }, select: ANNUAL_REPORT }),
    forEachMemberShu: (koperasiId, visit) =>
      forEachPage<StoredMemberShu>((afterId, take) => db.memberShu.findMany({ where: { koperasiId, id: { gt: afterId } }, orderBy: { id: 'asc' }, take, select: MEMBER_SHU }), visit),
  };
}

function writer(tx: Tx): ImportWriter {
  return {
    ...reads(tx),
    koperasiRecord: (code) =>
      tx.koperasi.findUnique({
        where: { code },
        select: { id: true, code: true, name: true, type: true, district: true, village: true, bookYearEnd: true, timezone: true, quorumPercent: true },
      }),
    async createKoperasi(fields) {
      await tx.koperasi.create({ data: fields });
    },
    async updateKoperasi(id, fields) {
      await tx.koperasi.update({ where: { id }, data: fields });
    },
    insertMembers: (koperasiId, members) =>
      insertMany(
        tx,
        'Member',
        ['koperasiId', 'memberNumber', 'name', 'nik', 'phone', 'joinedOn', 'gender', 'status'],
        members.map((m) => [koperasiId, m.memberNumber, m.name, m.nik, m.phone, m.joinedOn, m.gender, m.status]),
        { timestamps: ['createdAt', 'updatedAt'] },
      ),
    updateMembers: (columns, rows) => updateMany(tx, 'Member', columns, rows),
    insertSavingsAccounts: (accounts) =>
      insertMany(tx, 'SavingsAccount', ['memberId', 'kind', 'label', 'balance', 'asOf'], accounts.map((a) => [a.memberId, a.kind, a.label, a.balance, a.asOf]), {
        timestamps: ['updatedAt'],
      }),
    async updateSavingsAccount(id, fields) {
      await tx.savingsAccount.update({ where: { id }, data: fields });
    },
    async addSavingsMovement(movement) {
      await tx.savingsTransaction.create({ data: movement });
    },
    async insertLoans(koperasiId, loans) {
      await insertMany(
        tx,
        'Loan',
        ['koperasiId', 'memberId', 'loanNumber', 'principal', 'outstanding', 'installment', 'tenorMonths', 'disbursedOn', 'nextDueOn', 'arrears', 'lateFee'],
        loans.map((l) => [koperasiId, l.memberId, l.loanNumber, l.principal, l.outstanding, l.installment, l.tenorMonths, l.disbursedOn, l.nextDueOn, l.arrears, l.lateFee]),
        { timestamps: ['createdAt', 'updatedAt'] },
      );
    },
    async loanIds(koperasiId, loanNumbers) {
      const rows = await tx.loan.findMany({ where: { koperasiId, loanNumber: { in: [...loanNumbers] } }, select: { id: true, loanNumber: true } });
      return new Map(rows.map((l) => [l.loanNumber, l.id]));
    },
    async updateLoan(id, koperasiId, fields) {
      await tx.loan.update({ where: { id }, data: { ...fields, koperasiId } });
    },
    async replaceInstallments(loanIds, installments) {
      if (loanIds.length > 0) await tx.loanInstallment.deleteMany({ where: { loanId: { in: [...loanIds] } } });
      return insertMany(tx, 'LoanInstallment', ['loanId', 'number', 'dueOn', 'principal', 'interest'], installments.map((s) => [s.loanId, s.number, s.dueOn, s.principal, s.interest]));
    },
    meetingByKey: (koperasiId, key) =>
      tx.meeting.findUnique({
        where: { koperasiId_key: { koperasiId, key } },
        select: { id: true, kind: true, bookYear: true, startsAt: true, place: true, agenda: true },
      }) as ReturnType<ImportWriter['meetingByKey']>,
    async createMeeting(koperasiId, key, fields) {
      await tx.meeting.create({ data: { ...fields, key, koperasiId } });
    },
    async updateMeeting(id, fields) {
      await tx.meeting.update({ where: { id }, data: fields });
    },
    async createAnnualReport(koperasiId, fields, importedAt) {
      await tx.annualReport.create({ data: { ...fields, koperasiId, importedAt } });
    },
    async updateAnnualReport(id, fields, importedAt) {
      await tx.annualReport.update({ where: { id }, data: { ...fields, importedAt } });
    },
    insertMemberShu: (koperasiId, rows, importedAt) =>
      insertMany(
        tx,
        'MemberShu',
        ['koperasiId', 'memberId', 'bookYear', 'jasaModal', 'jasaUsaha', 'total', 'paidOn', 'paidHow'],
        rows.map((r) => [koperasiId, r.memberId, r.bookYear, r.jasaModal, r.jasaUsaha, r.total, r.paidOn, r.paidHow]),
        { timestamps: ['importedAt'], now: importedAt },
      ),
    async updateMemberShu(id, fields, importedAt) {
      await tx.memberShu.update({ where: { id }, data: { ...fields, importedAt } });
    },
    async audit(row) {
      await tx.auditLog.create({ data: row });
    },
  };
}

export function createImportStore(db: Db): ImportStore {
  return {
    ...reads(db),
    inTransaction: (work) => retryWhileBusy(() => db.$transaction((tx) => work(writer(tx)), { timeout: 30 * 60_000, maxWait: 60_000 })),
  };
}
