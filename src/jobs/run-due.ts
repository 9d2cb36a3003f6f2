/**
 * Scheduled jobs: what is due at an instant is queued in the outbox, once. The service's
 * node-cron tick and `kopbot jobs run-due --now …` run this same code.
 *
 * "Exactly once" comes from the outbox's idempotency keys, not from the tick: every
 * occurrence has a key (meeting, its date, days before, member), so running the jobs twice,
 * from two instances, or again after a restart queues nothing new, and an occurrence that
 * fell due while the service was down is queued when it comes back. When several reminders of
 * one meeting are overdue (the service was down for days), only the latest is sent.
 */
import type { ConversationEngine } from '../core/engine.ts';
import { addDays, formatDateTime, localDate, zonedTimeToUtc } from '../core/format.ts';
import { describeDaysAway } from './days-away.ts';
import type { Db } from '../persistence/database.ts';
import type { NewOutboxMessage, OutboxStore } from '../outbox/outbox-store.ts';
import { queueBimtekInvitations, queueBimtekReminders } from '../officer/bimtek.ts';
import { queueInstallmentReminders } from './installments.ts';
import { BOARD_ROLES, onePerPhone } from '../officer/desk.ts';

export const RAT_REMINDER_DAYS = [14, 3, 1] as const;
/** Reminders go out at this local hour, N days before the meeting's date. */
export const REMINDER_HOUR = 8;

export interface JobContext {
  db: Db;
  store: OutboxStore;
  engine: ConversationEngine;
  now: Date;
  ratReminderDays?: readonly number[];
}

export type JobName = 'rat_reminders' | 'gempur_reminders' | 'installment_reminders' | 'bimtek_invitations' | 'bimtek_reminders';

export interface JobResult {
  job: JobName;
  occurrences: number;
  queued: number;
}

/** RAT reminders to the members of cooperatives whose RAT is coming (default 14, 3 and 1 days before, 08.00 local). */
export async function queueRatReminders(ctx: JobContext): Promise<JobResult> {
  const days = [...(ctx.ratReminderDays ?? RAT_REMINDER_DAYS)].sort((a, b) => a - b);
  const meetings = await ctx.db.meeting.findMany({
    where: { kind: 'RAT', heldAt: null, startsAt: { gt: ctx.now } },
    include: { koperasi: true },
  });
  const result: JobResult = { job: 'rat_reminders', occurrences: 0, queued: 0 };
  for (const meeting of meetings) {
    const tz = meeting.koperasi.timezone;
    const meetingDay = localDate(meeting.startsAt, tz);
    // The closest reminder whose time has come; earlier ones it supersedes are not sent late.
    const due = days.find((n) => zonedTimeToUtc(addDays(meetingDay, -n), REMINDER_HOUR, 0, tz) <= ctx.now);
    if (due === undefined) continue;
    const occurrence = `mtg${meeting.id}@${meetingDay}:d${due}`;
    const members = await ctx.db.member.findMany({ where: { koperasiId: meeting.koperasiId, status: 'AKTIF' }, select: { id: true } });
    const when = describeDaysAway(ctx.engine, ctx.now, meetingDay, tz);
    const text = [
      ctx.engine.message('id', 'reminder.rat', { koperasi: meeting.koperasi.name, when, date: formatDateTime(meeting.startsAt, tz), place: meeting.place }),
      ctx.engine.message('id', 'reminder.footer'),
    ].join('\n\n');
    const messages: NewOutboxMessage[] = members.map((m) => ({
      idempotencyKey: `rat_reminder:${occurrence}:m${m.id}`,
      purpose: 'rat_reminder',
      topic: 'reminders',
      koperasiId: meeting.koperasiId,
      memberId: m.id,
      text,
      notBefore: ctx.now,
    }));
    // The board hears it too, with the attendance so far against the quorum.
    const [board, yes] = await Promise.all([
      ctx.db.officer
        .findMany({ where: { koperasiId: meeting.koperasiId, role: { in: BOARD_ROLES } }, select: { id: true, phone: true, koperasiId: true }, orderBy: { id: 'asc' } })
        .then(onePerPhone),
      ctx.db.meetingAttendance.count({ where: { meetingId: meeting.id, attending: true } }),
    ]);
    const boardText = ctx.engine.message('id', 'reminder.rat_board', {
      koperasi: meeting.koperasi.name,
      when,
      date: formatDateTime(meeting.startsAt, tz),
      yes: String(yes),
      active: String(members.length),
      needed: String(Math.ceil((members.length * meeting.koperasi.quorumPercent) / 100)),
      quorum: String(meeting.koperasi.quorumPercent),
    });
    const queued =
      (await ctx.store.queue(messages, ctx.now)) +
      (await ctx.store.queueForOfficers(board, { key: `rat_board_reminder:${occurrence}`, purpose: 'rat_board_reminder', topic: 'reminders', text: boardText }, ctx.now));
    result.occurrences++;
    result.queued += queued;
    if (queued > 0) {
      await ctx.db.jobRun.upsert({
        where: { job_occurrence: { job: 'rat_reminders', occurrence } },
        create: { job: 'rat_reminders', occurrence, queued, ranAt: ctx.now },
        update: { queued: { increment: queued } },
      });
    }
  }
  return result;
}

/**
 * Gempur Koperasi: from 2 January, the boards of cooperatives that have not yet held the RAT for
 * the last book year are reminded, more often toward the Dinas target of 31 March, then toward
 * the legal limit six months after the book year ends (30 June). Each stage once per officer;
 * a stage missed while the service was down is replaced by the latest one due.
 */
export const GEMPUR_STAGES = [
  { day: '01-02', key: 'gempur.start' },
  { day: '02-01', key: 'gempur.target' },
  { day: '03-01', key: 'gempur.target' },
  { day: '03-15', key: 'gempur.target_near' },
  { day: '03-25', key: 'gempur.target_near' },
  { day: '04-01', key: 'gempur.target_missed' },
  { day: '05-01', key: 'gempur.legal' },
  { day: '06-01', key: 'gempur.legal' },
  { day: '06-20', key: 'gempur.legal_near' },
] as const;

export async function queueGempurReminders(ctx: JobContext): Promise<JobResult> {
  const result: JobResult = { job: 'gempur_reminders', occurrences: 0, queued: 0 };
  const koperasis = await ctx.db.koperasi.findMany({ include: { ratHeld: true, officers: { where: { role: { in: BOARD_ROLES } }, orderBy: { id: 'asc' } } } });
  for (const koperasi of koperasis) {
    // The campaign's calendar is the calendar year's: cooperatives whose book year ends
    // elsewhere are left to the field officers.
    if (koperasi.bookYearEnd !== '12-31') continue;
    const tz = koperasi.timezone;
    const today = localDate(ctx.now, tz);
    const bookYear = Number(today.slice(0, 4)) - 1;
    const stageDates = GEMPUR_STAGES.map((stage) => ({ ...stage, date: `${bookYear + 1}-${stage.day}` }));
    const due = [...stageDates].reverse().find((stage) => zonedTimeToUtc(stage.date, REMINDER_HOUR, 0, tz) <= ctx.now);
    if (!due || today > `${bookYear + 1}-06-30`) continue;
    const held =
      koperasi.ratHeld.some((r) => r.bookYear === bookYear) ||
      (await ctx.db.meeting.count({ where: { koperasiId: koperasi.id, kind: 'RAT', bookYear, heldAt: { not: null } } })) > 0;
    if (held || koperasi.officers.length === 0) continue;
    const planned = await ctx.db.meeting.findFirst({ where: { koperasiId: koperasi.id, kind: 'RAT', heldAt: null, startsAt: { gt: ctx.now } }, orderBy: { startsAt: 'asc' } });
    const text = [
      ctx.engine.message('id', due.key, { koperasi: koperasi.name, book_year: String(bookYear), target: `31 Maret ${bookYear + 1}`, limit: `30 Juni ${bookYear + 1}` }),
      planned
        ? ctx.engine.message('id', 'gempur.planned', { date: formatDateTime(planned.startsAt, tz) })
        : ctx.engine.message('id', 'gempur.not_planned'),
    ].join('\n\n');
    result.occurrences++;
    result.queued += await ctx.store.queueForOfficers(
      onePerPhone(koperasi.officers),
      { key: `gempur:${koperasi.id}:${bookYear}:${due.date}`, purpose: 'gempur_reminder', topic: 'reminders', text },
      ctx.now,
    );
  }
  return result;
}

/** Every job, once, for the instant `now`. */
export async function runDueJobs(ctx: JobContext): Promise<JobResult[]> {
  return [
    await queueRatReminders(ctx),
    await queueGempurReminders(ctx),
    await queueInstallmentReminders(ctx),
    await queueBimtekInvitations(ctx),
    await queueBimtekReminders(ctx),
  ];
}
