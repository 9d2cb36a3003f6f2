/**
 * How far off a date is, as a member reads it in a reminder: "hari ini", "besok", "5 hari
 * lagi". Always the real distance in local calendar days, never the reminder's nominal one: a
 * RAT set five days ahead gets its 14-day reminder at once, and it must say five.
 */
import { daysBetween, localDate } from '../core/format.ts';
import type { Catalogue } from '../core/catalogue.ts';

export function describeDaysAway(texts: Catalogue, now: Date, day: string, timeZone: string): string {
  const days = daysBetween(localDate(now, timeZone), day);
  if (days <= 0) return texts.requireText('id', 'reminder.when_0');
  if (days === 1) return texts.requireText('id', 'reminder.when_1');
  return texts.requireText('id', 'reminder.when_n', { days: String(days) });
}
