/**
 * Scheduled jobs: what is due at an instant is queued in the outbox, once. The service's
 * node-cron tick and `kopbot jobs run-due --now …` run this same code, on every instance.
 *
 * "Exactly once" comes from the outbox's idempotency keys, not from the tick: every
 * occurrence has a key (meeting, its date, days before, member), so running the jobs twice,
 * from two instances, or again after a restart queues nothing new, and an occurrence that
 * fell due while the service was down is queued when it comes back. A RAT reminder (a fan-out
 * to every member) is also claimed first (job.ts), so only one instance does it. When several
 * reminders of one meeting are overdue (the service was down for days), only the latest is sent.
 */
import { addDays, formatDateTime, localDate, zonedTimeToUtc } from '../core/format.ts';
import { describeDaysAway } from '../domain/days-away.ts';
import { boardOf, boardsByKoperasi } from '../domain/officers.ts';
import type { OutboxMessageInput } from '../domain/ports.ts';
import { plannedRat, tallyAttendance } from '../domain/rat.ts';
import { queueBimtekInvitations, queueBimtekReminders } from './bimtek.ts';
import { queueInstallmentReminders } from './installments.ts';
import { onceFor, type JobContext, type JobName, type JobResult } from './job.ts';

export type { JobContext, JobName, JobResult } from './job.ts';
export { queueBimtekInvitations, queueBimtekReminders, queueInstallmentReminders };

export const RAT_REMINDER_DAYS = [14, 3, 1] as const;
/** Reminders go out at this local hour, N days before the meeting's date. */
export const REMINDER_HOUR = 8;

/** RAT reminders to the members of cooperatives whose RAT is coming (default 14, 3 and 1 days before, 08.00 local). */
export async function queueRatReminders(ctx: JobContext): Promise<JobResult> {
  const { domain } = ctx;
  const days = [...(ctx.ratReminderDays ?? RAT_REMINDER_DAYS)].sort((a, b) => a - b);
  const result: JobResult = { job: 'rat_reminders', occurrences: 0, queued: 0 };
  for (const meeting of await domain.meetings.comingRats(ctx.now)) {
    const koperasi = await domain.koperasi.byId(meeting.koperasiId);
    if (!koperasi) continue;
    const tz = koperasi.timezone;
    const meetingDay = localDate(meeting.startsAt, tz);
    // The closest reminder whose time has come; earlier ones it supersedes are not sent late.
    const due = days.find((n) => zonedTimeToUtc(addDays(meetingDay, -n), REMINDER_HOUR, 0, tz) <= ctx.now);
    if (due === undefined) continue;
    const occurrence = `mtg${meeting.id}@${meetingDay}:d${due}`;
    const queued = await onceFor(ctx, 'rat_reminders', occurrence, async () => {
      const members = await domain.members.activeIds(meeting.koperasiId);
      const when = describeDaysAway(domain.texts, ctx.now, meetingDay, tz);
      const text = [
        domain.texts.requireText('id', 'reminder.rat', { koperasi: koperasi.name, when, date: formatDateTime(meeting.startsAt, tz), place: meeting.place }),
        domain.texts.requireText('id', 'reminder.footer'),
      ].join('\n\n');
      const messages: OutboxMessageInput[] = members.map((id) => ({
        idempotencyKey: `rat_reminder:${occurrence}:m${id}`,
        purpose: 'rat_reminder',
        topic: 'reminders',
        koperasiId: meeting.koperasiId,
        memberId: id,
        text,
        notBefore: ctx.now,
      }));
      // The board hears it too, with the tally the desk shows (domain/rat.ts: active members only).
      const [board, tally] = await Promise.all([boardOf(domain, meeting.koperasiId), tallyAttendance(domain, koperasi, meeting.id)]);
      const boardText = domain.texts.requireText('id', 'reminder.rat_board', {
        koperasi: koperasi.name,
        when,
        date: formatDateTime(meeting.startsAt, tz),
        yes: String(tally.yes),
        active: String(tally.active),
        needed: String(tally.needed),
        quorum: String(tally.quorumPercent),
      });
      return (
        (await domain.outbox.queue(messages, ctx.now)) +
        (await domain.outbox.queueForOfficers(board, { key: `rat_board_reminder:${occurrence}`, purpose: 'rat_board_reminder', topic: 'reminders', text: boardText }, ctx.now))
      );
    });
    if (queued === null) continue;
    result.occurrences++;
    result.queued += queued;
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
  const { domain } = ctx;
  const result: JobResult = { job: 'gempur_reminders', occurrences: 0, queued: 0 };
  // Every cooperative is looked at on every tick: the boards are read once, not per cooperative.
  const boards = await boardsByKoperasi(domain);
  for (const koperasi of await domain.koperasi.all()) {
    // The campaign's calendar is the calendar year's: cooperatives whose book year ends
    // elsewhere are left to the field officers.
    if (koperasi.bookYearEnd !== '12-31') continue;
    const tz = koperasi.timezone;
    const today = localDate(ctx.now, tz);
    const bookYear = Number(today.slice(0, 4)) - 1;
    const stageDates = GEMPUR_STAGES.map((stage) => ({ ...stage, date: `${bookYear + 1}-${stage.day}` }));
    const due = [...stageDates].reverse().find((stage) => zonedTimeToUtc(stage.date, REMINDER_HOUR, 0, tz) <= ctx.now);
    if (!due || today > `${bookYear + 1}-06-30`) continue;
    const board = boards.get(koperasi.id) ?? [];
    if (board.length === 0 || (await domain.meetings.ratHeld(koperasi.id, bookYear))) continue;
    const planned = await plannedRat(domain, koperasi.id, ctx.now);
    const text = [
      domain.texts.requireText('id', due.key, { koperasi: koperasi.name, book_year: String(bookYear), target: `31 Maret ${bookYear + 1}`, limit: `30 Juni ${bookYear + 1}` }),
      planned ? domain.texts.requireText('id', 'gempur.planned', { date: formatDateTime(planned.startsAt, tz) }) : domain.texts.requireText('id', 'gempur.not_planned'),
    ].join('\n\n');
    result.occurrences++;
    result.queued += await domain.outbox.queueForOfficers(board, { key: `gempur:${koperasi.id}:${bookYear}:${due.date}`, purpose: 'gempur_reminder', topic: 'reminders', text }, ctx.now);
  }
  return result;
}

const DUE_JOBS: readonly (readonly [JobName, (ctx: JobContext) => Promise<JobResult>])[] = [
  ['rat_reminders', queueRatReminders],
  ['gempur_reminders', queueGempurReminders],
  ['installment_reminders', queueInstallmentReminders],
  ['bimtek_invitations', queueBimtekInvitations],
  ['bimtek_reminders', queueBimtekReminders],
];

/**
 * Every job, once, for the instant `now`. A job that fails says so in its result (error) and
 * the others still run: a reminder whose text is missing must not hold back the invitations.
 * The caller reports it (the scheduler's log, `jobs run-due`'s exit status).
 */
export async function runDueJobs(ctx: JobContext): Promise<JobResult[]> {
  const results: JobResult[] = [];
  for (const [job, run] of DUE_JOBS) {
    try {
      results.push(await run(ctx));
    } catch (error) {
      results.push({ job, occurrences: 0, queued: 0, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return results;
}
