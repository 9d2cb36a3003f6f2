/**
 * One-time activation codes, issued by an officer for a member whose channel cannot prove
 * their phone (a new number, a Telegram account without the shared contact), and the policy
 * that guards them and every verification: lock-out after wrong tries, a cap on guesses per
 * code, and which member a typed member number names. Only a keyed hash is stored (the store
 * hashes, see persistence/activation-code-key.ts); the code is shown once, to the officer.
 */
import { randomInt } from 'node:crypto';
import { USABLE_MEMBER_STATUSES } from '../core/member-number.ts';
import { auditRow } from './audit.ts';
import { DomainError } from './errors.ts';
import type { Domain } from './ports.ts';

/** Wrong verifications an identity may make before it is locked out for LOCK_MINUTES. */
export const MAX_FAILED_ATTEMPTS = 5;
export const LOCK_MINUTES = 30;
/**
 * Wrong guesses a code survives, counted atomically in the database (guesses sent at the same
 * moment cannot pass it). A guess counts against the code of the one member it names in each
 * cooperative (see designatedMembers), so spreading guesses over many phones is capped, while
 * "4" typed in one place cannot void "04", "004" and "0004" everywhere. The identity lock-out
 * (5) is the main defence; this one stops guessing spread over many phones (20 guesses against
 * 31^8 codes).
 */
export const MAX_CODE_ATTEMPTS = 20;
export const DEFAULT_VALID_DAYS = 7;

/** When a lock-out that begins now ends. */
export function lockedUntilAfter(at: Date): Date {
  return new Date(at.getTime() + LOCK_MINUTES * 60_000);
}

// No 0/O, 1/I/L: codes are read aloud and typed on phones.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function generateActivationCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * The member a typed member number names in each cooperative: the one with exactly that number
 * ("A-001" for "a-001" when there is no "a-001"), else, where the cooperative has no such number,
 * its only zero-padded form ("004" for "4"; with both "04" and "004" on file, neither: the member
 * types it as on their card). Member numbers are typed by hand.
 */
export function designatedMembers<T extends { koperasiId: number; memberNumber: string }>(typed: string, members: readonly T[]): T[] {
  const byKoperasi = new Map<number, T[]>();
  for (const member of members) byKoperasi.set(member.koperasiId, [...(byKoperasi.get(member.koperasiId) ?? []), member]);
  const named: T[] = [];
  for (const inKoperasi of byKoperasi.values()) {
    const exact = inKoperasi.find((m) => m.memberNumber === typed) ?? inKoperasi.find((m) => m.memberNumber === typed.toUpperCase());
    const padded = inKoperasi.filter((m) => m.memberNumber !== typed && m.memberNumber !== typed.toUpperCase());
    const one = exact ?? (padded.length === 1 ? padded[0] : undefined);
    if (one) named.push(one);
  }
  return named;
}

/**
 * Issue a code for a member. A new code replaces any earlier unused one, and ends every link
 * made with an earlier code: a new code is what an officer issues when a member lost or changed
 * their phone.
 */
export async function issueActivationCode(
  domain: Pick<Domain, 'members' | 'activationCodes'>,
  options: { koperasiCode: string; memberNumber: string; actor: string; now?: Date; validDays?: number },
): Promise<{ code: string; expiresAt: Date; memberName: string }> {
  const now = options.now ?? new Date();
  const member = await domain.members.byNumber(options.koperasiCode.trim().toUpperCase(), options.memberNumber.trim());
  if (!member) throw new DomainError('member_unknown', `Anggota nomor ${options.memberNumber} tidak ada di koperasi ${options.koperasiCode}.`);
  if (!USABLE_MEMBER_STATUSES.includes(member.status)) {
    throw new DomainError('member_not_usable', `Anggota nomor ${options.memberNumber} berstatus ${member.status.toLowerCase()}; kode aktivasi tidak diterbitkan.`);
  }
  const code = generateActivationCode();
  const expiresAt = new Date(now.getTime() + (options.validDays ?? DEFAULT_VALID_DAYS) * 86_400_000);
  await domain.activationCodes.issue({
    memberId: member.id,
    code,
    expiresAt,
    issuedBy: options.actor,
    now,
    audit: auditRow({ actor: options.actor, action: 'activation.issue', koperasiId: member.koperasiId, detail: { memberNumber: options.memberNumber, expiresAt: expiresAt.toISOString() } }),
  });
  return { code, expiresAt, memberName: member.name };
}
