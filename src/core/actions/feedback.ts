/** Complaints, ratings, announcement preferences and language: what a member tells the cooperative. */
import { normalizeText } from '../text-match.ts';
import { formatDate, localDate } from '../format.ts';
import type { MemberRef } from '../ports.ts';
import { askContactAgain, provenMemberships } from './identity.ts';
import { optionalText, requireMember, type Action, type ActionContext } from './types.ts';

const NUMBER_WORDS: Record<string, number> = {
  satu: 1, dua: 2, tiga: 3, empat: 4, lima: 5,
  one: 1, two: 2, three: 3, four: 4, five: 5,
  siji: 1, loro: 2, telu: 3, papat: 4, limo: 5, // Javanese
};

const NOT = '(?:tidak|gak|ga|nggak|ngga|enggak|ndak|ora|tak|kurang)';
/** Feelings, most specific first ("sangat tidak puas" before "tidak puas" before "puas"). */
const FEELINGS: [RegExp, number][] = [
  [new RegExp(`\\bsangat ${NOT} puas\\b|\\b${NOT} puas (?:blas|babar blas|sama sekali)\\b|\\bkecewa\\b|\\bburuk sekali\\b|\\bparah\\b`), 1],
  [new RegExp(`\\b${NOT} (?:jelek|buruk)\\b`), 4],
  [new RegExp(`\\b${NOT} puas\\b|\\bjelek\\b|\\bburuk\\b`), 2],
  [/\b(sangat puas|puas banget|puas sekali|mantap|luar biasa|excellent|sae sanget|apik banget|apik tenan|top)\b/, 5],
  [/\b(biasa|lumayan|cukup|standar|sedang)\b/, 3],
  [/\b(puas|bagus|baik|good|apik|sae)\b/, 4],
];

/** "5", "nilai 4", "⭐⭐⭐", "lima", "4/5", "8/10", "puas banget" → the score, or null. */
export function parseScore(text: string): number | null {
  const stars = [...text].filter((c) => c === '⭐' || c === '★').length;
  if (stars >= 1 && stars <= 5 && !/\d/.test(text)) return stars;
  // The scale itself is not the answer: "nilai 1-5 ya? 4 deh".
  const cleaned = text.replace(/\b1\s*(?:-|–|sampai|s\/d|sd|to|hingga)\s*5\b/gi, ' ').replace(/\b(?:dari|out of|of)\s*5\b/gi, ' ');
  const outOfTen = /\b(\d{1,2})\s*\/\s*10\b/.exec(cleaned);
  if (outOfTen) {
    const n = Number(outOfTen[1]);
    return n >= 1 && n <= 10 ? Math.max(1, Math.round(n / 2)) : null;
  }
  const normalized = normalizeText(cleaned.replace(/\/\s*5\b/g, ' '));
  const digits = normalized.match(/\d+/g) ?? [];
  if (digits.length === 1) {
    // "4", not the "1" of "001".
    return /^[1-5]$/.test(digits[0]!) ? Number(digits[0]) : null;
  }
  if (digits.length > 1) return null;
  for (const word of normalized.split(' ')) {
    const n = NUMBER_WORDS[word];
    if (n !== undefined) return n;
  }
  for (const [pattern, score] of FEELINGS) if (pattern.test(normalized)) return score;
  return null;
}

/**
 * Entering the complaint flow with a message that already tells the story ("sy mau komplen,
 * kemarin sudah setor angsuran 500rb tapi belum tercatat") files it as it is.
 */
export const complaintFromMessage: Action = async (ctx) => {
  const member = requireMember(ctx);
  const text = ctx.input.trim();
  const normalized = ` ${normalizeText(text)} `;
  const markers = String(ctx.args.markers ?? '')
    .split(',')
    .map((m) => normalizeText(m))
    .filter((m) => m !== '');
  // Long, explicitly a complaint, and not put off ("mau lapor tapi nanti aja").
  const explicit = markers.some((m) => normalized.includes(` ${m} `) || normalized.includes(` ${m}`));
  const deferred = / (nanti|besok|gak jadi|ga jadi|tidak jadi|nggak jadi) /.test(normalized);
  if (normalized.trim().split(' ').length < 5 || text.length > 2000 || !explicit || deferred) return {};
  const { ticket } = await ctx.services.feedback.fileComplaint(member, ctx.message.channel, text);
  return { outcome: 'filed', vars: { ticket } };
};

export const complaintStatus: Action = async (ctx) => {
  const member = requireMember(ctx);
  // Only this member's own complaints: a ticket number typed by anyone else finds nothing.
  const complaints = await ctx.services.feedback.complaintsOf(member.id, 5);
  if (complaints.length === 0) return { outcome: 'none' };
  const asked = /ADU\d{4}-\d{5,}/i.exec(ctx.input)?.[0]?.toUpperCase();
  const shown = asked && complaints.some((c) => c.ticket === asked) ? complaints.filter((c) => c.ticket === asked) : complaints;
  const lines = shown.map((c) =>
    ctx.t('complaint.status_line', {
      ticket: c.ticket,
      date: formatDate(localDate(c.createdAt, member.timezone), ctx.language),
      status: optionalText(ctx, `complaint.state.${c.status.toLowerCase()}`) ?? c.status,
    }),
  );
  return { vars: { complaints: lines.join('\n') } };
};

/** "nilai 5", "sy kasih 4 bintang", "puas banget" typed at rest: recorded without asking again. */
export const ratingFromMessage: Action = async (ctx) => {
  const member = requireMember(ctx);
  if (/^\s*\d+\s*[.)]?\s*$/.test(ctx.input)) return {}; // a bare number picked the menu item
  const score = scoreOf(ctx.input);
  if (score === null) return {};
  await ctx.services.feedback.rate(member, ctx.message.channel, score);
  return { outcome: score >= 4 ? 'saved_high' : score === 3 ? 'saved_mid' : 'saved_low', vars: { score: String(score) } };
};

export const fileComplaint: Action = async (ctx) => {
  const member = requireMember(ctx);
  const text = ctx.input.trim();
  const words = normalizeText(text);
  if (words.replace(/\s/g, '').length < 10 || words.split(' ').length < 3) return { outcome: 'too_short' };
  const { ticket } = await ctx.services.feedback.fileComplaint(member, ctx.message.channel, text);
  return { outcome: 'filed', vars: { ticket } };
};

/**
 * A number in a longer sentence is a score only when the sentence is about scoring:
 * "saya siti no anggota 001" and "3 hari lalu sy ke kantor" are not ratings.
 */
function scoreOf(text: string): number | null {
  const words = normalizeText(text).split(' ');
  const aboutScore = /\b(nilai|nilainya|bintang|skor|score|rating|rate|kasih|beri|puas|out of|dari)\b|\/\s*(5|10)\b|⭐|★/i.test(text);
  if (words.length > 3 && !aboutScore) return null;
  return parseScore(text);
}

export const saveRating: Action = async (ctx) => {
  const member = requireMember(ctx);
  const score = scoreOf(ctx.input);
  if (score === null) return { outcome: 'invalid' };
  await ctx.services.feedback.rate(member, ctx.message.channel, score);
  return { outcome: score >= 4 ? 'saved_high' : score === 3 ? 'saved_mid' : 'saved_low', vars: { score: String(score) } };
};

/**
 * The memberships a "stop" or "langganan" applies to: the verified member's, and every one of the
 * phone the channel proves now. A phone that is only remembered (Telegram) counts for nothing: it
 * may be someone else's by now. Null when the member's own contact must be asked for first.
 */
async function membershipsToSet(ctx: ActionContext): Promise<Map<number, MemberRef> | null> {
  const members = new Map((await provenMemberships(ctx)).covered.map((m) => [m.id, m]));
  if (ctx.member) members.set(ctx.member.id, ctx.member);
  const resume = typeof ctx.args.resume === 'string' ? ctx.args.resume : null;
  if (members.size === 0 && resume && askContactAgain(ctx, resume)) return null;
  return members;
}

export const announcementStatus: Action = async (ctx) => {
  const member = requireMember(ctx);
  return { outcome: member.optOutAnnouncements ? 'off' : 'on' };
};

/**
 * Stop or resume announcements for the verified member and for every membership of the phone
 * the channel vouches for: "stop" means no more messages to this phone. Nothing is shown, so
 * no verification is needed.
 */
export const setAnnouncements: Action = async (ctx) => {
  const optOut = ctx.args.optOut === true;
  const members = await membershipsToSet(ctx);
  if (!members) return { outcome: 'share_contact' };
  if (members.size === 0) return { outcome: 'not_member' };
  if ([...members.values()].every((m) => m.optOutAnnouncements === optOut)) return { outcome: 'already' };
  for (const member of members.values()) {
    await ctx.services.members.setAnnouncementOptOut(member.id, optOut);
    member.optOutAnnouncements = optOut;
  }
  return {};
};

export const setLanguage: Action = async (ctx) => {
  const language = ctx.args.language === 'en' ? 'en' : 'id';
  await ctx.services.identities.setLanguage(ctx.identity, language);
  ctx.setLanguage(language);
  return {};
};

/** Installment reminders on or off for the verified member ("ingatkan angsuran"). */
export const setInstallmentReminders: Action = async (ctx) => {
  const member = requireMember(ctx);
  const on = ctx.args.on === true;
  await ctx.services.members.setInstallmentReminders(member.id, on);
  await ctx.services.audit.record({ actor: `member:${member.id}`, action: on ? 'reminders.installments_on' : 'reminders.installments_off', koperasiId: member.koperasiId });
  return {};
};

/**
 * One topic off or on ("stop pengingat", "stop undangan") for every membership of the phone the
 * channel vouches for, like "stop" for announcements: nothing is shown, no verification needed.
 */
export const setTopic: Action = async (ctx) => {
  const topic = ctx.args.topic === 'invitations' ? 'invitations' : 'reminders';
  const optOut = ctx.args.optOut === true;
  const members = await membershipsToSet(ctx);
  if (!members) return { outcome: 'share_contact' };
  if (members.size === 0) return { outcome: 'not_member' };
  for (const member of members.values()) await ctx.services.members.setTopicOptOut(member.id, topic, optOut);
  return {};
};
