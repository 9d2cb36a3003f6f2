/**
 * Bimtek (training) invitations for boards: who is invited (the event's audience by
 * cooperative type, district and role), their "ya"/"tidak", the capacity and the waiting list.
 *
 * Capacity holds under concurrent answers because each decision is one SQL statement: an
 * acceptance becomes "accepted" only if fewer than `capacity` are accepted at that moment,
 * else "waitlisted"; a decline by someone accepted moves the first on the waiting list up
 * (who is then told).
 */
import type { ConversationEngine } from '../core/engine.ts';
import { addDays, formatDateTime, localDate, zonedTimeToUtc } from '../core/format.ts';
import type { Language } from '../core/format.ts';
import type { Db } from '../persistence/database.ts';
import type { OutboxStore } from '../outbox/outbox-store.ts';
import type { JobContext, JobResult } from '../jobs/run-due.ts';
import { onePerPhone } from './desk.ts';
import { describeDaysAway } from '../jobs/days-away.ts';

const csv = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim().toUpperCase())
    .filter((v) => v !== '');

/**
 * Answer the most recent invitation still waiting for one of these officers. Returns the reply
 * text, or null when no invitation is waiting (the message is then not about a bimtek).
 */
export async function respondToInvitation(
  db: Db,
  store: OutboxStore,
  engine: ConversationEngine,
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
  // A bare "ya"/"tidak" answers an invitation still waiting for an answer; "bimtek tidak" also
  // changes an answer already given (a seat freed moves the waiting list up).
  const statuses = options.aboutBimtek ? ['invited', 'accepted', 'waitlisted', 'declined'] : ['invited'];
  const candidates = await db.eventInvitation.findMany({
    where: { officerId: { in: options.officerIds }, status: { in: statuses } },
    orderBy: { invitedAt: 'desc' },
    take: 20,
  });
  const events = await db.event.findMany({ where: { id: { in: candidates.map((c) => c.eventId) }, startsAt: { gt: options.now } } });
  const byId = new Map(events.map((e) => [e.id, e]));
  const invitation = candidates.find((c) => byId.has(c.eventId) && c.status === 'invited') ?? candidates.find((c) => byId.has(c.eventId));
  if (!invitation) return null;
  const event = byId.get(invitation.eventId)!;
  const t = (key: string, vars: Record<string, string> = {}) => engine.message(options.language, key, vars, options.channel);
  const at = options.now;
  const vars = { title: event.title, when: formatDateTime(event.startsAt, 'Asia/Jakarta', options.language), place: event.place };
  if (options.attending) {
    if (invitation.status === 'invited' || invitation.status === 'declined') {
      await db.$executeRaw`
        UPDATE "EventInvitation" SET "respondedAt" = ${at},
          "status" = CASE WHEN (SELECT COUNT(*) FROM "EventInvitation" WHERE "eventId" = ${event.id} AND "status" = 'accepted') < ${event.capacity}
                          THEN 'accepted' ELSE 'waitlisted' END
        WHERE "id" = ${invitation.id} AND "status" IN ('invited', 'declined')`;
    }
  } else if (invitation.status !== 'declined') {
    await declineInvitation(db, store, engine, invitation.id, at);
  }
  const after = await db.eventInvitation.findUniqueOrThrow({ where: { id: invitation.id } });
  if (after.status !== invitation.status) {
    await db.auditLog.create({
      data: { actor: `officer:${invitation.officerId}`, action: 'bimtek.rsvp', detail: JSON.stringify({ eventId: event.id, from: invitation.status, to: after.status, ...(options.via ? { via: options.via } : {}) }) },
    });
  }
  if (after.status === 'accepted') return t('bimtek.accepted', vars);
  if (after.status === 'waitlisted') {
    const ahead = await db.eventInvitation.count({
      where: { eventId: event.id, status: 'waitlisted', OR: [{ respondedAt: { lt: after.respondedAt ?? at } }, { respondedAt: after.respondedAt ?? at, id: { lt: after.id } }] },
    });
    return t('bimtek.waitlisted', { ...vars, position: String(ahead + 1) });
  }
  return t('bimtek.declined', vars);
}

/**
 * Someone accepted declined after all (or capacity grew): move the first on the waiting list
 * up, tell them, and repeat while seats are free.
 */
export async function promoteFromWaitlist(db: Db, store: OutboxStore, engine: ConversationEngine, eventId: number, now: Date): Promise<number> {
  let promoted = 0;
  for (;;) {
    const rows = await db.$queryRaw<{ id: number; officerId: number }[]>`
      UPDATE "EventInvitation" SET "status" = 'accepted'
      WHERE "id" = (SELECT "id" FROM "EventInvitation" WHERE "eventId" = ${eventId} AND "status" = 'waitlisted' ORDER BY "respondedAt", "id" LIMIT 1)
        AND (SELECT COUNT(*) FROM "EventInvitation" WHERE "eventId" = ${eventId} AND "status" = 'accepted') < (SELECT "capacity" FROM "Event" WHERE "id" = ${eventId})
      RETURNING "id", "officerId"`;
    if (rows.length === 0) return promoted;
    const event = await db.event.findUniqueOrThrow({ where: { id: eventId } });
    const officerId = Number(rows[0]!.officerId);
    await store.queueForOfficers(
      [{ id: officerId, koperasiId: null }],
      {
        // Keyed by the moment: the same officer can be moved up again after declining and rejoining.
        key: `bimtek_promoted:e${eventId}@${now.getTime()}`,
        purpose: 'bimtek_promoted',
        topic: 'invitations',
        text: engine.message('id', 'bimtek.promoted', { title: event.title, when: formatDateTime(event.startsAt, 'Asia/Jakarta'), place: event.place }),
      },
      now,
    );
    promoted++;
  }
}

/** Decline (or change an acceptance to a decline) for one officer, moving the waiting list up. */
export async function declineInvitation(db: Db, store: OutboxStore, engine: ConversationEngine, invitationId: number, now: Date): Promise<void> {
  const invitation = await db.eventInvitation.findUniqueOrThrow({ where: { id: invitationId } });
  await db.eventInvitation.update({ where: { id: invitationId }, data: { status: 'declined', respondedAt: now } });
  if (invitation.status === 'accepted') await promoteFromWaitlist(db, store, engine, invitation.eventId, now);
}

/** Invitations for boards' bimtek events that are coming: every matching officer, once. */
export async function queueBimtekInvitations(ctx: JobContext): Promise<JobResult> {
  const result: JobResult = { job: 'bimtek_invitations', occurrences: 0, queued: 0 };
  const events = await ctx.db.event.findMany({ where: { forMembers: false, startsAt: { gt: ctx.now } } });
  for (const event of events) {
    const types = csv(event.koperasiTypes);
    const districts = csv(event.districts);
    const roles = csv(event.roles);
    const officers = await ctx.db.officer.findMany({
      where: { koperasiId: { not: null }, ...(roles.length > 0 ? { role: { in: roles } } : {}) },
      include: { koperasi: true },
    });
    const invited = onePerPhone(officers).filter(
      (o) =>
        o.koperasi &&
        (types.length === 0 || types.includes(o.koperasi.type.toUpperCase())) &&
        (districts.length === 0 || districts.includes((o.koperasi.district ?? '').toUpperCase())),
    );
    if (invited.length === 0) continue;
    result.occurrences++;
    for (const officer of invited) {
      await ctx.db.$executeRaw`
        INSERT INTO "EventInvitation" ("eventId", "officerId", "status", "invitedAt") VALUES (${event.id}, ${officer.id}, 'invited', ${ctx.now})
        ON CONFLICT ("eventId", "officerId") DO NOTHING`;
    }
    const text = ctx.engine.message('id', 'bimtek.invitation', {
      title: event.title,
      topic: event.topic,
      when: formatDateTime(event.startsAt, 'Asia/Jakarta'),
      place: event.place,
      capacity: String(event.capacity),
      organiser: event.organiser,
    });
    result.queued += await ctx.store.queueForOfficers(invited, { key: `bimtek_invite:e${event.id}`, purpose: 'bimtek_invite', topic: 'invitations', text }, ctx.now);
  }
  return result;
}

/** The day before a bimtek, 08.00: a reminder to those who accepted. */
export async function queueBimtekReminders(ctx: JobContext): Promise<JobResult> {
  const result: JobResult = { job: 'bimtek_reminders', occurrences: 0, queued: 0 };
  const events = await ctx.db.event.findMany({ where: { forMembers: false, startsAt: { gt: ctx.now } } });
  for (const event of events) {
    const day = localDate(event.startsAt, 'Asia/Jakarta');
    if (zonedTimeToUtc(addDays(day, -1), 8, 0, 'Asia/Jakarta') > ctx.now) continue;
    const accepted = await ctx.db.eventInvitation.findMany({ where: { eventId: event.id, status: 'accepted' } });
    if (accepted.length === 0) continue;
    result.occurrences++;
    // "besok" only when it is: an event set for today (or a reminder sent late) says "hari ini".
    const away = describeDaysAway(ctx.engine, ctx.now, day, 'Asia/Jakarta');
    const text = ctx.engine.message('id', 'bimtek.reminder', { title: event.title, away, when: formatDateTime(event.startsAt, 'Asia/Jakarta'), place: event.place });
    result.queued += await ctx.store.queueForOfficers(
      accepted.map((i) => ({ id: i.officerId, koperasiId: null })),
      { key: `bimtek_reminder:e${event.id}@${day}`, purpose: 'bimtek_reminder', topic: 'invitations', text },
      ctx.now,
    );
  }
  return result;
}
