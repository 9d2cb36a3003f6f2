/** Verification: by the channel's verified phone, by choosing a cooperative, or by activation code. */
import { formatDateTime } from '../format.ts';
import { MEMBER_NUMBER } from '../member-number.ts';
import { normalizeText } from '../text-match.ts';
import type { Action, ActionContext } from './types.ts';
import type { MemberRef, VerificationMethod } from '../ports.ts';


function lockedVars(ctx: ActionContext, until: Date) {
  return { until: formatDateTime(until, ctx.identity.member?.timezone ?? ctx.timeZone, ctx.language) };
}

function isLocked(ctx: ActionContext): Date | null {
  const until = ctx.identity.lockedUntil;
  return until && until > ctx.now ? until : null;
}

/** How this message's phone was verified: the channel's sender number, or a shared contact. */
function phoneMethod(ctx: ActionContext): VerificationMethod {
  return ctx.message.phoneVerifiedBy ?? 'phone';
}

/**
 * Telegram: a step by phone (listing, switching, stopping messages) whose phone is not proven
 * now asks for the member's own contact again, and resumes once it arrives. The remembered
 * number may be someone else's by now.
 */
export function askContactAgain(ctx: ActionContext, resume: string): { outcome: string } | null {
  if (ctx.message.verifiedPhone || !ctx.message.rememberedPhone || !ctx.message.canRequestContact) return null;
  ctx.session.resume = resume;
  return { outcome: 'share_contact' };
}

/**
 * The members with the proven phone on file whom its proof covers (InboundMessage.phoneCovers),
 * and whether the file gives the phone to others the proof does not cover (reaching them needs
 * a fresh contact). Never a member the phone was not on file for when it was proven.
 */
export async function provenMemberships(ctx: ActionContext): Promise<{ covered: MemberRef[]; uncovered: number }> {
  const phone = ctx.message.verifiedPhone;
  if (!phone) return { covered: [], uncovered: 0 };
  const onFile = await ctx.services.members.findActiveByPhone(phone);
  const covers = ctx.message.phoneCovers;
  if (!covers) return { covered: onFile, uncovered: 0 };
  const covered = onFile.filter((m) => covers.includes(m.id));
  return { covered, uncovered: onFile.length - covered.length };
}

/** Telegram: the proven phone is on file for members its proof does not cover: ask for the contact afresh. */
function askFreshContact(ctx: ActionContext, uncovered: number, resume: string): { outcome: string } | null {
  if (uncovered === 0 || !ctx.message.canRequestContact) return null;
  ctx.session.resume = resume;
  return { outcome: 'share_contact' };
}

/** Link this channel identity to a member, and say so in the audit log. */
async function bindVerified(ctx: ActionContext, member: MemberRef, method: VerificationMethod, how: string = method): Promise<void> {
  ctx.setIdentity(await ctx.services.identities.bindMember(ctx.identity, member.id, method, ctx.now));
  await ctx.services.audit.record({
    actor: `member:${member.id}`,
    action: 'member.verify',
    koperasiId: member.koperasiId,
    // Which channel identity was linked, and how: the code, or how its phone was proven.
    detail: { channel: ctx.message.channel, identityId: ctx.identity.id, method: how, ...(method !== 'code' && ctx.message.phoneProof ? { proof: ctx.message.phoneProof } : {}) },
  });
}

export const resolveIdentity: Action = async (ctx) => {
  if (ctx.member) return { outcome: 'verified' };
  const locked = isLocked(ctx);
  if (locked) return { outcome: 'locked', vars: lockedVars(ctx, locked) };
  const phone = ctx.message.verifiedPhone;
  // No phone from the channel: Telegram can ask for the member's own contact; otherwise (a
  // WhatsApp sender known only by LID, say) the activation code is the way.
  if (!phone) return { outcome: ctx.message.canRequestContact ? 'share_contact' : 'no_member_channel' };
  const { covered: members, uncovered } = await provenMemberships(ctx);
  // The file gives the phone to a member the proof was not made for: Telegram must vouch again.
  if (members.length === 0 && uncovered > 0 && ctx.message.canRequestContact) return { outcome: 'share_contact' };
  if (members.length === 0) {
    // The sender's own phone, on file only for a membership that ended: say so plainly.
    if (await ctx.services.members.onlyInactiveByPhone(phone)) return { outcome: 'inactive' };
    return { outcome: ctx.message.identityIsNumber ? 'code_not_here' : 'code' };
  }
  if (members.length > 1) return { outcome: 'choose' };
  const member = members[0]!;
  await bindVerified(ctx, member, phoneMethod(ctx));
  return { outcome: 'verified' };
};

/**
 * On the main menu: a phone that belongs to exactly one member is verified straight away, so the
 * greeting can use their name. Anything less certain waits until data is asked for.
 */
export const greet: Action = async (ctx) => {
  const phone = ctx.message.verifiedPhone;
  if (ctx.member || !phone || isLocked(ctx)) return {};
  const { covered: members, uncovered } = await provenMemberships(ctx);
  if (members.length !== 1 || uncovered > 0) return {};
  const member = members[0]!;
  await bindVerified(ctx, member, phoneMethod(ctx));
  return {};
};

export const listChoices: Action = async (ctx) => {
  const { covered: members } = await provenMemberships(ctx);
  ctx.session.choices = members.map((m) => m.id);
  ctx.session.memberships = members.map((m) => ({ id: m.id, words: koperasiWords(m) }));
  // Two memberships in one cooperative (a shared family phone) are told apart by name.
  const sameKoperasi = new Set(members.map((m) => m.koperasiId)).size < members.length;
  const lines = members.map(
    (m, i) => `${i + 1}. ${m.koperasiName}${sameKoperasi ? ` — ${m.name}` : ''} (${ctx.t('identity.member_number_label')} ${m.memberNumber})`,
  );
  return { vars: { choices: lines.join('\n') } };
};

export const chooseKoperasi: Action = async (ctx) => {
  const choices = ctx.session.choices ?? [];
  const phone = ctx.message.verifiedPhone;
  if (!phone) return { outcome: 'invalid' };
  // Re-check: the list was offered earlier, the member's phone may have changed since.
  const offered = (await provenMemberships(ctx)).covered.filter((m) => choices.includes(m.id));
  offered.sort((a, b) => choices.indexOf(a.id) - choices.indexOf(b.id));
  const member = pickOffered(ctx.input, offered, koperasiWords);
  if (!member) return { outcome: 'invalid' };
  delete ctx.session.choices;
  await bindVerified(ctx, member, phoneMethod(ctx));
  return { outcome: 'verified', vars: { koperasi_name: member.koperasiName } };
};

/**
 * Which of the cooperatives offered in a numbered list the answer picks: "2", "no 2", "pilih 1",
 * or "yg KSU", "kpri", "Paiton" (a word of one cooperative's name or code, and of no other).
 */
function pickOffered<T>(input: string, offered: readonly T[], wordsOf: (option: T) => string[]): T | undefined {
  const text = normalizeText(input);
  const number = /^(?:no|nomor|nomer|pilih|yang|yg)?\s*(\d{1,2})(?:\s+\w+)?$/.exec(text);
  if (number) return offered[Number(number[1]) - 1];
  const words = text.split(' ').filter((w) => w.length >= 3 && !['yang', 'koperasi', 'pilih'].includes(w));
  const named = offered.filter((option) => words.some((w) => wordsOf(option).includes(w)));
  return named.length === 1 ? named[0] : undefined;
}

/** Words that name a cooperative in a member's message: "kpri", "ksu", "sejahtera", "paiton". */
export function koperasiWords(member: { koperasiName: string; koperasiCode: string }): string[] {
  const generic = new Set(['koperasi', 'kop', 'dan', 'yang', 'bersama']);
  return [...new Set(normalizeText(`${member.koperasiName} ${member.koperasiCode}`).split(' '))].filter(
    (w) => w.length >= 3 && !generic.has(w) && !/^\d+$/.test(w),
  );
}

/**
 * A member of several cooperatives who names one ("rat ksu kapan", "saldo yg di KPRI") is
 * answered for that one: the same phone vouches for both memberships.
 */
/** The membership of this phone the text names, other than the one shown, that the proof still covers (a read only). */
async function namedMembership(ctx: ActionContext): Promise<MemberRef | null> {
  const memberships = ctx.session.memberships;
  const phone = ctx.message.verifiedPhone;
  if (!memberships || memberships.length < 2 || !phone || !ctx.member) return null;
  const words = normalizeText(ctx.input).split(' ');
  const named = memberships.filter((m) => m.words.some((w) => words.includes(w)));
  if (named.length !== 1 || named[0]!.id === ctx.member.id) return null;
  const member = await ctx.services.members.findById(named[0]!.id);
  if (!member || member.phone !== phone) return null;
  const covers = ctx.message.phoneCovers;
  if (covers && !covers.includes(member.id)) return null;
  return member;
}

/** followNamedKoperasi's probe: which cooperative it would switch to, switching nothing. */
export const probeNamedKoperasi: Action = async (ctx) => {
  const member = await namedMembership(ctx);
  return member ? { outcome: 'switched', vars: { koperasi_name: member.koperasiName } } : {};
};

export const followNamedKoperasi: Action = async (ctx) => {
  const member = await namedMembership(ctx);
  if (!member) return {};
  await bindVerified(ctx, member, phoneMethod(ctx), `${phoneMethod(ctx)} (named cooperative)`);
  return { outcome: 'switched', vars: { koperasi_name: member.koperasiName } };
};

/** "ganti koperasi": forget which of this phone's cooperatives was chosen, and ask again. */
export const switchKoperasi: Action = async (ctx) => {
  const ask = askContactAgain(ctx, 'switch_koperasi');
  if (ask) return ask;
  const { covered: members, uncovered } = await provenMemberships(ctx);
  // Other memberships of this phone the proof does not cover (a link covers its member only).
  const fresh = askFreshContact(ctx, uncovered, 'switch_koperasi');
  if (fresh) return fresh;
  if (members.length <= 1) return { outcome: 'single', vars: { koperasi_name: ctx.member?.koperasiName ?? members[0]?.koperasiName ?? '-' } };
  // The current link stays until another membership is chosen: on Telegram it may be what
  // proves the phone the choice is made by.
  ctx.session.resume = 'main';
  ctx.session.memberships = members.map((m) => ({ id: m.id, words: koperasiWords(m) }));
  return { outcome: 'choose' };
};

export const rememberMemberNumber: Action = async (ctx) => {
  const locked = isLocked(ctx);
  if (locked) return { outcome: 'locked', vars: lockedVars(ctx, locked) };
  // A link made by a code would pass with the number to its next holder (see identityIsNumber).
  if (ctx.message.identityIsNumber) return { outcome: 'code_not_here' };
  // "No. anggota: 004", "nomor 004" → "004"; a number that itself starts with NO stays whole.
  let memberNumber = ctx.input
    .trim()
    .replace(/^(?:no\.|no\s|nomor\s|nomer\s)\s*(?:anggota\s*)?:?\s*/i, '')
    .replace(/^anggota\s*:?\s*/i, '')
    .replace(/\s+/g, ' ');
  // In a sentence ("sy siti aminah no anggota 001, tolong cek saldo"), the number after "no"/"anggota".
  if (memberNumber.split(' ').length > 3) {
    const found = /(?:no\.?|nomor|nomer|anggota|member(?:\s+number|\s+no\.?)?)\s*(?:anggota)?\s*:?\s*([A-Za-z0-9][A-Za-z0-9.\-/]*\d[A-Za-z0-9.\-/]*)/i.exec(memberNumber);
    memberNumber = found?.[1]?.replace(/[.,]$/, '') ?? memberNumber;
  }
  // A member number has digits; "kapan rat" typed here is not one.
  // A 16-digit number is a NIK, not a member number: asking for the code would only spend a try.
  if (!MEMBER_NUMBER.test(memberNumber) || !/\d/.test(memberNumber) || memberNumber.split(' ').length > 3 || /^\d{16}$/.test(memberNumber)) {
    return { outcome: 'invalid' };
  }
  ctx.session.memberNumber = memberNumber;
  delete ctx.session.codeChoices;
  delete ctx.session.codeKoperasi;
  // The same member number waits for a code in several cooperatives: which one, before the code.
  const pending = await ctx.services.members.pendingCodeCooperatives(memberNumber, ctx.now);
  if (pending.length > 1) {
    ctx.session.codeChoices = pending.map((k) => ({ koperasiId: k.koperasiId, name: k.koperasiName, words: koperasiWords(k) }));
    return { outcome: 'choose_koperasi' };
  }
  return { outcome: 'ok' };
};

/** The cooperatives offered for the member number typed, as a numbered list. */
export const listCodeChoices: Action = async (ctx) => {
  const lines = (ctx.session.codeChoices ?? []).map((k, i) => `${i + 1}. ${k.name}`);
  return { vars: { choices: lines.join('\n') } };
};

/** "2", "yg KSU", "sejahtera": which of the offered cooperatives the code is for. */
export const chooseCodeKoperasi: Action = async (ctx) => {
  const chosen = pickOffered(ctx.input, ctx.session.codeChoices ?? [], (k) => k.words);
  if (!chosen) return { outcome: 'invalid' };
  delete ctx.session.codeChoices;
  ctx.session.codeKoperasi = chosen.koperasiId;
  return { outcome: 'ok' };
};

export const checkActivationCode: Action = async (ctx) => {
  const locked = isLocked(ctx);
  if (locked) return { outcome: 'locked', vars: lockedVars(ctx, locked) };
  const memberNumber = ctx.session.memberNumber;
  delete ctx.session.memberNumber;
  if (ctx.message.identityIsNumber) return { outcome: 'code_not_here' };
  const code = ctx.input.trim().replace(/^(?:kode\s*aktivasi|kodenya|kode|code)\s*(?:nya|saya|:)?\s*/i, '');
  const koperasiId = ctx.session.codeKoperasi;
  delete ctx.session.codeKoperasi;
  const member = memberNumber ? await ctx.services.members.redeemActivationCode(memberNumber, code, ctx.now, koperasiId) : null;
  if (!member) {
    const { lockedUntil } = await ctx.services.identities.recordFailure(ctx.identity, ctx.now);
    if (lockedUntil) return { outcome: 'locked', vars: lockedVars(ctx, lockedUntil) };
    return { outcome: 'wrong' };
  }
  await bindVerified(ctx, member, 'code');
  return { outcome: 'verified', vars: { member_name: member.name, koperasi_name: member.koperasiName } };
};
