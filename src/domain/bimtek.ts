/**
 * Bimtek (training) invitations for boards: who is invited (the event's audience by
 * cooperative type, district and role), their "ya"/"tidak", the capacity and the waiting list.
 *
 * Seats: an acceptance becomes "accepted" only while fewer than `capacity` are accepted, else
 * "waitlisted"; a decline by someone accepted moves the first on the waiting list up (who is
 * then told). The store's accept, decline and fillSeats decide seats atomically against every
 * other answer to the event, on SQLite and on PostgreSQL with several instances (BimtekStore).
 */
import { addDays, formatDateTime, localDate, zonedTimeToUtc } from '../core/format.ts';
import type { Language } from '../core/format.ts';
import type { TextKey } from '../core/texts.ts';
import { recordAudit } from './audit.ts';
import { describeDaysAway } from './days-away.ts';
import { isDinas, onePerPhone } from './officers.ts';
import type { Domain, EventRecord, InvitationRecord, InvitationStatus, OfficerRecord } from './ports.ts';

/** Bimtek dates are read in the Dinas's zone. */
const BIMTEK_ZONE = 'Asia/Jakarta';

const csv = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim().toUpperCase())
    .filter((v) => v !== '');

/**
 * Whether a cooperative is in an event's audience: of a type and in a district the event names
 * (an empty list names every one). Boards' invitations and members' event lists read it.
 */
export function inAudience(
  event: Pick<EventRecord, 'koperasiTypes' | 'districts'>,
  koperasi: { type: string; district: string | null } | null,
): boolean {
  const types = csv(event.koperasiTypes);
  const districts = csv(event.districts);
  return (
    (types.length === 0 || types.includes((koperasi?.type ?? '').toUpperCase())) &&
    (districts.length === 0 || districts.includes((koperasi?.district ?? '').toUpperCase()))
  );
}

/** How many upcoming events a member is shown, and how many of the next ones are looked through for them. */
export const MEMBER_EVENTS_SHOWN = 5;
export const MEMBER_EVENTS_READ = 20;

/** Of the next events open to members (soonest first, MEMBER_EVENTS_READ of them), those for this member's cooperative. */
export function eventsForMembersOf<E extends Pick<EventRecord, 'koperasiTypes' | 'districts'>>(
  events: readonly E[],
  koperasi: { type: string; district: string | null } | null,
): E[] {
  return events.filter((e) => inAudience(e, koperasi)).slice(0, MEMBER_EVENTS_SHOWN);
}

/** Whether an officer is in an event's audience (a board of a matching cooperative, in a matching role). */
export function invitedTo(event: Pick<EventRecord, 'koperasiTypes' | 'districts' | 'roles'>, officer: OfficerRecord): boolean {
  const roles = csv(event.roles);
  return officer.koperasi !== null && (roles.length === 0 || roles.includes(officer.role)) && inAudience(event, officer.koperasi);
}

/**
 * The invitation an answer from these officers is for: a bare "ya"/"tidak" answers one still
 * waiting for an answer; "bimtek tidak" (`aboutBimtek`) also changes an answer already given (a
 * seat freed moves the waiting list up). Only events still to come; null when there is none.
 */
export async function invitationToAnswer(
  domain: Pick<Domain, 'bimtek'>,
  officerIds: readonly number[],
  aboutBimtek: boolean,
  now: Date,
): Promise<{ invitation: InvitationRecord; event: EventRecord } | null> {
  if (officerIds.length === 0) return null;
  const statuses: InvitationStatus[] = aboutBimtek ? ['invited', 'accepted', 'waitlisted', 'declined'] : ['invited'];
  const candidates = await domain.bimtek.invitationsFor([...officerIds], statuses, 20);
  const events = new Map<number, EventRecord>();
  for (const id of new Set(candidates.map((c) => c.eventId))) {
    const event = await domain.bimtek.event(id);
    if (event && event.startsAt > now) events.set(id, event);
  }
  const invitation = candidates.find((c) => events.has(c.eventId) && c.status === 'invited') ?? candidates.find((c) => events.has(c.eventId));
  return invitation ? { invitation, event: events.get(invitation.eventId)! } : null;
}

/**
 * Answer the most recent invitation still waiting for one of these officers. Returns the reply
 * text, or null when no invitation is waiting (the message is then not about a bimtek).
 */
export async function respondToInvitation(
  domain: Domain,
  options: {
    officerIds: number[];
    attending: boolean;
    now: Date;
    language: Language;
    channel: string;
    aboutBimtek: boolean;
    /** The channel identity that answered and how its phone was proven, for the audit. */
    via?: Record<string, unknown>;
  },
): Promise<string | null> {
  const found = await invitationToAnswer(domain, options.officerIds, options.aboutBimtek, options.now);
  if (!found) return null;
  const { invitation, event } = found;
  const t = (key: TextKey, vars: Record<string, string> = {}) => domain.texts.text(options.language, key, vars, options.channel);
  const at = options.now;
  const vars = { title: event.title, when: formatDateTime(event.startsAt, BIMTEK_ZONE, options.language), place: event.place };
  let status = invitation.status;
  let ahead: number | null = null;
  if (options.attending) {
    if (status === 'invited' || status === 'declined') ({ status, ahead } = await domain.bimtek.accept(invitation.id, at));
  } else if (status !== 'declined') {
    await declineInvitation(domain, invitation.id, at);
    status = 'declined';
  }
  if (status !== invitation.status) {
    await recordAudit(domain.audit, { actor: `officer:${invitation.officerId}`, action: 'bimtek.rsvp', detail: { eventId: event.id, from: invitation.status, to: status, ...(options.via ? { via: options.via } : {}) } }, at);
  }
  if (status === 'accepted') return t('bimtek.accepted', vars);
  if (status === 'waitlisted') {
    // Asked again while waiting: the place now (those ahead may have moved up meanwhile).
    ahead ??= await domain.bimtek.waitlistAhead((await domain.bimtek.invitation(invitation.id)) ?? invitation);
    return t('bimtek.waitlisted', { ...vars, position: String(ahead + 1) });
  }
  return t('bimtek.declined', vars);
}

/**
 * What the officers moved up from the waiting list are told, worded before the seats change:
 * a text that cannot be written stops the change instead of leaving them untold.
 */
async function promotedNotice(domain: Domain, eventId: number): Promise<string | null> {
  const event = await domain.bimtek.event(eventId);
  if (!event) return null;
  return domain.texts.requireText('id', 'bimtek.promoted', { title: event.title, when: formatDateTime(event.startsAt, BIMTEK_ZONE), place: event.place });
}

/** Tell the officers moved up from the waiting list that they have a seat. */
async function tellPromoted(domain: Domain, eventId: number, officerIds: readonly number[], text: string | null, now: Date): Promise<number> {
  if (officerIds.length === 0) return 0;
  if (text === null) throw new Error(`bimtek event ${eventId} has seats but no row`);
  await domain.outbox.queueForOfficers(
    officerIds.map((id) => ({ id, koperasiId: null })),
    // Keyed by the moment: the same officer can be moved up again after declining and rejoining.
    { key: `bimtek_promoted:e${eventId}@${now.getTime()}`, purpose: 'bimtek_promoted', topic: 'invitations', text },
    now,
  );
  return officerIds.length;
}

/** Capacity grew: the first on the waiting list get the free seats and are told. */
export async function promoteFromWaitlist(domain: Domain, eventId: number, now: Date): Promise<number> {
  const text = await promotedNotice(domain, eventId);
  return tellPromoted(domain, eventId, await domain.bimtek.fillSeats(eventId), text, now);
}

/** Decline (or change an acceptance to a decline) for one officer; a seat freed goes to the first waiting, who is told. */
export async function declineInvitation(domain: Domain, invitationId: number, now: Date): Promise<void> {
  const invitation = await domain.bimtek.invitation(invitationId);
  if (!invitation) return;
  const text = await promotedNotice(domain, invitation.eventId);
  await tellPromoted(domain, invitation.eventId, await domain.bimtek.decline(invitationId, now), text, now);
}

/** Invitations for boards' bimtek events that are coming: every matching officer, once. */
export async function inviteToBimtek(domain: Domain, now: Date): Promise<{ occurrences: number; queued: number }> {
  const result = { occurrences: 0, queued: 0 };
  const events = await domain.bimtek.boardEvents(now);
  const officers = events.length > 0 ? await domain.officers.all() : [];
  for (const event of events) {
    const invited = onePerPhone(officers.filter((o) => o.koperasiId !== null && invitedTo(event, o)));
    if (invited.length === 0) continue;
    // Worded first: an invitation that cannot be written is not recorded as sent.
    const text = domain.texts.requireText('id', 'bimtek.invitation', {
      title: event.title,
      topic: event.topic,
      when: formatDateTime(event.startsAt, BIMTEK_ZONE),
      place: event.place,
      capacity: String(event.capacity),
      organiser: event.organiser,
    });
    result.occurrences++;
    await domain.bimtek.invite(event.id, invited.map((o) => o.id), now);
    result.queued += await domain.outbox.queueForOfficers(invited, { key: `bimtek_invite:e${event.id}`, purpose: 'bimtek_invite', topic: 'invitations', text }, now);
  }
  return result;
}

/** The day before a bimtek at 08.00: when its reminder to those who accepted falls due. */
export function bimtekReminderDue(event: Pick<EventRecord, 'startsAt'>): { day: string; at: Date } {
  const day = localDate(event.startsAt, BIMTEK_ZONE);
  return { day, at: zonedTimeToUtc(addDays(day, -1), 8, 0, BIMTEK_ZONE) };
}

/** A reminder to those who accepted a bimtek: how many were queued, or null when no one accepted. */
export async function remindBimtekParticipants(domain: Domain, event: EventRecord, now: Date): Promise<number | null> {
  const accepted = (await domain.bimtek.invitationsOf(event.id)).filter((i) => i.status === 'accepted');
  if (accepted.length === 0) return null;
  const { day } = bimtekReminderDue(event);
  // "besok" only when it is: an event set for today (or a reminder sent late) says "hari ini".
  const away = describeDaysAway(domain.texts, now, day, BIMTEK_ZONE);
  const text = domain.texts.requireText('id', 'bimtek.reminder', { title: event.title, away, when: formatDateTime(event.startsAt, BIMTEK_ZONE), place: event.place });
  return domain.outbox.queueForOfficers(
    accepted.map((i) => ({ id: i.officerId, koperasiId: null })),
    { key: `bimtek_reminder:e${event.id}@${day}`, purpose: 'bimtek_reminder', topic: 'invitations', text },
    now,
  );
}

export interface BimtekParticipants {
  event: EventRecord;
  counts: Record<InvitationStatus, number>;
  accepted: { name: string; koperasiName: string | null }[];
  waitlisted: { name: string }[];
}

/** The coming bimtek events (five) with who accepted and who waits, for a Dinas officer (audited). */
export async function listBimtekParticipants(domain: Domain, viewer: OfficerRecord | undefined, via: Record<string, unknown> | undefined, now: Date): Promise<BimtekParticipants[]> {
  const events = await domain.bimtek.boardEvents(now, 5);
  if (events.length === 0) return [];
  const officers = new Map((await domain.officers.all()).map((o) => [o.id, o]));
  const lists: BimtekParticipants[] = [];
  for (const event of events) {
    const invitations = await domain.bimtek.invitationsOf(event.id);
    const counts: Record<InvitationStatus, number> = { invited: 0, accepted: 0, waitlisted: 0, declined: 0 };
    for (const i of invitations) counts[i.status]++;
    const person = (i: InvitationRecord) => officers.get(i.officerId);
    lists.push({
      event,
      counts,
      accepted: invitations.filter((i) => i.status === 'accepted').map((i) => ({ name: person(i)?.name ?? '?', koperasiName: person(i)?.koperasi?.name ?? null })),
      waitlisted: invitations.filter((i) => i.status === 'waitlisted').map((i) => ({ name: person(i)?.name ?? '?' })),
    });
  }
  if (viewer && isDinas(viewer)) {
    await recordAudit(domain.audit, { actor: `officer:${viewer.id}`, action: 'bimtek.list_view', koperasiId: viewer.koperasiId, detail: { events: events.map((e) => e.id), ...(via ? { via } : {}) } }, now);
  }
  return lists;
}
