/**
 * The bimtek jobs: invitations to those in an event's audience, and the day-before reminder.
 * Neither claims its run (see job.ts): both are a message per officer, idempotent by event and
 * officer, and an officer who joins a board (or accepts) later is reached on a later tick.
 */
import { bimtekReminderDue, inviteToBimtek, remindBimtekParticipants } from '../domain/bimtek.ts';
import type { JobContext, JobResult } from './job.ts';

/** Invitations for boards' bimtek events that are coming: every matching officer, once. */
export async function queueBimtekInvitations(ctx: JobContext): Promise<JobResult> {
  return { job: 'bimtek_invitations', ...(await inviteToBimtek(ctx.domain, ctx.now)) };
}

/** The day before a bimtek, 08.00: a reminder to those who accepted. */
export async function queueBimtekReminders(ctx: JobContext): Promise<JobResult> {
  const result: JobResult = { job: 'bimtek_reminders', occurrences: 0, queued: 0 };
  // In the order the events were set, as their invitations went out.
  const events = (await ctx.domain.bimtek.boardEvents(ctx.now)).sort((a, b) => a.id - b.id);
  for (const event of events) {
    if (bimtekReminderDue(event).at > ctx.now) continue;
    const queued = await remindBimtekParticipants(ctx.domain, event, ctx.now);
    if (queued === null) continue;
    result.occurrences++;
    result.queued += queued;
  }
  return result;
}
