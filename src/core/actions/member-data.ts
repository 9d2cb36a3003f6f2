/** Money data and meetings for the verified member. Every lookup is by ctx.member's own id. */
import { formatDate, formatDateTime, formatRupiah, daysBetween, localDate } from '../format.ts';
import { collectibility, daysPastDue } from '../loan-status.ts';
import { optionalText, requireMember, type Action, type ActionResult } from './types.ts';
import type { MemberRef } from '../ports.ts';
import { zeroPaddedForms } from '../member-number.ts';

const KIND_ORDER = ['pokok', 'wajib', 'sukarela'];

function signed(amount: bigint): string {
  return amount > 0n ? `+${formatRupiah(amount)}` : formatRupiah(amount);
}

/** Movement descriptions are data, usually Indonesian; the common ones have a translation. */
function describe(ctx: Parameters<Action>[0], description: string): string {
  const key = `savings.desc.${description.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
  return optionalText(ctx, key) ?? description;
}

/**
 * "cek saldo anggota no 002": the member asked about another member number. Only their own
 * data is shown, and they are told why.
 */
export function privacyNote(ctx: Parameters<Action>[0], member: MemberRef): string {
  const asked = /(?:no\.?|nomor|nomer|anggota)\s*(?:anggota)?\s*:?\s*([A-Za-z0-9][A-Za-z0-9.\-/]*\d[A-Za-z0-9.\-/]*)/i.exec(ctx.input)?.[1];
  if (!asked) return '';
  const own = new Set(zeroPaddedForms(member.memberNumber.toUpperCase()));
  if (zeroPaddedForms(asked.toUpperCase()).some((form) => own.has(form))) return '';
  return `${ctx.t('privacy.own_data_only')}\n\n`;
}

export const savingsSummary: Action = async (ctx) => {
  const member = requireMember(ctx);
  const { accounts, recent } = await ctx.services.ledger.savingsSummary(member.id, 5);
  if (accounts.length === 0) return { outcome: 'none' };
  const sorted = [...accounts].sort((a, b) => {
    const ia = KIND_ORDER.indexOf(a.kind);
    const ib = KIND_ORDER.indexOf(b.kind);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.label.localeCompare(b.label, 'id');
  });
  const asOf = sorted.reduce((latest, a) => (a.asOf > latest ? a.asOf : latest), '');
  const lines = sorted.map((a) => {
    const line = ctx.t('savings.line', { label: a.label, amount: formatRupiah(a.balance) });
    // A balance older than the others says so, rather than passing for current.
    return a.asOf === asOf ? line : `${line} (${formatDate(a.asOf, ctx.language)})`;
  });
  const total = sorted.reduce((sum, a) => sum + a.balance, 0n);
  const transactions =
    recent.length === 0
      ? ''
      : `\n\n${ctx.t('savings.tx_header')}\n${recent
          .map((tx) =>
            ctx.t('savings.tx_line', {
              date: formatDate(tx.date, ctx.language),
              label: tx.label,
              amount: signed(tx.amount),
              description: describe(ctx, tx.description),
            }),
          )
          .join('\n')}`;
  return {
    vars: {
      lines: lines.join('\n'),
      total: formatRupiah(total),
      as_of: formatDate(asOf, ctx.language),
      transactions,
      privacy_note: privacyNote(ctx, member),
    },
  };
};

export const loanSummary: Action = async (ctx) => {
  const member = requireMember(ctx);
  const loans = await ctx.services.ledger.activeLoans(member.id);
  if (loans.length === 0) return { outcome: 'none' };
  const today = localDate(ctx.now, member.timezone);
  const blocks = loans.map((loan) => {
    if (loan.outstanding <= 0n && loan.arrears <= 0n) {
      return ctx.t('loans.paid_off', { loan_number: loan.loanNumber, principal: formatRupiah(loan.principal) });
    }
    let dueDate = '-';
    if (loan.nextDueOn) {
      const days = daysBetween(today, loan.nextDueOn);
      const date = formatDate(loan.nextDueOn, ctx.language, true);
      if (days < -1) dueDate = ctx.t('loans.due_overdue', { date, days: String(-days) });
      else if (days === -1) dueDate = ctx.t('loans.due_yesterday', { date });
      else if (days === 0) dueDate = ctx.t('loans.due_today', { date });
      else if (days === 1) dueDate = ctx.t('loans.due_tomorrow', { date });
      else dueDate = ctx.t('loans.due_soon', { date, days: String(days) });
    }
    let arrears = ctx.t('loans.no_arrears');
    if (loan.arrears === 0n && loan.nextDueOn && loan.nextDueOn < today) {
      // The books say nothing is owed, but the due date has passed: never thank for paying on time.
      arrears = ctx.t('loans.unrecorded_payment', { date: formatDate(loan.nextDueOn, ctx.language) });
    } else if (loan.arrears > 0n) {
      const days = daysPastDue({ arrears: loan.arrears, installment: loan.installment, nextDueOn: loan.nextDueOn, today });
      arrears = ctx.t('loans.arrears', {
        arrears: formatRupiah(loan.arrears),
        late_fee: loan.lateFee > 0n ? ctx.t('loans.late_fee', { late_fee: formatRupiah(loan.lateFee) }) : '',
        collectibility: ctx.t(`collectibility.${collectibility(days)}`),
      });
    }
    return ctx.t('loans.item', {
      loan_number: loan.loanNumber,
      principal: formatRupiah(loan.principal),
      tenor: String(loan.tenorMonths),
      outstanding: formatRupiah(loan.outstanding),
      // Past the end of the schedule (a loan still owing after its tenor) there is no "ke-x dari y".
      installment_line: loan.next
        ? ctx.t('loans.installment_next', {
            next_number: String(loan.next.number),
            tenor: String(loan.tenorMonths),
            installment: formatRupiah(loan.installment),
            split: ctx.t('loans.split', { principal: formatRupiah(loan.next.principal), interest: formatRupiah(loan.next.interest) }),
          })
        : ctx.t('loans.installment_plain', { installment: formatRupiah(loan.installment) }),
      due_date: dueDate,
      arrears,
    });
  });
  return { vars: { loans: blocks.join('\n\n'), privacy_note: privacyNote(ctx, member) } };
};

export const ratUpcoming: Action = async (ctx): Promise<ActionResult> => {
  const member = requireMember(ctx);
  const meeting = await ctx.services.meetings.currentRat(member, ctx.now);
  if (!meeting) return { outcome: 'none' };
  const when = formatDateTime(meeting.startsAt, member.timezone, ctx.language);
  const bookYear = meeting.bookYear === null ? '-' : String(meeting.bookYear);
  const agenda = meeting.agenda.map((item, i) => ctx.t('rat.agenda_line', { number: String(i + 1), item })).join('\n');
  if (meeting.startsAt <= ctx.now) return { outcome: 'past', vars: { when, book_year: bookYear, place: meeting.place, agenda } };
  ctx.session.meetingId = meeting.id;
  const attendance =
    meeting.attending === null ? 'rat.attendance_none' : meeting.attending ? 'rat.attendance_yes' : 'rat.attendance_no';
  return {
    vars: {
      meeting_title: ctx.t(meeting.kind === 'RAT' ? 'rat.title_rat' : 'rat.title_other'),
      book_year: bookYear,
      when,
      place: meeting.place,
      agenda,
      attendance: ctx.t(attendance),
      question: ctx.t(meeting.attending === null ? 'rat.question_new' : 'rat.question_change'),
    },
  };
};

export const ratConfirm: Action = async (ctx) => {
  const member = requireMember(ctx);
  const meetingId = ctx.session.meetingId;
  delete ctx.session.meetingId;
  const meeting = await ctx.services.meetings.currentRat(member, ctx.now);
  // Only the meeting that was on screen, and only if it is still this member's upcoming one.
  if (!meeting || meeting.id !== meetingId || meeting.startsAt <= ctx.now) return { vars: { message: ctx.t('rat.none') } };
  const attending = ctx.args.attending === true;
  await ctx.services.meetings.confirmAttendance(meeting.id, member.id, attending, ctx.message.channel);
  const vars = { when: formatDateTime(meeting.startsAt, member.timezone, ctx.language), place: meeting.place };
  return { vars: { message: ctx.t(attending ? 'rat.confirmed_yes' : 'rat.confirmed_no', vars) } };
};

export const eventsUpcoming: Action = async (ctx) => {
  const member = requireMember(ctx);
  const events = await ctx.services.meetings.upcomingEventsForMembers(member, ctx.now);
  if (events.length === 0) return { outcome: 'none' };
  const items = events.map((e) =>
    ctx.t('events.item', {
      title: e.title,
      topic: e.topic,
      when: formatDateTime(e.startsAt, member.timezone, ctx.language),
      place: e.place,
      capacity: String(e.capacity),
    }),
  );
  return { vars: { events: items.join('\n') } };
};
