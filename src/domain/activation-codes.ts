/**
 * One-time activation codes, issued by an officer for a member whose channel cannot prove
 * their phone (a new number, a Telegram account without the shared contact). Only a keyed hash
 * is stored (see activation-code-key.ts); the code is shown once, to the officer who hands it over.
 */
import { randomInt } from 'node:crypto';
import type { Db } from '../persistence/database.ts';
import { hashActivationCode } from '../persistence/activation-code-key.ts';
import { USABLE_MEMBER_STATUSES } from '../core/member-number.ts';

// No 0/O, 1/I/L: codes are read aloud and typed on phones.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function generateActivationCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

export class ActivationError extends Error {
  override name = 'ActivationError';
}

export async function issueActivationCode(
  db: Db,
  options: { koperasiCode: string; memberNumber: string; actor: string; now?: Date; validDays?: number },
): Promise<{ code: string; expiresAt: Date; memberName: string }> {
  const now = options.now ?? new Date();
  const member = await db.member.findFirst({
    where: { memberNumber: options.memberNumber.trim(), koperasi: { code: options.koperasiCode.trim().toUpperCase() } },
    select: { id: true, name: true, status: true, koperasiId: true },
  });
  if (!member) throw new ActivationError(`Anggota nomor ${options.memberNumber} tidak ada di koperasi ${options.koperasiCode}.`);
  if (!USABLE_MEMBER_STATUSES.includes(member.status)) {
    throw new ActivationError(`Anggota nomor ${options.memberNumber} berstatus ${member.status.toLowerCase()}; kode aktivasi tidak diterbitkan.`);
  }
  const code = generateActivationCode();
  const expiresAt = new Date(now.getTime() + (options.validDays ?? 7) * 86_400_000);
  await db.$transaction([
    // A new code replaces any earlier unused one, and ends every link made with an earlier
    // code: a new code is what an officer issues when a member lost or changed their phone.
    db.activationCode.updateMany({ where: { memberId: member.id, usedAt: null, expiresAt: { gt: now } }, data: { expiresAt: now } }),
    db.channelIdentity.updateMany({ where: { memberId: member.id, verifiedBy: 'code' }, data: { memberId: null, verifiedBy: null, verifiedAt: null } }),
    db.activationCode.create({ data: { memberId: member.id, codeHash: hashActivationCode(db, code), expiresAt, issuedBy: options.actor } }),
    db.auditLog.create({
      data: {
        actor: options.actor,
        action: 'activation.issue',
        koperasiId: member.koperasiId,
        detail: JSON.stringify({ memberNumber: options.memberNumber, expiresAt: expiresAt.toISOString() }),
      },
    }),
  ]);
  return { code, expiresAt, memberName: member.name };
}
