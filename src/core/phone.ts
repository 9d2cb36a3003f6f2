/**
 * Indonesian mobile numbers arrive as 0812-3456-7890, +62 812 3456 7890, 62812…, (0812) …,
 * or, after Excel ate the leading zero, 81234567890. All normalise to "62812…" (digits only).
 */

export type PhoneResult = { ok: true; phone: string } | { ok: false; reason: 'empty' | 'scientific' | 'not_mobile' | 'invalid' };

export function normalizePhone(raw: string): PhoneResult {
  const text = raw.trim();
  if (text === '') return { ok: false, reason: 'empty' };
  // Excel turns a long number into 6.28123E+12: the digits are gone for good.
  if (/^\d+(?:[.,]\d+)?e\+?\d+$/i.test(text)) return { ok: false, reason: 'scientific' };
  if (!/^[+\d\s().\-/]+$/.test(text)) return { ok: false, reason: 'invalid' };
  let digits = text.replace(/\D/g, '');
  if (text.startsWith('+') && !digits.startsWith('62')) return { ok: false, reason: 'not_mobile' };
  if (digits.startsWith('620')) digits = `62${digits.slice(3)}`;
  else if (digits.startsWith('0')) digits = `62${digits.slice(1)}`;
  else if (digits.startsWith('8')) digits = `62${digits}`;
  if (!digits.startsWith('628')) return { ok: false, reason: 'not_mobile' };
  // 08xx numbers have 10 to 13 digits including the leading zero.
  const national = digits.length - 2;
  if (national < 9 || national > 12) return { ok: false, reason: 'invalid' };
  return { ok: true, phone: digits };
}

/** A phone as a person reads it: "0812-3456-7890". */
export function displayPhone(phone: string): string {
  const local = `0${phone.slice(2)}`;
  return local.replace(/^(\d{4})(\d{4})(\d+)$/, '$1-$2-$3');
}

/**
 * A number a messaging platform gives in international form (WhatsApp's JID user, Telegram's
 * contact phone_number: country code first, "+" optional). Only the separators are dropped: no
 * guessing as for typed numbers, where "812…" means 62812…. Read that way, a Japanese
 * "81234567801" would become the Indonesian 6281234567801 and pass as someone else.
 */
export function phoneFromInternational(raw: string): string | undefined {
  const digits = raw.replace(/[\s().+-]/g, '');
  return /^\d{6,15}$/.test(digits) ? digits : undefined;
}
