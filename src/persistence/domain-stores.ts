/**
 * The domain's store ports (src/domain/ports.ts) on Prisma: the same code on SQLite and on
 * PostgreSQL (both clients share the Db type). Where a rule must hold across instances the
 * method says how:
 *
 * - a bimtek seat: the event's row is locked first (a write to it, inside the transaction), so
 *   answers to one event are decided one after another, each counting the seats the previous
 *   one took. Under PostgreSQL's READ COMMITTED a count in one statement would not see another
 *   transaction's acceptance (twelve answers for five seats could take six); SQLite has one
 *   writer, and the lock makes this transaction that writer before it counts.
 * - a job's occurrence: one JobRun row per (job, occurrence), inserted by whichever instance
 *   gets there first (the primary key refuses the others).
 */
import { hashActivationCode } from './activation-code-key.ts';
import { retryWhileBusy } from './busy.ts';
import type { Db } from './database.ts';
import type {
  ActivationCodeStore,
  AuditStore,
  BimtekStore,
  BroadcastStore,
  DomainStores,
  EventRecord,
  InvitationRecord,
  InvitationStatus,
  JobRunStore,
  KoperasiStore,
  LoanStore,
  MeetingDocumentKind,
  MeetingDocumentRecord,
  MeetingDocumentStore,
  MeetingRecord,
  MeetingStore,
  MemberDirectory,
  OfficerStore,
  OutboxPort,
  ReportStore,
} from '../domain/ports.ts';

const koperasiSelect = { id: true, code: true, name: true, type: true, district: true, timezone: true, quorumPercent: true, bookYearEnd: true } as const;

/** A JobRun whose claim has not been finished yet (queued is set when it is). */
const CLAIMED = -1;

function toInvitation(row: { id: number; eventId: number; officerId: number; status: string; invitedAt: Date; respondedAt: Date | null }): InvitationRecord {
  return { ...row, status: row.status as InvitationStatus };
}

export function createKoperasiStore(db: Db): KoperasiStore {
  return {
    byCode: (code) => db.koperasi.findUnique({ where: { code }, select: koperasiSelect }),
    byId: (id) => db.koperasi.findUnique({ where: { id }, select: koperasiSelect }),
    all: () => db.koperasi.findMany({ select: koperasiSelect, orderBy: { id: 'asc' } }),
    async districts() {
      const rows = await db.koperasi.findMany({ where: { district: { not: null } }, select: { district: true }, distinct: ['district'] });
      return rows.map((r) => r.district!).filter((d) => d !== '');
    },
    async ratHeldYears(koperasiId) {
      return (await db.ratHeld.findMany({ where: { koperasiId }, select: { bookYear: true } })).map((r) => r.bookYear);
    },
  };
}

export function createOfficerStore(db: Db): OfficerStore {
  return {
    all: () => db.officer.findMany({ include: { koperasi: { select: koperasiSelect } }, orderBy: { id: 'asc' } }),
    ofKoperasi: (koperasiId) => db.officer.findMany({ where: { koperasiId }, include: { koperasi: { select: koperasiSelect } }, orderBy: { id: 'asc' } }),
  };
}

export function createMemberDirectory(db: Db): MemberDirectory {
  return {
    countActive: (koperasiId) => db.member.count({ where: { koperasiId, status: 'AKTIF' } }),
    async activeIds(koperasiId) {
      return (await db.member.findMany({ where: { koperasiId, status: 'AKTIF' }, select: { id: true }, orderBy: { id: 'asc' } })).map((m) => m.id);
    },
    byNumber: (koperasiCode, memberNumber) =>
      db.member.findFirst({ where: { memberNumber, koperasi: { code: koperasiCode } }, select: { id: true, name: true, status: true, koperasiId: true } }),
  };
}

const meetingSelect = { id: true, koperasiId: true, key: true, kind: true, bookYear: true, startsAt: true, place: true, agenda: true, heldAt: true } as const;

export function createMeetingStore(db: Db): MeetingStore {
  return {
    byId: (id) => db.meeting.findUnique({ where: { id }, select: meetingSelect }),
    nextRat: (koperasiId, after, options = {}) =>
      db.meeting.findFirst({
        where: { koperasiId, kind: 'RAT', startsAt: { gt: after }, ...(options.notHeld ? { heldAt: null } : {}) },
        orderBy: { startsAt: 'asc' },
        select: meetingSelect,
      }),
    latestRat: (koperasiId) => db.meeting.findFirst({ where: { koperasiId, kind: 'RAT' }, orderBy: { startsAt: 'desc' }, select: meetingSelect }),
    comingRats: (after) => db.meeting.findMany({ where: { kind: 'RAT', heldAt: null, startsAt: { gt: after } }, orderBy: { id: 'asc' }, select: meetingSelect }),
    async ratHeld(koperasiId, bookYear) {
      const [listed, held] = await Promise.all([
        db.ratHeld.count({ where: { koperasiId, bookYear } }),
        db.meeting.count({ where: { koperasiId, kind: 'RAT', bookYear, heldAt: { not: null } } }),
      ]);
      return listed + held > 0;
    },
    async answers(meetingId) {
      const [yes, no] = await Promise.all([
        db.meetingAttendance.count({ where: { meetingId, attending: true, member: { status: 'AKTIF' } } }),
        db.meetingAttendance.count({ where: { meetingId, attending: false, member: { status: 'AKTIF' } } }),
      ]);
      return { yes, no };
    },
    async move(id, startsAt) {
      await db.meeting.update({ where: { id }, data: { startsAt } });
    },
    ratOf: (koperasiId, bookYear) => db.meeting.findUnique({ where: { koperasiId_key: { koperasiId, key: `RAT:${bookYear}` } }, select: meetingSelect }),
    async upsertRat({ koperasiId, bookYear, startsAt, place, agenda }) {
      const key = `RAT:${bookYear}`;
      return db.meeting.upsert({
        where: { koperasiId_key: { koperasiId, key } },
        create: { koperasiId, key, kind: 'RAT', bookYear, startsAt, place, agenda },
        update: { startsAt, place, heldAt: null },
        select: meetingSelect,
      }) as Promise<MeetingRecord>;
    },
  };
}

/** Everything of a document but its bytes: a member's question reads this, the send reads the bytes. */
const documentSelect = { id: true, meetingId: true, kind: true, fileName: true, mimeType: true, size: true, sha256: true, token: true, attachedBy: true, attachedAt: true } as const;

function toDocument(row: Omit<MeetingDocumentRecord, 'kind'> & { kind: string }): MeetingDocumentRecord {
  return { ...row, kind: row.kind as MeetingDocumentKind };
}

export function createMeetingDocumentStore(db: Db): MeetingDocumentStore {
  return {
    async of(meetingId, kind) {
      const row = await db.meetingDocument.findUnique({ where: { meetingId_kind: { meetingId, kind } }, select: documentSelect });
      return row ? toDocument(row) : null;
    },
    async latestOf(koperasiId, kind, before) {
      const row = await db.meetingDocument.findFirst({
        where: { kind, meeting: { koperasiId, kind: 'RAT', ...(before ? { startsAt: { lt: before } } : {}) } },
        orderBy: { meeting: { startsAt: 'desc' } },
        select: { ...documentSelect, meeting: { select: meetingSelect } },
      });
      if (!row) return null;
      const { meeting, ...document } = row;
      return { document: toDocument(document), meeting };
    },
    async put({ content, audit, ...fields }) {
      const data = { ...fields, size: content.length, content: Uint8Array.from(content) };
      const [row] = await db.$transaction([
        db.meetingDocument.upsert({
          where: { meetingId_kind: { meetingId: fields.meetingId, kind: fields.kind } },
          create: data,
          update: data,
          select: documentSelect,
        }),
        db.auditLog.create({ data: { ...audit, at: fields.attachedAt } }),
      ]);
      return toDocument(row);
    },
    async content(by) {
      const row = await db.meetingDocument.findUnique({ where: 'id' in by ? { id: by.id } : { token: by.token }, select: { ...documentSelect, content: true } });
      if (!row) return null;
      const { content, ...document } = row;
      return { document: toDocument(document), bytes: Buffer.from(content) };
    },
  };
}

export function createBimtekStore(db: Db): BimtekStore {
  /** Lock the event's row for the rest of the transaction (see the file's comment). */
  const lockEvent = (tx: Pick<Db, '$executeRaw'>, eventId: number) => tx.$executeRaw`UPDATE "Event" SET "capacity" = "capacity" WHERE "id" = ${eventId}`;
  const seatsTaken = (tx: Pick<Db, 'eventInvitation'>, eventId: number) => tx.eventInvitation.count({ where: { eventId, status: 'accepted' } });
  /** Inside a transaction holding the event's lock: free seats go to the waiting list, first come first. */
  const fill = async (tx: Pick<Db, 'event' | 'eventInvitation'>, eventId: number): Promise<number[]> => {
    const [event, taken] = await Promise.all([tx.event.findUnique({ where: { id: eventId }, select: { capacity: true } }), seatsTaken(tx, eventId)]);
    const free = Math.max(0, (event?.capacity ?? 0) - taken);
    if (free === 0) return [];
    const next = await tx.eventInvitation.findMany({ where: { eventId, status: 'waitlisted' }, orderBy: [{ respondedAt: 'asc' }, { id: 'asc' }], take: free });
    if (next.length === 0) return [];
    await tx.eventInvitation.updateMany({ where: { id: { in: next.map((n) => n.id) } }, data: { status: 'accepted' } });
    return next.map((n) => n.officerId);
  };
  return {
    event: (id) => db.event.findUnique({ where: { id } }) as Promise<EventRecord | null>,
    boardEvents: (after, limit) => db.event.findMany({ where: { forMembers: false, startsAt: { gt: after } }, orderBy: [{ startsAt: 'asc' }, { id: 'asc' }], ...(limit ? { take: limit } : {}) }),
    async invitation(id) {
      const row = await db.eventInvitation.findUnique({ where: { id } });
      return row ? toInvitation(row) : null;
    },
    async invitationsOf(eventId) {
      return (await db.eventInvitation.findMany({ where: { eventId }, orderBy: [{ respondedAt: 'asc' }, { id: 'asc' }] })).map(toInvitation);
    },
    async invitationsFor(officerIds, statuses, limit) {
      const rows = await db.eventInvitation.findMany({
        where: { officerId: { in: [...officerIds] }, status: { in: [...statuses] } },
        orderBy: [{ invitedAt: 'desc' }, { id: 'desc' }],
        take: limit,
      });
      return rows.map(toInvitation);
    },
    async invite(eventId, officerIds, at) {
      for (const officerId of officerIds) {
        await db.$executeRaw`
          INSERT INTO "EventInvitation" ("eventId", "officerId", "status", "invitedAt") VALUES (${eventId}, ${officerId}, 'invited', ${at})
          ON CONFLICT ("eventId", "officerId") DO NOTHING`;
      }
    },
    accept(invitationId, at) {
      return retryWhileBusy(() =>
        db.$transaction(async (tx) => {
          const invitation = await tx.eventInvitation.findUniqueOrThrow({ where: { id: invitationId }, select: { eventId: true } });
          await lockEvent(tx, invitation.eventId);
          const [row, event, taken] = await Promise.all([
            tx.eventInvitation.findUniqueOrThrow({ where: { id: invitationId } }),
            tx.event.findUniqueOrThrow({ where: { id: invitation.eventId }, select: { capacity: true } }),
            seatsTaken(tx, invitation.eventId),
          ]);
          if (row.status !== 'invited' && row.status !== 'declined') return { status: row.status as InvitationStatus, ahead: null };
          if (taken < event.capacity) {
            await tx.eventInvitation.update({ where: { id: invitationId }, data: { status: 'accepted', respondedAt: at } });
            return { status: 'accepted' as const, ahead: null };
          }
          const ahead = await tx.eventInvitation.count({ where: { eventId: invitation.eventId, status: 'waitlisted' } });
          await tx.eventInvitation.update({ where: { id: invitationId }, data: { status: 'waitlisted', respondedAt: at } });
          return { status: 'waitlisted' as const, ahead };
        }),
      );
    },
    decline(invitationId, at) {
      return retryWhileBusy(() =>
        db.$transaction(async (tx) => {
          const { eventId } = await tx.eventInvitation.findUniqueOrThrow({ where: { id: invitationId }, select: { eventId: true } });
          await lockEvent(tx, eventId);
          await tx.eventInvitation.update({ where: { id: invitationId }, data: { status: 'declined', respondedAt: at } });
          return fill(tx, eventId);
        }),
      );
    },
    fillSeats(eventId) {
      return retryWhileBusy(() =>
        db.$transaction(async (tx) => {
          await lockEvent(tx, eventId);
          return fill(tx, eventId);
        }),
      );
    },
    waitlistAhead(invitation) {
      const at = invitation.respondedAt ?? invitation.invitedAt;
      return db.eventInvitation.count({
        where: { eventId: invitation.eventId, status: 'waitlisted', OR: [{ respondedAt: { lt: at } }, { respondedAt: at, id: { lt: invitation.id } }] },
      });
    },
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'P2002';
}

export function createJobRunStore(db: Db): JobRunStore {
  return {
    async claim(job, occurrence, at, staleBefore) {
      try {
        await db.jobRun.create({ data: { job, occurrence, ranAt: at, queued: CLAIMED } });
        return true;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      // Taken: by a run that finished (nothing to do), one under way, or one that died before
      // finishing, whose claim is taken over once stale (one statement: one taker).
      const taken = await db.jobRun.updateMany({ where: { job, occurrence, queued: CLAIMED, ranAt: { lt: staleBefore } }, data: { ranAt: at } });
      return taken.count === 1;
    },
    async finish(job, occurrence, queued) {
      await db.jobRun.update({ where: { job_occurrence: { job, occurrence } }, data: { queued } });
    },
  };
}

export function createLoanStore(db: Db): LoanStore {
  return {
    async remindable() {
      const loans = await db.loan.findMany({
        where: { nextDueOn: { not: null }, outstanding: { gt: 0 }, member: { remindInstallments: true, status: 'AKTIF' } },
        select: { id: true, koperasiId: true, memberId: true, loanNumber: true, installment: true, nextDueOn: true, member: { select: { koperasi: { select: { name: true, timezone: true } } } } },
        orderBy: { id: 'asc' },
      });
      return loans.map((l) => ({
        id: l.id,
        koperasiId: l.koperasiId,
        memberId: l.memberId,
        loanNumber: l.loanNumber,
        installment: l.installment,
        nextDueOn: l.nextDueOn!,
        koperasiName: l.member.koperasi.name,
        timezone: l.member.koperasi.timezone,
      }));
    },
  };
}

export function createActivationCodeStore(db: Db): ActivationCodeStore {
  return {
    async issue({ memberId, code, expiresAt, issuedBy, now, audit }) {
      await db.$transaction([
        db.activationCode.updateMany({ where: { memberId, usedAt: null, expiresAt: { gt: now } }, data: { expiresAt: now } }),
        db.channelIdentity.updateMany({ where: { memberId, verifiedBy: 'code' }, data: { memberId: null, verifiedBy: null, verifiedAt: null } }),
        db.activationCode.create({ data: { memberId, codeHash: hashActivationCode(db, code), expiresAt, issuedBy } }),
        db.auditLog.create({ data: { ...audit, at: now } }),
      ]);
    },
  };
}

export function createBroadcastStore(db: Db): BroadcastStore {
  return {
    async record(input) {
      return (await db.broadcast.create({ data: input, select: { id: true } })).id;
    },
  };
}

/** The audit rows' store: rows come built and masked from domain/audit.ts. */
export function createAuditStore(db: Db): AuditStore {
  return {
    async write(row, at) {
      await db.auditLog.create({ data: { ...row, at } });
    },
  };
}

export function createReportStore(db: Db): ReportStore {
  return {
    async annualReports(filter) {
      const rows = await db.annualReport.findMany({
        where: {
          ...(filter.bookYear === undefined ? {} : { bookYear: filter.bookYear }),
          ...(filter.districts === undefined ? {} : { koperasi: { district: { in: [...filter.districts] } } }),
        },
        orderBy: { id: 'asc' },
        select: {
          bookYear: true, memberCount: true, assets: true, ownCapital: true, memberSavings: true, loansOutstanding: true, businessVolume: true,
          revenue: true, costs: true, shu: true, nplBasisPoints: true, ratDate: true, importedAt: true,
          koperasi: { select: { code: true, name: true, type: true, district: true } },
        },
      });
      return rows;
    },
  };
}

export function createDomainStores(db: Db, outbox: OutboxPort): DomainStores {
  return {
    koperasi: createKoperasiStore(db),
    officers: createOfficerStore(db),
    members: createMemberDirectory(db),
    meetings: createMeetingStore(db),
    documents: createMeetingDocumentStore(db),
    bimtek: createBimtekStore(db),
    jobRuns: createJobRunStore(db),
    loans: createLoanStore(db),
    activationCodes: createActivationCodeStore(db),
    broadcasts: createBroadcastStore(db),
    reports: createReportStore(db),
    audit: createAuditStore(db),
    outbox,
  };
}

