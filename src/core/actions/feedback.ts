/** Complaints, ratings, announcement preferences and language: what a member tells the cooperative. */
import { normalizeText } from '../text-match.ts';
import { requireMember, type Action } from './types.ts';

const NUMBER_WORDS: Record<string, number> = {
  satu: 1, dua: 2, tiga: 3, empat: 4, lima: 5,
  one: 1, two: 2, three: 3, four: 4, five: 5,
  siji: 1, loro: 2, telu: 3, papat: 4, limo: 5, // Javanese
};

/** "5", "nilai 4", "⭐⭐⭐", "lima", "4/5" → the score, or null. */
export function parseScore(text: string): number | null {
  const stars = [...text].filter((c) => c === '⭐' || c === '★').length;
  if (stars >= 1 && stars <= 5 && !/\d/.test(text)) return stars;
  const normalized = normalizeText(text);
  const digits = normalized.match(/\d+/g) ?? [];
  const first = digits[0];
  if (first !== undefined && (digits.length === 1 || digits[1] === '5')) {
    const n = Number(first);
    return n >= 1 && n <= 5 ? n : null;
  }
  for (const word of normalized.split(' ')) {
    const n = NUMBER_WORDS[word];
    if (n !== undefined) return n;
  }
  return null;
}

/**
 * Entering the complaint flow with a message that already tells the story ("sy mau komplen,
 * kemarin sudah setor angsuran 500rb tapi belum tercatat") files it as it is.
 */
export const complaintFromMessage: Action = async (ctx) => {
  const member = requireMember(ctx);
  const text = ctx.input.trim();
  if (normalizeText(text).split(' ').length < 7 || text.length > 2000) return {};
  const { ticket } = await ctx.services.feedback.fileComplaint(member, ctx.message.channel, text);
  return { outcome: 'filed', vars: { ticket } };
};

export const fileComplaint: Action = async (ctx) => {
  const member = requireMember(ctx);
  const text = ctx.input.trim();
  const normalized = normalizeText(text);
  if (normalized.replace(/\s/g, '').length < 10 || normalized.split(' ').length < 3) return { outcome: 'too_short' };
  const { ticket } = await ctx.services.feedback.fileComplaint(member, ctx.message.channel, text);
  return { outcome: 'filed', vars: { ticket } };
};

export const saveRating: Action = async (ctx) => {
  const member = requireMember(ctx);
  const score = parseScore(ctx.input);
  if (score === null) return { outcome: 'invalid' };
  await ctx.services.feedback.rate(member, ctx.message.channel, score);
  return { outcome: score >= 4 ? 'saved_high' : score === 3 ? 'saved_mid' : 'saved_low', vars: { score: String(score) } };
};

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
  const phone = ctx.message.verifiedPhone;
  const members = new Map((phone ? await ctx.services.members.findActiveByPhone(phone) : []).map((m) => [m.id, m]));
  if (ctx.member) members.set(ctx.member.id, ctx.member);
  if (members.size === 0) return { outcome: 'not_member' };
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
