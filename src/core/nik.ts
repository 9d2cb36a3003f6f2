/**
 * NIK (Nomor Induk Kependudukan): 16 digits, kept as text. Excel keeps 15 significant digits,
 * so a NIK that went through a numeric cell comes back as 3.51312E+15 or with its last digit
 * rounded to 0. Those are reported, never stored.
 *
 * A plain CSV cannot say whether one trailing 0 was typed or produced by Excel, and the last
 * four digits of a NIK are a serial number, so about one genuine NIK in ten ends in 0. One
 * NIK cannot be judged; a column can (see `excelRoundedColumn`).
 */

export type NikResult =
  | { ok: true; nik: string; /** Ends in 0 and nothing proves the digit was typed. */ unprovenZero: boolean; /** Typed as text (apostrophe or text cell): digits as entered. */ proven: boolean }
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
  const proven = markedText || typedText;
  return { ok: true, nik: value, proven, unprovenZero: !proven && value.endsWith('0') };
}

/** Share of genuine NIKs whose serial ends in 0. */
const GENUINE_ZERO_SHARE = 0.1;

/**
 * Whether a column with `zeros` unproven NIKs ending in 0 among `unproven` unproven NIKs is
 * Excel's rounding, not chance: most of them end in 0 (Excel rounds every 16-digit number to
 * a last 0), and seeing that many zeros among genuine NIKs (binomial tail, p = 0.1) has a
 * chance of one in a thousand or less. One zero in one NIK is accepted (10%); three of
 * three, or 60 of 100, are refused; 12% of 20,000 is a genuine file.
 */
export function excelRoundedColumn(zeros: number, unproven: number): boolean {
  if (zeros === 0 || zeros * 2 <= unproven) return false;
  return binomialTail(zeros, unproven, GENUINE_ZERO_SHARE) <= 0.0011;
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed in log space so large n does not underflow. */
function binomialTail(k: number, n: number, p: number): number {
  if (k <= n * p) return 1;
  const logP = Math.log(p);
  const logQ = Math.log(1 - p);
  let logTerm = logChoose(n, k) + k * logP + (n - k) * logQ;
  let sum = 0;
  for (let i = k; i <= n; i++) {
    sum += Math.exp(logTerm);
    if (Math.exp(logTerm) < 1e-18 * sum) break;
    // term(i+1) = term(i) · (n−i)/(i+1) · p/q
    logTerm += Math.log((n - i) / (i + 1)) + logP - logQ;
  }
  return Math.min(1, sum);
}

function logChoose(n: number, k: number): number {
  let value = 0;
  for (let i = 1; i <= k; i++) value += Math.log((n - k + i) / i);
  return value;
}
