/**
 * Installment reminders, for members who asked for them ("ingatkan angsuran"): 3 days before
 * the due date, on the day, and 7 days late if the due date has not moved on by then (the next
 * import of the loans file moves it once the installment is paid). 08.00 local time, once
 * each; when several fell due while the service was down, only the latest is sent.
 */
import { addDays, daysBetween, formatDate, formatRupiah, localDate, zonedTimeToUtc } from '../core/format.ts';
import type { JobContext, JobResult } from './job.ts';

export const INSTALLMENT_OFFSETS = [-3, 0, 7] as const;

export async function queueInstallmentReminders(ctx: JobContext): Promise<JobResult> {
  const { domain } = ctx;
  const result: JobResult = { job: 'installment_reminders', occurrences: 0, queued: 0 };
  for (const loan of await domain.loans.remindable()) {
    const due = loan.nextDueOn;
    const tz = loan.timezone;
    const offset = [...INSTALLMENT_OFFSETS].reverse().find((n) => zonedTimeToUtc(addDays(due, n), 8, 0, tz) <= ctx.now);
    // Nothing yet, or past the last reminder's day: the next import will bring the next due date.
    if (offset === undefined || zonedTimeToUtc(addDays(due, 8), 0, 0, tz) <= ctx.now) continue;
    // The text says the real distance: a due date imported two days ahead gets its "3 days
    // before" reminder at once, saying two (or "hari ini" when it is today).
    const daysAway = daysBetween(localDate(ctx.now, tz), due);
    const key = offset > 0 ? 'reminder.installment_late' : daysAway > 0 ? 'reminder.installment_before' : 'reminder.installment_today';
    const text = [
      domain.texts.requireText('id', key, {
        koperasi: loan.koperasiName,
        loan: loan.loanNumber,
        amount: formatRupiah(loan.installment),
        date: formatDate(due, 'id', true),
        days: String(daysAway),
      }),
      domain.texts.requireText('id', 'reminder.installment_footer'),
    ].join('\n\n');
    result.occurrences++;
    result.queued += await domain.outbox.queue(
      [{ idempotencyKey: `installment:l${loan.id}@${due}:${offset}`, purpose: 'installment_reminder', topic: 'reminders', koperasiId: loan.koperasiId, memberId: loan.memberId, text, notBefore: ctx.now }],
      ctx.now,
    );
  }
  return result;
}
