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
import { formatDateTime, localDate, zonedTimeToUtc } from '../core/format.ts';
import type { Db } from '../persistence/database.ts';
import type { NewOutboxMessage, OutboxStore } from '../outbox/outbox-store.ts';
import { queueBimtekInvitations, queueBimtekReminders } from '../officer/bimtek.ts';

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

export interface JobResult {
  job: string;
  occurrences: number;
  queued: number;
}

function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
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
    const when = due === 1 ? ctx.engine.message('id', 'reminder.when_1') : ctx.engine.message('id', 'reminder.when_n', { days: String(due) });
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
    const queued = ctx.store.queue(messages, ctx.now);
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

/** Every job, once, for the instant `now`. */
export async function runDueJobs(ctx: JobContext): Promise<JobResult[]> {
  return [await queueRatReminders(ctx), await queueBimtekInvitations(ctx), await queueBimtekReminders(ctx)];
}
