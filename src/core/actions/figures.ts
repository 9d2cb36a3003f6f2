/**
 * What a member, an owner of the cooperative, is shown of it: its figures for the last book
 * year with the change from the year before, and the member's own SHU. Only what the board
 * imported; nothing estimated. Every lookup is by ctx.member's own cooperative and id.
 */
import { formatDate, formatRupiah, localDate, type Language } from '../format.ts';
import type { AnnualReportView } from '../ports.ts';
import { requireMember, type Action, type ActionContext, type ActionResult } from './types.ts';
import { privacyNote } from './member-data.ts';

/** "3,25%" (or "3.25%" in English) from basis points. */
export function formatPercentBasisPoints(basisPoints: number, language: Language): string {
  const whole = Math.floor(basisPoints / 100);
  const hundredths = basisPoints % 100;
  const fraction = hundredths === 0 ? '' : `${language === 'id' ? ',' : '.'}${String(hundredths).padStart(2, '0').replace(/0$/, '')}`;
  return `${whole}${fraction}%`;
}

/** The change from `before` to `now` in words and whole percent: "naik 12%", "turun 3%", "tetap", "naik <1%". */
function change(ctx: ActionContext, now: bigint, before: bigint): string {
  if (now === before) return ctx.t('report.change_same');
  const up = now > before;
  const diff = up ? now - before : before - now;
  // Rounded half up, in integers: no float touches the money.
  const percent = (diff * 200n + before) / (2n * before);
  const amount = percent === 0n ? '<1%' : `${percent}%`;
  return ctx.t(up ? 'report.change_up' : 'report.change_down', { percent: amount });
}

/** Each figure's message key (report.figure.…). */
const LABELS = {
  memberCount: 'member_count', assets: 'assets', ownCapital: 'own_capital', memberSavings: 'member_savings', loansOutstanding: 'loans_outstanding',
  businessVolume: 'business_volume', revenue: 'revenue', costs: 'costs', shu: 'shu',
} as const;

type Figure = 'memberCount' | 'assets' | 'ownCapital' | 'memberSavings' | 'loansOutstanding' | 'businessVolume' | 'revenue' | 'costs' | 'shu';
const FIGURES: readonly Figure[] = ['memberCount', 'assets', 'ownCapital', 'memberSavings', 'loansOutstanding', 'businessVolume', 'revenue', 'costs', 'shu'];

function valueOf(report: AnnualReportView, figure: Figure): bigint | null {
  const value = report[figure];
  return typeof value === 'number' ? BigInt(value) : value;
}

function shown(ctx: ActionContext, figure: Figure, value: bigint): string {
  if (figure === 'memberCount') return ctx.t('report.members_value', { count: Number(value).toLocaleString(ctx.language === 'en' ? 'en-US' : 'id-ID') });
  if (figure === 'shu' && value < 0n) return ctx.t('report.loss_value', { amount: formatRupiah(-value) });
  return formatRupiah(value);
}

/** "laporan koperasi": the last book year's card. */
export const reportCard: Action = async (ctx): Promise<ActionResult> => {
  const member = requireMember(ctx);
  const [latest, earlier] = await ctx.services.figures.latestReports(member.koperasiId, 2);
  if (!latest) return { outcome: 'none' };
  // Compared only with the year just before: a gap of years is not "the change from last year".
  const previous = earlier && earlier.bookYear === latest.bookYear - 1 ? earlier : undefined;
  const lines: string[] = [];
  for (const figure of FIGURES) {
    const value = valueOf(latest, figure);
    if (value === null) continue;
    const before = previous ? valueOf(previous, figure) : null;
    let note = '';
    // A percentage of a loss (or of nothing) says nothing: the year before is given as it was.
    if (before !== null && before > 0n && value >= 0n) note = ` (${change(ctx, value, before)})`;
    else if (before !== null) note = ` (${ctx.t('report.before', { year: String(previous!.bookYear), value: shown(ctx, figure, before) })})`;
    lines.push(ctx.t('report.line', { label: ctx.t(`report.figure.${LABELS[figure]}`), value: shown(ctx, figure, value), change: note }));
  }
  if (latest.nplBasisPoints !== null) {
    const before = previous?.nplBasisPoints ?? null;
    const note = before === null ? '' : ` (${ctx.t('report.before', { year: String(previous!.bookYear), value: formatPercentBasisPoints(before, ctx.language) })})`;
    lines.push(ctx.t('report.line', { label: ctx.t('report.figure.npl'), value: formatPercentBasisPoints(latest.nplBasisPoints, ctx.language), change: note }));
  }
  const reported = latest.ratDate
    ? ctx.t('report.approved_at_rat', { date: formatDate(latest.ratDate, ctx.language) })
    : ctx.t('report.uploaded_only', { date: formatDate(localDate(latest.importedAt, member.timezone), ctx.language) });
  return {
    vars: {
      book_year: String(latest.bookYear),
      lines: lines.join('\n'),
      compared: previous ? ctx.t('report.compared', { year: String(previous.bookYear) }) : ctx.t('report.no_previous', { year: String(latest.bookYear - 1) }),
      reported,
    },
  };
};

/** "shu saya brp": the member's own SHU for the last book year. */
export const memberShu: Action = async (ctx): Promise<ActionResult> => {
  const member = requireMember(ctx);
  const { bookYear, shu } = await ctx.services.figures.memberShu(member);
  if (bookYear === null) return { outcome: 'none_imported' };
  if (!shu) return { outcome: 'not_recorded', vars: { book_year: String(bookYear), privacy_note: privacyNote(ctx, member) } };
  const paid = shu.paidOn
    ? ctx.t(shu.paidHow ? 'shu.paid_how' : 'shu.paid', { date: formatDate(shu.paidOn, ctx.language), how: shu.paidHow ?? '' })
    : shu.paidHow
      ? ctx.t('shu.unpaid_how', { how: shu.paidHow })
      : ctx.t('shu.unpaid');
  return {
    vars: {
      book_year: String(shu.bookYear),
      jasa_modal: formatRupiah(shu.jasaModal),
      jasa_usaha: formatRupiah(shu.jasaUsaha),
      total: formatRupiah(shu.total),
      paid,
      privacy_note: privacyNote(ctx, member),
    },
  };
};
