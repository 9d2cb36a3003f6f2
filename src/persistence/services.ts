/**
 * Prisma-backed implementations of the core's ports. Each method is one small query or a
 * short transaction; the core decides what to ask, these decide how.
 */
import { randomUUID } from 'node:crypto';
import { activationCodeMatches } from './activation-code-key.ts';
import type { Db } from './database.ts';
import { isUniqueViolation } from './faults.ts';
import { localParts, type Language } from '../core/format.ts';
import type {
  AnnualReportView,
  AuditService,
  FiguresService,
  DocumentService,
  FeedbackService,
  Identity,
  IdentityStore,
  LedgerService,
  LoanView,
  MeetingService,
  MeetingView,
  MemberRef,
  MemberService,
  Services,
  SessionStore,
  SessionData,
  VerificationMethod,
} from '../core/ports.ts';
import { StaleSessionError } from '../core/ports.ts';
import { recordAudit } from '../domain/audit.ts';
import { designatedMembers, lockedUntilAfter, MAX_CODE_ATTEMPTS, MAX_FAILED_ATTEMPTS } from '../domain/activation-codes.ts';
import { currentRat } from '../domain/rat.ts';
import { eventsForMembersOf, MEMBER_EVENTS_READ } from '../domain/bimtek.ts';
import { createAuditStore, createMeetingDocumentStore, createMeetingStore } from './domain-stores.ts';
import { ratDocumentContent, ratDocumentFor } from '../domain/rat-documents.ts';
import type { HotPath } from './sqlite-hot-path.ts';
import { toEventView } from './hot-path-rows.ts';
import { USABLE_MEMBER_STATUSES, zeroPaddedForms } from '../core/member-number.ts';

const USABLE_STATUSES = [...USABLE_MEMBER_STATUSES];

const memberWithKoperasi = { koperasi: { select: { code: true, name: true, timezone: true } } } as const;

type MemberRow = {
  id: number;
  koperasiId: number;
  memberNumber: string;
  name: string;
  phone: string | null;
  status: string;
  optOutAnnouncements: boolean;
  koperasi: { code: string; name: string; timezone: string };
};

function toMemberRef(row: MemberRow): MemberRef {
  return {
    id: row.id,
    koperasiId: row.koperasiId,
    koperasiCode: row.koperasi.code,
    koperasiName: row.koperasi.name,
    timezone: row.koperasi.timezone,
    memberNumber: row.memberNumber,
    name: row.name,
    phone: row.phone,
    status: row.status,
    optOutAnnouncements: row.optOutAnnouncements,
  };
}

type IdentityRow = {
  id: number;
  channel: string;
  externalId: string;
  phone: string | null;
  language: string;
  verifiedBy: string | null;
  failedAttempts: number;
  lockedUntil: Date | null;
  member: MemberRow | null;
};

function toIdentity(row: IdentityRow): Identity {
  return {
    id: row.id,
    channel: row.channel,
    externalId: row.externalId,
    phone: row.phone,
    language: row.language === 'en' ? 'en' : 'id',
    verifiedBy: (row.verifiedBy as VerificationMethod | null) ?? null,
    failedAttempts: row.failedAttempts,
    lockedUntil: row.lockedUntil,
    member: row.member ? toMemberRef(row.member) : null,
  };
}

export function createIdentityStore(db: Db): IdentityStore {
  const include = { member: { include: memberWithKoperasi } } as const;
  return {
    async resolve(channel, externalId, verifiedPhone) {
      let row = await db.channelIdentity.findUnique({ where: { channel_externalId: { channel, externalId } }, include });
      if (!row) {
        try {
          row = await db.channelIdentity.create({ data: { channel, externalId, phone: verifiedPhone ?? null }, include });
        } catch (error) {
          // Another instance met this user at the same moment and created the row: use it.
          // (Prisma's upsert is a read then an insert here, so it fails the same way.)
          if (!isUniqueViolation(error)) throw error;
          row = await db.channelIdentity.findUniqueOrThrow({ where: { channel_externalId: { channel, externalId } }, include });
        }
      } else if (verifiedPhone !== undefined && row.phone !== verifiedPhone) {
        // The channel now vouches for another phone: a phone-based verification no longer holds.
        const dropMember = row.verifiedBy === 'phone' || row.verifiedBy === 'contact';
        row = await db.channelIdentity.update({
          where: { id: row.id },
          data: dropMember ? { phone: verifiedPhone, memberId: null, verifiedBy: null, verifiedAt: null } : { phone: verifiedPhone },
          include,
        });
      }
      return toIdentity(row);
    },
    async bindMember(identity, memberId, method, at) {
      const row = await db.channelIdentity.update({
        where: { id: identity.id },
        data: { memberId, verifiedBy: method, verifiedAt: at, failedAttempts: 0, lockedUntil: null },
        include,
      });
      return toIdentity(row);
    },
    async unbind(identity) {
      await db.channelIdentity.update({ where: { id: identity.id }, data: { memberId: null, verifiedBy: null, verifiedAt: null } });
      identity.member = null;
      identity.verifiedBy = null;
    },
    async setLanguage(identity, language: Language) {
      await db.channelIdentity.update({ where: { id: identity.id }, data: { language } });
      identity.language = language;
    },
    async recordFailure(identity, at) {
      // Counted in the database (an atomic increment), not from what this message read: wrong
      // codes sent in parallel must still add up to a lock-out.
      const expired = identity.lockedUntil !== null && identity.lockedUntil <= at;
      const row = await db.channelIdentity.update({
        where: { id: identity.id },
        data: expired ? { failedAttempts: 1, lockedUntil: null } : { failedAttempts: { increment: 1 } },
        select: { failedAttempts: true },
      });
      let lockedUntil: Date | null = null;
      if (row.failedAttempts >= MAX_FAILED_ATTEMPTS) {
        lockedUntil = lockedUntilAfter(at);
        await db.channelIdentity.update({ where: { id: identity.id }, data: { failedAttempts: 0, lockedUntil } });
      }
      identity.failedAttempts = row.failedAttempts;
      identity.lockedUntil = lockedUntil;
      return { lockedUntil };
    },
  };
}

export function createSessionStore(db: Db): SessionStore {
  return {
    async load(channel, chatId) {
      const row = await db.conversationSession.findUnique({ where: { channel_chatId: { channel, chatId } } });
      if (!row) return null;
      let data: SessionData = {};
      try {
        data = JSON.parse(row.data) as SessionData;
      } catch {
        data = {};
      }
      return { node: row.node === '' ? null : row.node, data, expiresAt: row.expiresAt, version: row.version };
    },
    async save(channel, chatId, state) {
      const values = { node: state.node ?? '', data: JSON.stringify(state.data), expiresAt: state.expiresAt };
      // Compare-and-set: a first save inserts (the key refuses a second first save), a later one
      // updates only the version it read.
      if (state.version === 0) {
        try {
          await db.conversationSession.create({ data: { channel, chatId, ...values, version: 1 } });
        } catch (error) {
          if (isUniqueViolation(error)) throw new StaleSessionError(channel, chatId, 0);
          throw error;
        }
        return;
      }
      const { count } = await db.conversationSession.updateMany({
        where: { channel, chatId, version: state.version },
        data: { ...values, version: state.version + 1 },
      });
      if (count === 0) throw new StaleSessionError(channel, chatId, state.version);
    },
  };
}

export function createMemberService(db: Db): MemberService {
  /** The member a typed number names in each cooperative (designatedMembers), with its usable codes. */
  const membersWithPendingCodes = async (memberNumber: string, at: Date) => {
    const typed = memberNumber.trim();
    const members = await db.member.findMany({
      where: { memberNumber: { in: [...new Set([typed, typed.toUpperCase(), ...zeroPaddedForms(typed)])] }, status: { in: USABLE_STATUSES } },
      select: {
        id: true,
        koperasiId: true,
        memberNumber: true,
        koperasi: { select: { name: true, code: true } },
        activationCodes: { where: { usedAt: null, expiresAt: { gt: at }, attempts: { lt: MAX_CODE_ATTEMPTS } }, select: { id: true, codeHash: true } },
      },
    });
    return designatedMembers(typed, members);
  };
  return {
    async findActiveByPhone(phone) {
      const rows = await db.member.findMany({
        where: { phone, status: { in: USABLE_STATUSES } },
        include: memberWithKoperasi,
        orderBy: { id: 'asc' },
      });
      return rows.map(toMemberRef);
    },
    async onlyInactiveByPhone(phone) {
      const statuses = await db.member.findMany({ where: { phone }, select: { status: true } });
      return statuses.length > 0 && statuses.every((m) => !USABLE_STATUSES.includes(m.status));
    },
    async findById(memberId) {
      const row = await db.member.findUnique({ where: { id: memberId }, include: memberWithKoperasi });
      return row && USABLE_STATUSES.includes(row.status) ? toMemberRef(row) : null;
    },
    async pendingCodeCooperatives(memberNumber, at) {
      const members = await membersWithPendingCodes(memberNumber, at);
      return members
        .filter((m) => m.activationCodes.length > 0)
        .map((m) => ({ koperasiId: m.koperasiId, koperasiName: m.koperasi.name, koperasiCode: m.koperasi.code }))
        .sort((a, b) => a.koperasiName.localeCompare(b.koperasiName, 'id'));
    },
    async redeemActivationCode(memberNumber, code, at, koperasiId) {
      const members = await membersWithPendingCodes(memberNumber, at);
      const candidates = members
        .filter((m) => koperasiId === undefined || m.koperasiId === koperasiId)
        .flatMap((m) => m.activationCodes.map((c) => ({ ...c, memberId: m.id })));
      if (candidates.length === 0) return null;
      const match = candidates.find((c) => activationCodeMatches(db, c.codeHash, code));
      if (!match) {
        // Every guess counts against the codes it was tried on, so many phones cannot share the
        // guessing; the count stops at the cap in the same statement, so parallel guesses cannot pass it.
        await db.activationCode.updateMany({
          where: { id: { in: candidates.map((c) => c.id) }, usedAt: null, attempts: { lt: MAX_CODE_ATTEMPTS } },
          data: { attempts: { increment: 1 } },
        });
        return null;
      }
      // Claim the code atomically, counting this try: two phones racing with the same code cannot
      // both win, and a code whose tries ran out meanwhile (guesses at the same moment) is not taken.
      const claimed = await db.activationCode.updateMany({
        where: { id: match.id, usedAt: null, expiresAt: { gt: at }, attempts: { lt: MAX_CODE_ATTEMPTS } },
        data: { usedAt: at, attempts: { increment: 1 } },
      });
      if (claimed.count !== 1) return null;
      const member = await db.member.findUnique({ where: { id: match.memberId }, include: memberWithKoperasi });
      return member ? toMemberRef(member) : null;
    },
    async setTopicOptOut(memberId, topic, optOut) {
      await db.member.update({ where: { id: memberId }, data: topic === 'reminders' ? { optOutReminders: optOut } : { optOutInvitations: optOut } });
    },
    async setInstallmentReminders(memberId, on) {
      await db.member.update({ where: { id: memberId }, data: { remindInstallments: on } });
    },
    async setAnnouncementOptOut(memberId, optOut) {
      await db.member.update({ where: { id: memberId }, data: { optOutAnnouncements: optOut, optOutReminders: optOut, optOutInvitations: optOut } });
    },
  };
}

export function createLedgerService(db: Db): LedgerService {
  return {
    async savingsSummary(memberId, recentLimit) {
      const [accounts, recent] = await Promise.all([
        db.savingsAccount.findMany({ where: { memberId }, select: { kind: true, label: true, balance: true, asOf: true } }),
        db.savingsTransaction.findMany({
          where: { account: { memberId } },
          orderBy: [{ date: 'desc' }, { id: 'desc' }],
          take: recentLimit,
          select: { date: true, amount: true, description: true, account: { select: { label: true } } },
        }),
      ]);
      return {
        accounts,
        recent: recent.map((tx) => ({ date: tx.date, amount: tx.amount, description: tx.description, label: tx.account.label })),
      };
    },
    async activeLoans(memberId) {
      const loans = await db.loan.findMany({
        where: { memberId, OR: [{ outstanding: { gt: 0n } }, { arrears: { gt: 0n } }] },
        orderBy: { disbursedOn: 'asc' },
        include: { schedule: { orderBy: { number: 'asc' }, select: { number: true, dueOn: true, principal: true, interest: true } } },
      });
      return loans.map((loan): LoanView => {
        const next = loan.nextDueOn ? (loan.schedule.find((s) => s.dueOn >= loan.nextDueOn!) ?? null) : null;
        return {
          loanNumber: loan.loanNumber,
          principal: loan.principal,
          outstanding: loan.outstanding,
          installment: loan.installment,
          tenorMonths: loan.tenorMonths,
          disbursedOn: loan.disbursedOn,
          nextDueOn: loan.nextDueOn,
          arrears: loan.arrears,
          lateFee: loan.lateFee,
          next,
        };
      });
    },
  };
}

const REPORT_VIEW = {
  bookYear: true, memberCount: true, assets: true, ownCapital: true, memberSavings: true, loansOutstanding: true, businessVolume: true,
  revenue: true, costs: true, shu: true, nplBasisPoints: true, ratDate: true, importedAt: true,
} as const;

export function createFiguresService(db: Db): FiguresService {
  return {
    latestReports: (koperasiId, limit): Promise<AnnualReportView[]> =>
      db.annualReport.findMany({ where: { koperasiId }, orderBy: { bookYear: 'desc' }, take: limit, select: REPORT_VIEW }),
    async memberShu(member) {
      // The last book year is the newest the board reported anything for: its figures or its SHU list.
      const [report, list] = await Promise.all([
        db.annualReport.aggregate({ where: { koperasiId: member.koperasiId }, _max: { bookYear: true } }),
        db.memberShu.aggregate({ where: { koperasiId: member.koperasiId }, _max: { bookYear: true } }),
      ]);
      const years = [report._max.bookYear, list._max.bookYear].filter((y): y is number => y !== null);
      if (years.length === 0) return { bookYear: null, shu: null };
      const bookYear = Math.max(...years);
      const shu = await db.memberShu.findUnique({
        where: { memberId_bookYear: { memberId: member.id, bookYear } },
        select: { bookYear: true, jasaModal: true, jasaUsaha: true, total: true, paidOn: true, paidHow: true },
      });
      return { bookYear, shu };
    },
  };
}

/** RAT documents for members: which one is theirs is the domain's rule (domain/rat-documents.ts). */
export function createDocumentService(db: Db): DocumentService {
  const stores = { meetings: createMeetingStore(db), documents: createMeetingDocumentStore(db) };
  const meetingOf = (m: { bookYear: number | null; startsAt: Date; place: string }) => ({ bookYear: m.bookYear, startsAt: m.startsAt, place: m.place });
  return {
    async ratDocument(member, kind, now) {
      const found = await ratDocumentFor(stores, { koperasiId: member.koperasiId, kind, now });
      const current = found.current ? meetingOf(found.current) : null;
      if (!found.document) return { document: null, current };
      const { id, fileName, mimeType, size, token } = found.document;
      return { document: { id, kind, fileName, mimeType, size, token, meeting: meetingOf(found.of) }, current };
    },
    async content(id) {
      const found = await ratDocumentContent(stores, { id });
      return found ? { fileName: found.document.fileName, mimeType: found.document.mimeType, bytes: found.bytes } : null;
    },
  };
}

export function createMeetingService(db: Db): MeetingService {
  const meetings = createMeetingStore(db);
  return {
    async currentRat(member, now) {
      // Which RAT is current is the domain's rule (domain/rat.ts), the same the board's tally reads.
      const meeting = await currentRat({ meetings }, member.koperasiId, now);
      if (!meeting) return null;
      const answer = await db.meetingAttendance.findUnique({ where: { meetingId_memberId: { meetingId: meeting.id, memberId: member.id } }, select: { attending: true } });
      const view: MeetingView = {
        id: meeting.id,
        kind: meeting.kind,
        bookYear: meeting.bookYear,
        startsAt: meeting.startsAt,
        place: meeting.place,
        agenda: meeting.agenda.split('\n').map((s) => s.trim()).filter((s) => s !== ''),
        heldAt: meeting.heldAt,
        attending: answer?.attending ?? null,
      };
      return view;
    },
    async confirmAttendance(meetingId, memberId, attending, channel) {
      await db.meetingAttendance.upsert({
        where: { meetingId_memberId: { meetingId, memberId } },
        create: { meetingId, memberId, attending, channel },
        update: { attending, channel, respondedAt: new Date() },
      });
    },
    async upcomingEventsForMembers(member, now) {
      const koperasi = await db.koperasi.findUnique({ where: { id: member.koperasiId }, select: { type: true, district: true } });
      const events = await db.event.findMany({ where: { forMembers: true, startsAt: { gt: now } }, orderBy: { startsAt: 'asc' }, take: MEMBER_EVENTS_READ });
      return eventsForMembersOf(events, koperasi).map(toEventView);
    },
  };
}

export function createFeedbackService(db: Db, clock: () => Date = () => new Date()): FeedbackService {
  return {
    async fileComplaint(member, channel, text) {
      const now = clock();
      const local = localParts(now, member.timezone);
      const prefix = `ADU${String(local.year).slice(2)}${String(local.month).padStart(2, '0')}`;
      // The ticket number comes from the row id: create, then number. Not an interactive
      // transaction: on this adapter other writes of the process would run inside it.
      const row = await db.complaint.create({
        data: { ticket: `tmp-${randomUUID()}`, koperasiId: member.koperasiId, memberId: member.id, channel, text, createdAt: now },
      });
      const complaint = await db.complaint.update({ where: { id: row.id }, data: { ticket: `${prefix}-${String(row.id).padStart(5, '0')}` } });
      return { ticket: complaint.ticket };
    },
    async complaintsOf(memberId, limit) {
      return db.complaint.findMany({
        where: { memberId },
        orderBy: { id: 'desc' },
        take: limit,
        select: { ticket: true, status: true, createdAt: true },
      });
    },
    async rate(member, channel, score) {
      await db.rating.create({ data: { koperasiId: member.koperasiId, memberId: member.id, channel, score } });
    },
  };
}

export function createAuditService(db: Db): AuditService {
  const store = createAuditStore(db);
  return { record: (entry) => recordAudit(store, entry) };
}

/**
 * The services on Prisma; with a SQLite hot path, the per-message reads and a member's first
 * writes (identity, phone, link, audit, session) go through it instead (see sqlite-hot-path.ts
 * for why and by how much).
 */
export function createServices(db: Db, options: { clock?: () => Date; hotPath?: HotPath } = {}): Services {
  const identities = createIdentityStore(db);
  const members = createMemberService(db);
  const meetings = createMeetingService(db);
  const audit = createAuditService(db);
  const feedback = createFeedbackService(db, options.clock);
  const hot = options.hotPath;
  /** The rest of resolve() once the identity row is read: created on first contact, or given the phone the channel now vouches for. */
  const settleIdentity = (hot: HotPath, found: Identity | null, channel: string, externalId: string, verifiedPhone: string | undefined) => {
    if (!found) return hot.createIdentity(channel, externalId, verifiedPhone ?? null);
    if (verifiedPhone === undefined || found.phone === verifiedPhone) return found;
    return hot.recordPhone(found, verifiedPhone);
  };
  const hotIdentities: IdentityStore | undefined = hot && {
    ...identities,
    async resolve(channel, externalId, verifiedPhone) {
      return settleIdentity(hot, await hot.findIdentity(channel, externalId), channel, externalId, verifiedPhone);
    },
    bindMember: (identity, memberId, method, at) => hot.bindMember(identity, memberId, method, at),
  };
  const services: Services = {
    async beginTurn(channel, externalId, chatId, verifiedPhone) {
      // The hot path reads both in one statement, unless a caller has put other stores in.
      if (hot && services.identities === hotIdentities && services.sessions === hot.sessions) {
        const read = await hot.findIdentityAndSession(channel, externalId, chatId);
        return { identity: await settleIdentity(hot, read.identity, channel, externalId, verifiedPhone), session: read.session };
      }
      const [identity, session] = await Promise.all([services.identities.resolve(channel, externalId, verifiedPhone), services.sessions.load(channel, chatId)]);
      return { identity, session };
    },
    identities: hotIdentities ?? identities,
    sessions: hot ? hot.sessions : createSessionStore(db),
    members: hot ? { ...members, findActiveByPhone: (phone) => hot.findActiveByPhone(phone) } : members,
    ledger: hot ? hot.ledger : createLedgerService(db),
    figures: hot ? hot.figures : createFiguresService(db),
    meetings: hot
      ? { ...meetings, currentRat: (member, now) => hot.currentRat(member, now), confirmAttendance: hot.confirmAttendance, upcomingEventsForMembers: hot.upcomingEventsForMembers }
      : meetings,
    feedback: hot ? { ...feedback, complaintsOf: hot.complaintsOf } : feedback,
    audit: hot ? { record: (entry) => recordAudit({ write: hot.audit }, entry) } : audit,
    documents: createDocumentService(db),
  };
  return services;
}
