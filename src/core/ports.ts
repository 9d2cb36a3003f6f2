/**
 * What the conversation core needs from storage, in the core's own terms. The Prisma-backed
 * implementation lives in src/persistence; the core never sees a Prisma type.
 */
import type { Language } from './format.ts';

export interface MemberRef {
  id: number;
  koperasiId: number;
  koperasiCode: string;
  koperasiName: string;
  timezone: string;
  memberNumber: string;
  name: string;
  phone: string | null;
  status: string;
  optOutAnnouncements: boolean;
}

export type VerificationMethod = 'phone' | 'contact' | 'code';

export interface Identity {
  id: number;
  channel: string;
  externalId: string;
  /** The phone the channel verified for this identity, if any. */
  phone: string | null;
  language: Language;
  verifiedBy: VerificationMethod | null;
  failedAttempts: number;
  lockedUntil: Date | null;
  member: MemberRef | null;
}

export interface SessionState {
  /** The node waiting for an answer, or null when the conversation is at rest. */
  node: string | null;
  data: SessionData;
  expiresAt: Date;
  /**
   * The stored version this state was read at (0: no state stored yet). A save carries it back:
   * the store refuses the save when the row moved on since (another instance answered this chat
   * meanwhile), so a stale turn never overwrites fresher state.
   */
  version: number;
}

export interface SessionData {
  /**
   * The phone the sender's own contact proved in this session (Telegram). Only the platform's
   * word goes here, never a link or a code; it ends with the session.
   */
  provenPhone?: string;
  /**
   * When Telegram vouched for provenPhone (ISO time). The proof lasts SESSION_PROOF_MINUTES from
   * then, however busy the session: it does not slide with the session's expiry.
   */
  provenAt?: string;
  /**
   * The members provenPhone was on file for when Telegram vouched. The proof covers them only: it
   * never links to a member given that phone later, and it ends as soon as the file moves the
   * phone away from any of them.
   */
  provenMembers?: number[];
  /** The officers (board, Dinas) with provenPhone on file when Telegram vouched: the desk acts for these only. */
  provenOfficers?: number[];
  /** The "share my phone number" keyboard is on the member's screen. */
  contactAsked?: boolean;
  /** Where to go once verification succeeds. */
  resume?: string;
  /** Member number typed during activation-code verification. */
  memberNumber?: string;
  /** The cooperatives offered for the member number typed (activation code route), in order. */
  codeChoices?: { koperasiId: number; name: string; words: string[] }[];
  /** The cooperative chosen from codeChoices: the code is tried there only. */
  codeKoperasi?: number;
  /** Member ids offered in a "choose your cooperative" list, in order. */
  choices?: number[];
  /** The meeting whose attendance question is on screen. */
  meetingId?: number;
  /** Words naming each of this phone's cooperatives, to switch when a message names one. */
  memberships?: { id: number; words: string[] }[];
  /**
   * What a multi-step officer flow has collected so far (an announcement's text, a RAT's new
   * date and place): kept while a question of it is open, cleared when none is.
   */
  slots?: Record<string, string | number | null>;
  /** The options of a role-dependent menu as shown (their labels, in order): a number answers what was on screen. */
  shown?: { menu: string; labels: string[] };
}

/** An officer on file (the board of one cooperative, or the Dinas), as the conversation sees one. */
export interface OfficerRef {
  id: number;
  name: string;
  phone: string;
  koperasiId: number | null;
  /** board: PENGURUS, PENGAWAS, PENGELOLA of a cooperative; dinas: DINAS, PPKL (no cooperative). */
  kind: 'board' | 'dinas' | 'other';
}

/** The officers on file by phone (read for every private message, so kept in memory briefly). */
export interface OfficerDirectory {
  officersOf(phone: string): Promise<OfficerRef[]>;
}

export interface SavingsAccountView {
  kind: string;
  label: string;
  balance: bigint;
  asOf: string;
}

export interface SavingsTransactionView {
  date: string;
  label: string;
  amount: bigint;
  description: string;
}

export interface SavingsSummary {
  accounts: SavingsAccountView[];
  recent: SavingsTransactionView[];
}

/** A loan's figures as the cooperative's file gives them (imported, and shown to the member). */
export interface LoanFigures {
  loanNumber: string;
  principal: bigint;
  outstanding: bigint;
  installment: bigint;
  tenorMonths: number;
  disbursedOn: string;
  nextDueOn: string | null;
  arrears: bigint;
  lateFee: bigint;
}

export interface LoanView extends LoanFigures {
  /** The next unpaid installment from the schedule, when there is one. */
  next: { number: number; principal: bigint; interest: bigint; dueOn: string } | null;
}

export interface MeetingView {
  id: number;
  kind: string;
  bookYear: number | null;
  startsAt: Date;
  place: string;
  agenda: string[];
  heldAt: Date | null;
  /** This member's answer, if any. */
  attending: boolean | null;
}

export interface EventView {
  title: string;
  topic: string;
  startsAt: Date;
  place: string;
  capacity: number;
}

/**
 * A cooperative's figures for one book year as its board reports them (kopbot import laporan):
 * one type for the import, the member's card and the Dinas' view. null: not reported.
 */
export interface AnnualFigures {
  bookYear: number;
  memberCount: number;
  assets: bigint;
  ownCapital: bigint | null;
  memberSavings: bigint | null;
  loansOutstanding: bigint | null;
  businessVolume: bigint | null;
  revenue: bigint | null;
  costs: bigint | null;
  /** Negative: a loss. */
  shu: bigint;
  /** Non-performing loans (npl_persen) in hundredths of a percent (3,25% = 325). */
  nplBasisPoints: number | null;
  /** The RAT that approved these figures (YYYY-MM-DD); null: uploaded, not approved. */
  ratDate: string | null;
}

/** A cooperative's figures for one book year, as its board imported them. */
export interface AnnualReportView extends AnnualFigures {
  /** When the board uploaded them. */
  importedAt: Date;
}

/** One member's SHU for one book year. */
export interface MemberShuView {
  bookYear: number;
  jasaModal: bigint;
  jasaUsaha: bigint;
  total: bigint;
  /** When it was paid out or credited (YYYY-MM-DD); null: no payment recorded. */
  paidOn: string | null;
  paidHow: string | null;
}

export interface IdentityStore {
  /** The identity for this channel user, created on first contact. */
  resolve(channel: string, externalId: string, verifiedPhone: string | undefined): Promise<Identity>;
  bindMember(identity: Identity, memberId: number, method: VerificationMethod, at: Date): Promise<Identity>;
  unbind(identity: Identity): Promise<void>;
  setLanguage(identity: Identity, language: Language): Promise<void>;
  /** Count a failed verification; lock the identity when there were too many. */
  recordFailure(identity: Identity, at: Date): Promise<{ lockedUntil: Date | null }>;
}

export interface SessionStore {
  load(channel: string, chatId: string): Promise<SessionState | null>;
  /**
   * Save `state` if the stored version is still `state.version` (compare-and-set); the stored
   * version then moves on by one. Throws StaleSessionError when it is not.
   */
  save(channel: string, chatId: string, state: SessionState): Promise<void>;
}

/**
 * A session save refused because the stored state moved on since it was read: another instance
 * answered the same chat meanwhile. The engine answers the message again from a fresh load.
 */
export class StaleSessionError extends Error {
  readonly code = 'session.stale';
  constructor(
    readonly channel: string,
    readonly chatId: string,
    readonly expectedVersion: number,
  ) {
    super(`session ${channel}/${chatId} moved on from version ${expectedVersion}`);
    this.name = 'StaleSessionError';
  }
}

export interface MemberService {
  findActiveByPhone(phone: string): Promise<MemberRef[]>;
  /** Whether this phone is on file only for members who left (or died): to say so, not to show data. */
  onlyInactiveByPhone(phone: string): Promise<boolean>;
  findById(memberId: number): Promise<MemberRef | null>;
  /**
   * Try an activation code for a member number. Returns the member on success. Every failure
   * looks the same to the caller, whether or not the member number exists.
   */
  redeemActivationCode(memberNumber: string, code: string, at: Date, koperasiId?: number): Promise<MemberRef | null>;
  /**
   * The cooperatives where the member a typed member number names has a code waiting. When
   * there are several, the member says which before typing the code: a guess then counts against
   * one cooperative's code only, so accounts guessing at "004" cannot use up everyone's tries.
   */
  pendingCodeCooperatives(memberNumber: string, at: Date): Promise<{ koperasiId: number; koperasiName: string; koperasiCode: string }[]>;
  setAnnouncementOptOut(memberId: number, optOut: boolean): Promise<void>;
  /** Opt out of (or back into) one topic of unsolicited messages: reminders or invitations. */
  setTopicOptOut(memberId: number, topic: 'reminders' | 'invitations', optOut: boolean): Promise<void>;
  /** Installment reminders are sent only to members who asked for them. */
  setInstallmentReminders(memberId: number, on: boolean): Promise<void>;
}

export interface LedgerService {
  savingsSummary(memberId: number, recentLimit: number): Promise<SavingsSummary>;
  activeLoans(memberId: number): Promise<LoanView[]>;
}

/** The cooperative's own figures and a member's own SHU: what a member, an owner, may see. */
export interface FiguresService {
  /** The cooperative's last `limit` book years' figures, newest first. */
  latestReports(koperasiId: number, limit: number): Promise<AnnualReportView[]>;
  /**
   * The last book year the cooperative has figures or an SHU list for (null: nothing imported
   * yet), and this member's SHU for that year (null: none recorded for them).
   */
  memberShu(member: Pick<MemberRef, 'id' | 'koperasiId'>): Promise<{ bookYear: number | null; shu: MemberShuView | null }>;
}

export interface MeetingService {
  /** The next RAT (or the latest one, when none is upcoming) for a member's cooperative. */
  currentRat(member: MemberRef, now: Date): Promise<MeetingView | null>;
  confirmAttendance(meetingId: number, memberId: number, attending: boolean, channel: string): Promise<void>;
  upcomingEventsForMembers(member: MemberRef, now: Date): Promise<EventView[]>;
}

/** REPORT: the RAT report (laporan pertanggungjawaban); INVITATION: the invitation (undangan RAT). */
export type RatDocumentKind = 'REPORT' | 'INVITATION';

export interface RatDocumentView {
  id: number;
  kind: RatDocumentKind;
  fileName: string;
  mimeType: string;
  size: number;
  token: string;
  /** The RAT it is attached to. */
  meeting: { bookYear: number | null; startsAt: Date; place: string };
}

export interface DocumentService {
  /**
   * The RAT document of this kind for the member's cooperative (see ratDocumentFor in
   * src/domain/rat-documents.ts), and the cooperative's current RAT, to say its date when there
   * is no document.
   */
  ratDocument(member: MemberRef, kind: RatDocumentKind, now: Date): Promise<{ document: RatDocumentView | null; current: { bookYear: number | null; startsAt: Date; place: string } | null }>;
  /** A document's bytes, for a channel sending a reply that carries it (Reply.document). */
  content(id: number): Promise<{ fileName: string; mimeType: string; bytes: Buffer } | null>;
}

export interface ComplaintView {
  ticket: string;
  status: string;
  createdAt: Date;
}

export interface FeedbackService {
  fileComplaint(member: MemberRef, channel: string, text: string): Promise<{ ticket: string }>;
  /** This member's latest complaints, newest first. */
  complaintsOf(memberId: number, limit: number): Promise<ComplaintView[]>;
  rate(member: MemberRef, channel: string, score: number): Promise<void>;
}

export interface AuditService {
  record(entry: { actor: string; action: string; koperasiId?: number | null; detail?: Record<string, unknown> }): Promise<void>;
}

/** What every turn reads before anything else: who sent the message, and where the chat stands. */
export interface TurnStart {
  identity: Identity;
  session: SessionState | null;
}

export interface Services {
  /**
   * The sender's identity (as identities.resolve gives it) and the chat's session (as
   * sessions.load), read together: in one statement where the store can (on PostgreSQL one
   * round trip and one server wake-up, where two reads at once take two of each).
   */
  beginTurn(channel: string, externalId: string, chatId: string, verifiedPhone: string | undefined): Promise<TurnStart>;
  identities: IdentityStore;
  sessions: SessionStore;
  members: MemberService;
  ledger: LedgerService;
  figures: FiguresService;
  meetings: MeetingService;
  feedback: FeedbackService;
  audit: AuditService;
  documents: DocumentService;
}
