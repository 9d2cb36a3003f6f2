/**
 * What an import needs from storage, in its own terms: bounded paged reads of what a
 * cooperative already has, and writes inside one transaction (all rows or none). Implemented
 * with Prisma in src/persistence/import-store.ts, on SQLite and PostgreSQL alike.
 */
import type { AuditRow } from '../domain/audit.ts';
import type { AnnualFigures, LoanFigures } from '../core/ports.ts';

export interface KoperasiRef {
  id: number;
  code: string;
  timezone: string;
  bookYearEnd: string;
}

export interface KoperasiFields {
  code: string;
  name: string;
  type: string;
  district: string | null;
  village: string | null;
  bookYearEnd: string;
  timezone: string;
  /** Absent: keep what is stored (a new cooperative gets the default). */
  quorumPercent?: number;
}

export interface StoredKoperasi extends Required<KoperasiFields> {
  id: number;
}

export interface MemberFields {
  memberNumber: string;
  name: string;
  nik: string | null;
  phone: string | null;
  joinedOn: string | null;
  gender: string | null;
  status: string;
}

export interface StoredMember extends MemberFields {
  id: number;
}

export interface StoredSavingsAccount {
  id: number;
  memberId: number;
  kind: string;
  label: string;
  balance: bigint;
  asOf: string;
}

export type SavingsAccountFields = Omit<StoredSavingsAccount, 'id'>;

export interface LoanFields extends LoanFigures {
  memberId: number;
}

export interface StoredLoan extends LoanFields {
  id: number;
}

export interface InstallmentFields {
  loanId: number;
  number: number;
  dueOn: string;
  principal: bigint;
  interest: bigint;
}

export interface MeetingFields {
  kind: string;
  bookYear: number;
  startsAt: Date;
  place: string;
  agenda: string;
}

export interface StoredMeeting extends MeetingFields {
  id: number;
}

/** A cooperative's figures for one book year (kopbot import laporan); null: the file left it empty. */
export interface AnnualReportFields extends AnnualFigures {
  note: string | null;
}

export interface StoredAnnualReport extends AnnualReportFields {
  id: number;
}

/** One member's SHU for one book year (kopbot import shu). */
export interface MemberShuFields {
  memberId: number;
  bookYear: number;
  jasaModal: bigint;
  jasaUsaha: bigint;
  total: bigint;
  paidOn: string | null;
  paidHow: string | null;
}

export interface StoredMemberShu extends MemberShuFields {
  id: number;
}

/** Reads, each a bounded query whatever the cooperative's size (rows handed over page by page). */
export interface ImportReads {
  koperasiByCode(code: string): Promise<KoperasiRef | null>;
  /** Up to `take` cooperatives: to use the only one when no code is given. */
  someKoperasi(take: number): Promise<KoperasiRef[]>;
  forEachMember(koperasiId: number, visit: (member: StoredMember) => void): Promise<void>;
  forEachSavingsAccount(koperasiId: number, visit: (account: StoredSavingsAccount) => void): Promise<void>;
  forEachLoan(koperasiId: number, visit: (loan: StoredLoan) => void): Promise<void>;
  /** Members on file, whatever their status (those who left were members in earlier years). */
  countMembers(koperasiId: number): Promise<number>;
  /** Every book year's figures of the cooperative (one row a year: a few dozen at most). */
  annualReports(koperasiId: number): Promise<StoredAnnualReport[]>;
  forEachMemberShu(koperasiId: number, visit: (row: StoredMemberShu) => void): Promise<void>;
}

/** Writes, inside the import's one transaction (with its reads, which see what it wrote). */
export interface ImportWriter extends ImportReads {
  koperasiRecord(code: string): Promise<StoredKoperasi | null>;
  createKoperasi(fields: KoperasiFields): Promise<void>;
  updateKoperasi(id: number, fields: KoperasiFields): Promise<void>;
  /** Multi-row inserts in bounded statements; returns the rows inserted. */
  insertMembers(koperasiId: number, members: readonly MemberFields[]): Promise<number>;
  /** Each row [id, ...values of columns]: one statement per slice. */
  updateMembers(columns: readonly (keyof MemberFields)[], rows: readonly [number, ...(string | null)[]][]): Promise<number>;
  insertSavingsAccounts(accounts: readonly SavingsAccountFields[]): Promise<number>;
  updateSavingsAccount(id: number, fields: Pick<StoredSavingsAccount, 'balance' | 'asOf' | 'label'>): Promise<void>;
  addSavingsMovement(movement: { accountId: number; date: string; amount: bigint; balanceAfter: bigint; description: string }): Promise<void>;
  insertLoans(koperasiId: number, loans: readonly LoanFields[]): Promise<void>;
  loanIds(koperasiId: number, loanNumbers: readonly string[]): Promise<Map<string, number>>;
  updateLoan(id: number, koperasiId: number, fields: LoanFields): Promise<void>;
  /** The loan's schedule replaced by these installments (none: removed). */
  replaceInstallments(loanIds: readonly number[], installments: readonly InstallmentFields[]): Promise<number>;
  meetingByKey(koperasiId: number, key: string): Promise<StoredMeeting | null>;
  createMeeting(koperasiId: number, key: string, fields: MeetingFields): Promise<void>;
  updateMeeting(id: number, fields: MeetingFields): Promise<void>;
  createAnnualReport(koperasiId: number, fields: AnnualReportFields, importedAt: Date): Promise<void>;
  updateAnnualReport(id: number, fields: AnnualReportFields, importedAt: Date): Promise<void>;
  /** Multi-row inserts in bounded statements; returns the rows inserted. */
  insertMemberShu(koperasiId: number, rows: readonly MemberShuFields[], importedAt: Date): Promise<number>;
  updateMemberShu(id: number, fields: MemberShuFields, importedAt: Date): Promise<void>;
  audit(row: AuditRow): Promise<void>;
}

export interface ImportStore extends ImportReads {
  /** One transaction for the whole write, tried again while another process holds the database. */
  inTransaction<T>(work: (writer: ImportWriter) => Promise<T>): Promise<T>;
}
