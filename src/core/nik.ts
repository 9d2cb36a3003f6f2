/**
 * NIK (Nomor Induk Kependudukan): 16 digits, kept as text. Excel keeps 15 significant digits,
 * so a NIK that went through a numeric cell comes back as 3.51312E+15 or with its last digit
 * rounded to 0. Those are reported, never stored.
 */

export type NikResult =
  | { ok: true; nik: string }
  | { ok: false; reason: 'scientific' | 'rounded' | 'length' | 'not_digits' };

export interface NikInput {
  text: string;
  /** True when the spreadsheet cell held a number rather than text. */
  wasNumeric?: boolean;
  /** True when the spreadsheet cell was typed as text, so its last digit is as entered. */
  typedText?: boolean;
}

export function normalizeNik({ text, wasNumeric = false, typedText = false }: NikInput): NikResult {
  let value = text.trim();
  // A leading apostrophe is how Excel users mark a cell as text; it proves the digits are whole.
  const markedText = value.startsWith("'");
  if (markedText) value = value.slice(1);
  if (/^\d+(?:[.,]\d+)?e\+?\d+$/i.test(value)) return { ok: false, reason: 'scientific' };
  value = value.replace(/[\s.-]/g, '');
  if (!/^\d+$/.test(value)) return { ok: false, reason: 'not_digits' };
  if (value.length !== 16) return { ok: false, reason: 'length' };
  if (wasNumeric) return { ok: false, reason: 'rounded' };
  // Plain CSV cannot say whether a trailing 0 was typed or produced by Excel's rounding.
  if (!markedText && !typedText && value.endsWith('0')) return { ok: false, reason: 'rounded' };
  return { ok: true, nik: value };
}
