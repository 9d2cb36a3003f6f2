/**
 * What the business operations (src/domain) need from storage, in their own terms: async store
 * ports, implemented with Prisma in src/persistence/domain-stores.ts on SQLite and PostgreSQL
 * alike. The rules (who is a board, the current RAT, the quorum, audiences, seats) live in the
 * domain; a port only reads and writes, and where a guarantee must hold across instances (a seat,
 * a job's occurrence) the port's one method is that guarantee.
 */
import type { Catalogue } from '../core/catalogue.ts';
import type { AnnualReportView } from '../core/ports.ts';
import type { OutboxStore } from '../outbox/outbox-store.ts';
import type { AuditRow, AuditStore } from './audit.ts';

export type { AuditRow, AuditStore };

export interface KoperasiRecord {
  id: number;
  code: string;
  name: string;
  type: string;
  district: string | null;
  timezone: string;
  quorumPercent: number;
  /** MM-DD */
  bookYearEnd: string;
}

export interface OfficerRecord {
  id: number;
  name: string;
  phone: string;
  role: string;
  koperasiId: number | null;
  koperasi: KoperasiRecord | null;
}

export interface MeetingRecord {
  id: number;
  koperasiId: number;
  key: string;
  kind: string;
  bookYear: number | null;
  startsAt: Date;
  place: string;
  agenda: string;
  heldAt: Date | null;
}

export interface EventRecord {
  id: number;
  title: string;
  topic: string;
  startsAt: Date;
  place: string;
  capacity: number;
  forMembers: boolean;
  koperasiTypes: string;
  districts: string;
  roles: string;
  organiser: string;
}

export type InvitationStatus = 'invited' | 'accepted' | 'waitlisted' | 'declined';

export interface InvitationRecord {
  id: number;
  eventId: number;
  officerId: number;
  status: InvitationStatus;
  invitedAt: Date;
  respondedAt: Date | null;
}

export interface KoperasiStore {
  byCode(code: string): Promise<KoperasiRecord | null>;
  byId(id: number): Promise<KoperasiRecord | null>;
  all(): Promise<KoperasiRecord[]>;
  /** The districts (kecamatan) on file, as written. */
  districts(): Promise<string[]>;
  /** Book years whose RAT the Dinas has on file as held (RatHeld rows). */
  ratHeldYears(koperasiId: number): Promise<number[]>;
}

/** A cooperative's figures for one book year, with the cooperative it belongs to (the Dinas' view). */
export interface AnnualReportRecord extends AnnualReportView {
  koperasi: { code: string; name: string; type: string; district: string | null };
}

export interface ReportStore {
  /** The yearly figures of every cooperative, of these districts (as written on file) and one book year when given. */
  annualReports(filter: { districts?: readonly string[]; bookYear?: number }): Promise<AnnualReportRecord[]>;
}

export interface OfficerStore {
  /** Every officer, by id (a few per cooperative: a province has some thousands). */
  all(): Promise<OfficerRecord[]>;
  /** The officers of one cooperative, by id. */
  ofKoperasi(koperasiId: number): Promise<OfficerRecord[]>;
}

export interface MemberDirectory {
  countActive(koperasiId: number): Promise<number>;
  activeIds(koperasiId: number): Promise<number[]>;
  byNumber(koperasiCode: string, memberNumber: string): Promise<{ id: number; name: string; status: string; koperasiId: number } | null>;
}

export interface MeetingStore {
  byId(id: number): Promise<MeetingRecord | null>;
  /** The first RAT of the cooperative starting after `after` (held or not, unless notHeld). */
  nextRat(koperasiId: number, after: Date, options?: { notHeld?: boolean }): Promise<MeetingRecord | null>;
  /** The RAT that started last. */
  latestRat(koperasiId: number): Promise<MeetingRecord | null>;
  /** RATs not yet held that start after `after`, of every cooperative. */
  comingRats(after: Date): Promise<MeetingRecord[]>;
  /** Whether a RAT of this book year is recorded as held. */
  ratHeld(koperasiId: number, bookYear: number): Promise<boolean>;
  /** Answers of active members only: a member who left no longer counts, yes or no. */
  answers(meetingId: number): Promise<{ yes: number; no: number }>;
  move(id: number, startsAt: Date): Promise<void>;
  /** The RAT of a book year (key "RAT:<year>"), if there is one. */
  ratOf(koperasiId: number, bookYear: number): Promise<MeetingRecord | null>;
  /** The RAT of a book year: created, or its date and place set again (key "RAT:<year>"). */
  upsertRat(input: { koperasiId: number; bookYear: number; startsAt: Date; place: string; agenda: string }): Promise<MeetingRecord>;
}

/** REPORT: the RAT report (laporan pertanggungjawaban); INVITATION: the invitation (undangan RAT). */
export type MeetingDocumentKind = 'REPORT' | 'INVITATION';

/** A meeting's document as stored, without its bytes. */
export interface MeetingDocumentRecord {
  id: number;
  meetingId: number;
  kind: MeetingDocumentKind;
  fileName: string;
  mimeType: string;
  size: number;
  sha256: string;
  /** The unguessable part of the document's web link (a new one with every new content). */
  token: string;
  attachedBy: string;
  attachedAt: Date;
}

export interface MeetingDocumentStore {
  /** The meeting's document of this kind, without its bytes. */
  of(meetingId: number, kind: MeetingDocumentKind): Promise<MeetingDocumentRecord | null>;
  /** Of the cooperative's RATs that have a document of this kind, the one that starts last, with it. */
  latestOf(koperasiId: number, kind: MeetingDocumentKind, before?: Date): Promise<{ document: MeetingDocumentRecord; meeting: MeetingRecord } | null>;
  /**
   * Attach the document (replacing the meeting's document of this kind, if any) and write the
   * audit row, in one transaction.
   */
  put(input: Omit<MeetingDocumentRecord, 'id' | 'size'> & { content: Uint8Array; audit: AuditRow }): Promise<MeetingDocumentRecord>;
  /** A document with its bytes, by id or by its link's token. */
  content(by: { id: number } | { token: string }): Promise<{ document: MeetingDocumentRecord; bytes: Buffer } | null>;
}

export interface BimtekStore {
  event(id: number): Promise<EventRecord | null>;
  /** Events for boards (not members) starting after `after`, soonest first. */
  boardEvents(after: Date, limit?: number): Promise<EventRecord[]>;
  invitation(id: number): Promise<InvitationRecord | null>;
  /** An event's invitations, by when they were answered then by id. */
  invitationsOf(eventId: number): Promise<InvitationRecord[]>;
  /** These officers' invitations in these states, latest invited first. */
  invitationsFor(officerIds: readonly number[], statuses: readonly InvitationStatus[], limit: number): Promise<InvitationRecord[]>;
  /** Invite these officers (an invitation already there is kept as it is). */
  invite(eventId: number, officerIds: readonly number[], at: Date): Promise<void>;
  /**
   * Accept an invitation still invited or declined: "accepted" if a seat is free, else
   * "waitlisted". Atomic against every other answer to the same event, on every store and
   * across instances. Returns the invitation's state after and, when it joined the waiting
   * list, how many were waiting before it (decided under the same lock, so each is told its own place).
   */
  accept(invitationId: number, at: Date): Promise<{ status: InvitationStatus; ahead: number | null }>;
  /**
   * Decline (or give up a seat), and in the same locked transaction give every seat now free to
   * the first on the waiting list: no acceptance arriving meanwhile can take a seat ahead of them.
   * Returns the officers moved up, in order.
   */
  decline(invitationId: number, at: Date): Promise<number[]>;
  /** Give the seats free (capacity grew) to the first on the waiting list, atomically; the officers moved up. */
  fillSeats(eventId: number): Promise<number[]>;
  /** How many are ahead of this waitlisted invitation. */
  waitlistAhead(invitation: InvitationRecord): Promise<number>;
}

export interface JobRunStore {
  /**
   * Claim an occurrence of a job for this run: true for exactly one of any number of
   * concurrent callers (several instances at the same tick). A claim never finished (its
   * process died before queueing) can be claimed again once older than `staleBefore`.
   */
  claim(job: string, occurrence: string, at: Date, staleBefore: Date): Promise<boolean>;
  finish(job: string, occurrence: string, queued: number): Promise<void>;
}

export interface LoanReminderRecord {
  id: number;
  koperasiId: number;
  memberId: number;
  loanNumber: string;
  installment: bigint;
  nextDueOn: string;
  koperasiName: string;
  timezone: string;
}

export interface LoanStore {
  /** Loans with a due date and something owed, of active members who asked for reminders. */
  remindable(): Promise<LoanReminderRecord[]>;
}

export interface ActivationCodeStore {
  /**
   * Store a new code for a member, all at once: earlier unused codes end, links made with a code
   * end, the code is kept only as its keyed hash, and the audit row is written.
   */
  issue(input: { memberId: number; code: string; expiresAt: Date; issuedBy: string; now: Date; audit: AuditRow }): Promise<void>;
}

export interface BroadcastStore {
  /** A Broadcast row for an announcement to officers (members' announcements go through OutboxPort.queueBroadcast). */
  record(input: { koperasiId: number | null; text: string; actor: string; sendAt: Date; recipients: number }): Promise<number>;
}

/**
 * What producers need of the outbox (src/outbox): queueing only, each call idempotent by key.
 * The outbox's own interface, so every store that implements it (SQLite, PostgreSQL) serves.
 */
export type OutboxPort = Pick<OutboxStore, 'queue' | 'queueForOfficers' | 'queueBroadcast'>;
export type { NewOutboxMessage as OutboxMessageInput, Topic } from '../outbox/outbox-store.ts';

export interface DomainStores {
  koperasi: KoperasiStore;
  officers: OfficerStore;
  members: MemberDirectory;
  meetings: MeetingStore;
  documents: MeetingDocumentStore;
  bimtek: BimtekStore;
  jobRuns: JobRunStore;
  loans: LoanStore;
  activationCodes: ActivationCodeStore;
  broadcasts: BroadcastStore;
  reports: ReportStore;
  audit: AuditStore;
  outbox: OutboxPort;
}

/**
 * Everything a business operation runs on: the stores and the texts. A message it queues takes
 * its text with texts.requireText, so a missing text fails the operation instead of going out.
 */
export interface Domain extends DomainStores {
  texts: Catalogue;
}
