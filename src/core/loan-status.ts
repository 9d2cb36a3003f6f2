/**
 * Loan facts a member asks about, derived from the ledger: how late, and the collectibility
 * class the board uses (lancar … macet), by days past due.
 */
import { daysBetween } from './format.ts';

export type Collectibility = 'lancar' | 'dpk' | 'kurang_lancar' | 'diragukan' | 'macet';

export interface ArrearsInput {
  arrears: bigint;
  installment: bigint;
  nextDueOn: string | null;
  today: string;
}

/**
 * Days past due: the later of what the next due date says and what the arrears amount implies
 * (each unpaid installment is a month late).
 */
export function daysPastDue({ arrears, installment, nextDueOn, today }: ArrearsInput): number {
  if (arrears <= 0n) return 0;
  const byDate = nextDueOn && nextDueOn < today ? daysBetween(nextDueOn, today) : 0;
  const missed = installment > 0n ? Number((arrears + installment - 1n) / installment) : 1;
  return Math.max(byDate, missed * 30);
}

/** Collectibility by days past due (0; 1–90; 91–120; 121–180; over 180). */
export function collectibility(days: number): Collectibility {
  if (days <= 0) return 'lancar';
  if (days <= 90) return 'dpk';
  if (days <= 120) return 'kurang_lancar';
  if (days <= 180) return 'diragukan';
  return 'macet';
}
