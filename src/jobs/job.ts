/** What every scheduled job is given and gives back. */
import type { Domain } from '../domain/ports.ts';

export interface JobContext {
  domain: Domain;
  /** The instant the jobs run for (the tick, or `kopbot jobs run-due --now`). */
  now: Date;
  ratReminderDays?: readonly number[];
  /** The wall clock, for claims across instances (default: the real one). */
  clock?: () => Date;
}

export type JobName = 'rat_reminders' | 'gempur_reminders' | 'installment_reminders' | 'bimtek_invitations' | 'bimtek_reminders';

export interface JobResult {
  job: JobName;
  occurrences: number;
  queued: number;
  /**
   * Why the job stopped in this run (a text missing from the catalogue, a database fault):
   * what it had not queued yet is not queued, and the next run tries again.
   */
  error?: Error;
}

/** A claim not finished within this time was left by a process that died: another may take it over. */
export const STALE_CLAIM_MS = 10 * 60_000;

/**
 * Run one occurrence of a job if this run claims it: of several instances at the same tick
 * (or a run after a restart), exactly one queues it. Returns what was queued, or null when the
 * occurrence was another run's. For fan-outs to a whole cooperative (a RAT reminder to every
 * member): the outbox's idempotency keys would keep a second run from queueing twice, but not
 * from reading and offering 100,000 rows again on every instance at every tick. A job of one
 * message per recipient needs no claim: its keys are the claim.
 */
export async function onceFor(ctx: JobContext, job: JobName, occurrence: string, queue: () => Promise<number>): Promise<number | null> {
  const at = (ctx.clock ?? (() => new Date()))();
  if (!(await ctx.domain.jobRuns.claim(job, occurrence, at, new Date(at.getTime() - STALE_CLAIM_MS)))) return null;
  const queued = await queue();
  await ctx.domain.jobRuns.finish(job, occurrence, queued);
  return queued;
}
