/**
 * Rows of the hot paths' statements (sqlite-hot-path.ts, postgres-hot-path.ts) as the core's
 * values. Both select the same column names; the drivers differ only in how values come back:
 * better-sqlite3 gives bigints, 0/1 booleans and ISO text dates, pg gives booleans and Dates.
 */
import type { Language } from '../core/format.ts';
import { eventsForMembersOf } from '../domain/bimtek.ts';
import type { AnnualReportView, ComplaintView, EventView, FiguresService, Identity, LoanView, MeetingView, MemberRef, MemberShuView, SessionState, VerificationMethod } from '../core/ports.ts';

export type Row = Record<string, unknown>;

export const num = (v: unknown): number => Number(v as bigint | number);
export const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number));
export const str = (v: unknown): string => v as string;
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
export const dateOrNull = (v: unknown): Date | null => (v instanceof Date ? v : typeof v === 'string' ? new Date(v) : null);
const bool = (v: unknown): boolean => v === true || ((typeof v === 'bigint' || typeof v === 'number') && Number(v) === 1);

/** The member columns both hot paths select (m_… of Member, k_… of its Koperasi). */
export function toMember(row: Row): MemberRef {
  return {
    id: num(row.m_id),
    koperasiId: num(row.m_koperasiId),
    koperasiCode: str(row.k_code),
    koperasiName: str(row.k_name),
    timezone: str(row.k_timezone),
    memberNumber: str(row.m_memberNumber),
    name: str(row.m_name),
    phone: strOrNull(row.m_phone),
    status: str(row.m_status),
    optOutAnnouncements: bool(row.m_optOut),
  };
}

export function toIdentity(row: Row): Identity {
  return {
    id: num(row.id),
    channel: str(row.channel),
    externalId: str(row.externalId),
    phone: strOrNull(row.phone),
    language: (row.language === 'en' ? 'en' : 'id') as Language,
    verifiedBy: strOrNull(row.verifiedBy) as VerificationMethod | null,
    failedAttempts: num(row.failedAttempts),
    lockedUntil: dateOrNull(row.lockedUntil),
    member: row.m_id === null ? null : toMember(row),
  };
}

export function toMeeting(row: Row): MeetingView {
  return {
    id: num(row.id),
    kind: str(row.kind),
    bookYear: row.bookYear === null ? null : num(row.bookYear),
    startsAt: dateOrNull(row.startsAt)!,
    place: str(row.place),
    agenda: str(row.agenda).split('\n').map((s) => s.trim()).filter((s) => s !== ''),
    heldAt: dateOrNull(row.heldAt),
    attending: row.attending === null || row.attending === undefined ? null : bool(row.attending),
  };
}

/** A stored session; data that does not parse is an empty conversation, not an error. */
export function toSession(row: Row): SessionState {
  let data: SessionState['data'] = {};
  try {
    data = JSON.parse(str(row.data)) as SessionState['data'];
  } catch {
    data = {};
  }
  return { node: row.node === '' ? null : str(row.node), data, expiresAt: dateOrNull(row.expiresAt)!, version: num(row.version) };
}

export function toSavings(accounts: Row[], recent: Row[]) {
  return {
    accounts: accounts.map((r) => ({ kind: str(r.kind), label: str(r.label), balance: big(r.balance), asOf: str(r.asOf) })),
    recent: recent.map((r) => ({ date: str(r.date), amount: big(r.amount), description: str(r.description), label: str(r.label) })),
  };
}

/** A loan row, and its next installment's row if it has one (`number`, `dueOn`, `principal`, `interest`). */
export function toLoan(r: Row, next: Row | undefined): LoanView {
  return {
    loanNumber: str(r.loanNumber),
    principal: big(r.principal),
    outstanding: big(r.outstanding),
    installment: big(r.installment),
    tenorMonths: num(r.tenorMonths),
    disbursedOn: str(r.disbursedOn),
    nextDueOn: strOrNull(r.nextDueOn),
    arrears: big(r.arrears),
    lateFee: big(r.lateFee),
    next: next ? { number: num(next.number), dueOn: str(next.dueOn), principal: big(next.principal), interest: big(next.interest) } : null,
  };
}

/** An event as a member sees it (from a hot path's row or Prisma's). */
export function toEventView(e: Row | { title: string; topic: string; startsAt: Date; place: string; capacity: number }): EventView {
  return { title: str(e.title), topic: str(e.topic), startsAt: dateOrNull(e.startsAt)!, place: str(e.place), capacity: num(e.capacity) };
}

/** Event rows (title … districts) and the member's cooperative's row (type, district) as the events the member is shown. */
export function memberEvents(events: Row[], koperasi: Row | undefined): EventView[] {
  const audience = koperasi ? { type: str(koperasi.type), district: strOrNull(koperasi.district) } : null;
  const rows = events.map((e) => ({ ...e, koperasiTypes: str(e.koperasiTypes), districts: str(e.districts) }));
  return eventsForMembersOf(rows, audience).map(toEventView);
}

export function toComplaint(r: Row): ComplaintView {
  return { ticket: str(r.ticket), status: str(r.status), createdAt: dateOrNull(r.createdAt)! };
}

const bigOrNull = (v: unknown): bigint | null => (v === null || v === undefined ? null : big(v));

/**
 * The figures' statements, the same on both hot paths but for their placeholders (`?` on SQLite,
 * `$n` on PostgreSQL): a cooperative's last book years, and a member's SHU for the last book year
 * the cooperative reported anything for (its figures or its SHU list).
 */
export function figuresSql(p: (n: number) => string): { reports: string; memberShu: string } {
  return {
    reports: `SELECT "bookYear", "memberCount", "assets", "ownCapital", "memberSavings", "loansOutstanding", "businessVolume", "revenue", "costs", "shu",
        "nplBasisPoints", "ratDate", "importedAt"
      FROM "AnnualReport" WHERE "koperasiId" = ${p(1)} ORDER BY "bookYear" DESC LIMIT ${p(2)}`,
    memberShu: `SELECT y."year" AS "lastYear", s."bookYear", s."jasaModal", s."jasaUsaha", s."total", s."paidOn", s."paidHow"
      FROM (SELECT MAX(t."year") AS "year" FROM (
        SELECT MAX("bookYear") AS "year" FROM "AnnualReport" WHERE "koperasiId" = ${p(1)}
        UNION ALL SELECT MAX("bookYear") AS "year" FROM "MemberShu" WHERE "koperasiId" = ${p(1)}) t) y
      LEFT JOIN "MemberShu" s ON s."memberId" = ${p(2)} AND s."bookYear" = y."year"`,
  };
}

export function toAnnualReport(r: Row): AnnualReportView {
  return {
    bookYear: num(r.bookYear),
    memberCount: num(r.memberCount),
    assets: big(r.assets),
    ownCapital: bigOrNull(r.ownCapital),
    memberSavings: bigOrNull(r.memberSavings),
    loansOutstanding: bigOrNull(r.loansOutstanding),
    businessVolume: bigOrNull(r.businessVolume),
    revenue: bigOrNull(r.revenue),
    costs: bigOrNull(r.costs),
    shu: big(r.shu),
    nplBasisPoints: r.nplBasisPoints === null || r.nplBasisPoints === undefined ? null : num(r.nplBasisPoints),
    ratDate: strOrNull(r.ratDate),
    importedAt: dateOrNull(r.importedAt)!,
  };
}

/** The memberShu statement's one row as FiguresService.memberShu answers. */
export function toMemberShu(r: Row | undefined): Awaited<ReturnType<FiguresService['memberShu']>> {
  if (!r || r.lastYear === null || r.lastYear === undefined) return { bookYear: null, shu: null };
  const shu: MemberShuView | null =
    r.bookYear === null || r.bookYear === undefined
      ? null
      : { bookYear: num(r.bookYear), jasaModal: big(r.jasaModal), jasaUsaha: big(r.jasaUsaha), total: big(r.total), paidOn: strOrNull(r.paidOn), paidHow: strOrNull(r.paidHow) };
  return { bookYear: num(r.lastYear), shu };
}
