/**
 * The annual members' meeting (RAT): which one is current, the attendance tally against the
 * quorum, and setting or moving its date (members are told). The desk, the reminders and the
 * member conversation all read these, so the board sees the same figures wherever it looks.
 */
import { addMonths, formatDateTime, localDate, localParts } from '../core/format.ts';
import { queueAnnouncement } from './announcements.ts';
import { recordAudit } from './audit.ts';
import { DomainError } from './errors.ts';
import type { Domain, KoperasiRecord, MeetingRecord } from './ports.ts';

/** The next RAT, or the latest one when none is coming: what a member and the tally look at. */
export async function currentRat(domain: Pick<Domain, 'meetings'>, koperasiId: number, now: Date): Promise<MeetingRecord | null> {
  return (await domain.meetings.nextRat(koperasiId, now)) ?? (await domain.meetings.latestRat(koperasiId));
}

/** The coming RAT not yet held: the one a board can move, and the one reminders announce. */
export function plannedRat(domain: Pick<Domain, 'meetings'>, koperasiId: number, now: Date): Promise<MeetingRecord | null> {
  return domain.meetings.nextRat(koperasiId, now, { notHeld: true });
}

/** Members needed for the quorum: the cooperative's percentage of active members, rounded up. */
export function quorumOf(activeMembers: number, quorumPercent: number): number {
  return Math.ceil((activeMembers * quorumPercent) / 100);
}

export interface AttendanceTally {
  yes: number;
  no: number;
  /** Active members who have not answered. */
  unknown: number;
  active: number;
  quorumPercent: number;
  needed: number;
  met: boolean;
  /** Confirmations still missing for the quorum (0 when met). */
  short: number;
}

/**
 * The attendance answers of a meeting against the quorum. Only active members count: one who
 * said "hadir" and then left the cooperative is neither a confirmation nor a member.
 */
export async function tallyAttendance(domain: Pick<Domain, 'meetings' | 'members'>, koperasi: Pick<KoperasiRecord, 'id' | 'quorumPercent'>, meetingId: number): Promise<AttendanceTally> {
  const [active, { yes, no }] = await Promise.all([domain.members.countActive(koperasi.id), domain.meetings.answers(meetingId)]);
  const needed = quorumOf(active, koperasi.quorumPercent);
  return { yes, no, unknown: Math.max(0, active - yes - no), active, quorumPercent: koperasi.quorumPercent, needed, met: yes >= needed, short: Math.max(0, needed - yes) };
}

/**
 * The last day a RAT for this book year may be held: six months after the book year ends
 * (UU 25/1992 art. 26). An ISO date.
 */
export function ratLegalLimit(bookYear: number, bookYearEnd: string): string {
  return addMonths(`${bookYear}-${bookYearEnd}`, 6);
}

/** The book year a RAT held at this instant is for: the last one that has ended. */
export function bookYearOfRat(startsAt: Date, koperasi: Pick<KoperasiRecord, 'timezone' | 'bookYearEnd'>): number {
  const day = localDate(startsAt, koperasi.timezone);
  const year = localParts(startsAt, koperasi.timezone).year;
  return day > `${year}-${koperasi.bookYearEnd}` ? year : year - 1;
}

/** The legal limit this date would pass for the meeting's book year, or null when within it. */
export function pastLegalLimit(startsAt: Date, bookYear: number | null, koperasi: Pick<KoperasiRecord, 'timezone' | 'bookYearEnd'>): string | null {
  if (bookYear === null) return null;
  const limit = ratLegalLimit(bookYear, koperasi.bookYearEnd);
  return localDate(startsAt, koperasi.timezone) > limit ? limit : null;
}

/** Who acts, for the audit: the actor and, from a chat, the channel identity and its proof. */
export interface Actor {
  actor: string;
  via?: Record<string, unknown>;
}

function checkFuture(startsAt: Date, now: Date): void {
  if (startsAt <= now) throw new DomainError('meeting_in_past', 'Tanggal itu sudah lewat. Pilih tanggal yang akan datang.');
}

/** A board member looks at the tally (audited: it names how many answered). */
export async function viewRatTally(
  domain: Domain,
  koperasi: KoperasiRecord,
  who: Actor,
  now: Date,
): Promise<{ meeting: MeetingRecord; tally: AttendanceTally } | null> {
  const meeting = await currentRat(domain, koperasi.id, now);
  if (!meeting) return null;
  const tally = await tallyAttendance(domain, koperasi, meeting.id);
  await recordAudit(domain.audit, { actor: who.actor, action: 'rat.tally_view', koperasiId: koperasi.id, detail: { meetingId: meeting.id, ...(who.via ? { via: who.via } : {}) } }, now);
  return { meeting, tally };
}

/** The planned RAT a move would change, checked to be this cooperative's. */
export async function ratToMove(domain: Domain, koperasi: KoperasiRecord, meetingId: number): Promise<MeetingRecord> {
  const meeting = await domain.meetings.byId(meetingId);
  if (!meeting || meeting.koperasiId !== koperasi.id || meeting.kind !== 'RAT') {
    throw new DomainError('meeting_unknown', 'Jadwal RAT itu tidak ada lagi.');
  }
  return meeting;
}

/** Move a planned RAT to another time; every active member is told on the announcements path. */
export async function moveRat(
  domain: Domain,
  input: { koperasi: KoperasiRecord; meetingId: number; startsAt: Date; now: Date } & Actor,
): Promise<{ meeting: MeetingRecord; from: Date; recipients: number; pastLegalLimit: string | null }> {
  const { koperasi, startsAt, now } = input;
  checkFuture(startsAt, now);
  const meeting = await ratToMove(domain, koperasi, input.meetingId);
  const from = meeting.startsAt;
  // Worded before anything changes: a move the members cannot be told of is not made.
  const notice = domain.texts.requireText('id', 'officer.rat_moved_notice', {
    koperasi: koperasi.name,
    from: formatDateTime(from, koperasi.timezone),
    to: formatDateTime(startsAt, koperasi.timezone),
    place: meeting.place,
  });
  await domain.meetings.move(meeting.id, startsAt);
  await recordAudit(domain.audit, { actor: input.actor, action: 'rat.move', koperasiId: koperasi.id, detail: { meetingId: meeting.id, from: from.toISOString(), to: startsAt.toISOString(), ...(input.via ? { via: input.via } : {}) } }, now);
  const queued = await queueAnnouncement(domain, { koperasiCode: koperasi.code, text: notice, actor: input.actor, via: input.via, now });
  return { meeting: { ...meeting, startsAt }, from, recipients: queued.recipients, pastLegalLimit: pastLegalLimit(startsAt, meeting.bookYear, koperasi) };
}

/** A RAT for the last book year that has ended, with the usual agenda; every active member is told. */
export async function setRat(
  domain: Domain,
  input: { koperasi: KoperasiRecord; startsAt: Date; place: string; now: Date } & Actor,
): Promise<{ meeting: MeetingRecord; bookYear: number; recipients: number; pastLegalLimit: string | null }> {
  const { koperasi, startsAt, place, now } = input;
  checkFuture(startsAt, now);
  const bookYear = bookYearOfRat(startsAt, koperasi);
  // Worded before anything is stored: a RAT the members cannot be told of is not set.
  const agenda = domain.texts.requireText('id', 'officer.rat_default_agenda');
  const notice = domain.texts.requireText('id', 'officer.rat_set_notice', { koperasi: koperasi.name, book_year: String(bookYear), to: formatDateTime(startsAt, koperasi.timezone), place });
  const meeting = await domain.meetings.upsertRat({ koperasiId: koperasi.id, bookYear, startsAt, place, agenda });
  await recordAudit(domain.audit, { actor: input.actor, action: 'rat.set', koperasiId: koperasi.id, detail: { meetingId: meeting.id, startsAt: startsAt.toISOString(), place, ...(input.via ? { via: input.via } : {}) } }, now);
  const queued = await queueAnnouncement(domain, { koperasiCode: koperasi.code, text: notice, actor: input.actor, via: input.via, now });
  return { meeting, bookYear, recipients: queued.recipients, pastLegalLimit: pastLegalLimit(startsAt, bookYear, koperasi) };
}
