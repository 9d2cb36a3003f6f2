/**
 * Parsing the values bookkeeping exports contain: amounts as "Rp 1.250.000,00" or 1250000,
 * dates as dd/mm/yyyy, yyyy-mm-dd or Excel dates, times as 09.00. Every parser returns either
 * a value or an Indonesian sentence saying what is wrong with the cell.
 */
import { formatDate } from '../core/format.ts';
import type { Cell } from './table.ts';

/** A value, possibly with a note the clerk should see (not a problem); or what is wrong. */
export type Parsed<T> = { ok: true; value: T; note?: string } | { ok: false; error: string };

const ok = <T>(value: T, note?: string): Parsed<T> => (note === undefined ? { ok: true, value } : { ok: true, value, note });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** Upper bound for any amount: a trillion rupiah is far beyond any member's balance. */
export const MAX_AMOUNT = 1_000_000_000_000_000n;

export interface AmountOptions {
  /** A loss may be written "(12.500.000)" or "-12.500.000" (a year's SHU). */
  signed?: boolean;
  /**
   * Sen are rounded to whole rupiah, half up, instead of refused: a cooperative's yearly
   * accounts and its SHU list are computed to the sen; what the members are shown is rupiah.
   */
  roundSen?: boolean;
}

/** Integer rupiah from "Rp 1.250.000,00", "1.250.000", "1250000", "1,250,000.00" or a numeric cell. */
export function parseAmount(cell: Cell, options: AmountOptions = {}): Parsed<bigint> {
  if (cell.number !== undefined) {
    if (!Number.isFinite(cell.number)) return fail('bukan angka');
    const rounded = Math.round(cell.number);
    if (Math.abs(cell.number - rounded) > 0.001 && !options.roundSen) return fail(`nominal harus rupiah bulat, tertulis ${cell.text}`);
    if (!Number.isSafeInteger(rounded)) return fail('nominal terlalu besar');
    return checkRange(BigInt(rounded), cell.text, options);
  }
  let text = cell.text.trim().replace(/\s+/g, '');
  if (text === '') return fail('kosong');
  // Accounting exports write zero as "-" and whole rupiah as "Rp 250.000,-".
  if (/^(rp\.?)?-$/i.test(text)) return ok(0n);
  text = text.replace(/[,.]-$/, '');
  let negative = false;
  if (/^\(.*\)$/.test(text)) {
    negative = true;
    text = text.slice(1, -1);
  }
  if (text.startsWith('-')) {
    negative = true;
    text = text.slice(1);
  }
  text = text.replace(/^rp\.?/i, '').replace(/^idr/i, '');
  if (text.startsWith('-')) {
    negative = true;
    text = text.slice(1);
  }
  let integer: string;
  let fraction = '';
  if (/^\d{1,3}(\.\d{3})+(,\d{1,2})?$/.test(text) || /^\d+(,\d{1,2})?$/.test(text)) {
    // Indonesian: dots group thousands, a comma starts the sen.
    [integer = '', fraction = ''] = text.replace(/\./g, '').split(',');
  } else if (/^\d{1,3}(,\d{3})+(\.\d{1,2})?$/.test(text) || /^\d+\.\d{1,2}$/.test(text)) {
    // English-style, as some Excel installations export: commas group, a dot starts the cents.
    [integer = '', fraction = ''] = text.replace(/,/g, '').split('.');
  } else {
    return fail(`"${cell.text.trim()}" bukan nominal rupiah (contoh: 1.250.000 atau Rp 1.250.000,00)`);
  }
  if (fraction !== '' && /[1-9]/.test(fraction) && !options.roundSen) return fail(`nominal harus rupiah bulat, tertulis ${cell.text.trim()}`);
  // Half a rupiah and more rounds up: ",50" and ",5" alike.
  const value = BigInt(integer) + (fraction !== '' && Number(fraction.padEnd(2, '0')) >= 50 ? 1n : 0n);
  return checkRange(negative ? -value : value, cell.text, options);
}

function checkRange(value: bigint, text: string, options: AmountOptions = {}): Parsed<bigint> {
  if (value < 0n && !options.signed) return fail(`nominal tidak boleh negatif (${text.trim()})`);
  if (-value >= MAX_AMOUNT) return fail(`nominal ${text.trim()} terlalu besar`);
  if (value >= MAX_AMOUNT) return fail(`nominal ${text.trim()} terlalu besar`);
  return ok(value);
}

function isoDate(y: number, m: number, d: number): Parsed<string> {
  if (y < 1900 || y > 2100) return fail(`tahun ${y} tidak masuk akal`);
  if (m < 1 || m > 12) return fail(`bulan ${m} tidak ada`);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d < 1 || d > last) return fail(`tanggal ${d}/${m}/${y} tidak ada di kalender`);
  return ok(`${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
}

const MONTH_NAMES: Record<string, number> = {
  jan: 1, januari: 1, january: 1, feb: 2, februari: 2, pebruari: 2, february: 2, mar: 3, maret: 3, march: 3,
  apr: 4, april: 4, mei: 5, may: 5, jun: 6, juni: 6, june: 6, jul: 7, juli: 7, july: 7, agu: 8, agt: 8, agus: 8,
  agustus: 8, aug: 8, august: 8, sep: 9, sept: 9, september: 9, okt: 10, oktober: 10, oct: 10, october: 10,
  nov: 11, nopember: 11, november: 11, des: 12, desember: 12, dec: 12, december: 12,
};

/** 1–12 for "Januari", "Jan", "Pebruari", "December"…; undefined for anything else. */
export function monthNumber(name: string): number | undefined {
  return MONTH_NAMES[name.toLowerCase()];
}

const WEEKDAYS = /^(senin|selasa|rabu|kamis|jum'?at|jumat|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|friday|saturday|sunday|sen|sel|rab|kam|jum|sab|min)\b[,.]?\s*/i;

/** Excel counts days from 30 December 1899 (its 1900 leap-year bug included). */
const EXCEL_EPOCH_UTC = Date.UTC(1899, 11, 30);

/** An Excel date serial (a General-formatted date cell: 42064 = 1 March 2015) as a calendar date. */
function excelSerial(serial: number, shown: string): Parsed<string> {
  const date = new Date(EXCEL_EPOCH_UTC + Math.round(serial) * 86_400_000);
  const parsed = isoDate(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
  if (!parsed.ok) return parsed;
  return ok(parsed.value, `${shown} dibaca sebagai tanggal Excel (angka seri): ${formatDate(parsed.value)}`);
}

/**
 * A calendar date "YYYY-MM-DD" from dd/mm/yyyy, dd-mm-yyyy, yyyy-mm-dd, "5 Januari 2026",
 * "Sabtu, 20 Februari 2027", an Excel date cell, or an Excel serial number (with a note).
 */
export function parseDate(cell: Cell): Parsed<string> {
  if (cell.date) return isoDate(cell.date.getUTCFullYear(), cell.date.getUTCMonth() + 1, cell.date.getUTCDate());
  if (cell.number !== undefined && cell.number >= 10_000 && cell.number <= 80_000) {
    return excelSerial(Math.floor(cell.number), String(cell.number));
  }
  const text = cell.text.trim().replace(WEEKDAYS, '').replace(/\s+/g, ' ');
  if (text === '') return fail('kosong');
  // A General-formatted date cell exported to CSV: five digits, 1927 to 2119.
  if (/^\d{5}$/.test(text) && Number(text) >= 10_000 && Number(text) <= 80_000) return excelSerial(Number(text), text);
  let match = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$/.exec(text);
  if (match) return isoDate(Number(match[1]), Number(match[2]), Number(match[3]));
  match = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?: \d{1,2}[.:]\d{2}(?:[.:]\d{2})?)?$/.exec(text);
  if (match) {
    const [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
    // 12/25/2019: month and day swapped, the American way Excel writes with an English locale.
    if (month > 12 && day <= 12 && month <= 31) {
      return fail(`"${text}" tampaknya ditulis bulan/tanggal/tahun (cara Amerika); di sini dibaca tanggal/bulan/tahun. Ubah format kolom tanggal di Excel ke tanggal/bulan/tahun, lalu ekspor lagi`);
    }
    return isoDate(year, month, day);
  }
  match = /^(\d{1,2})[\s-]+([a-z]+)\.?[\s-]+(\d{4})$/i.exec(text);
  if (match) {
    const month = MONTH_NAMES[match[2]!.toLowerCase()];
    if (month) return isoDate(Number(match[3]), month, Number(match[1]));
  }
  if (/^\d{1,2}[-/.]\d{1,2}[-/.]\d{2}$/.test(text)) return fail(`tahun pada "${text}" harus ditulis 4 angka (dd/mm/yyyy)`);
  return fail(`"${cell.text.trim()}" bukan tanggal (gunakan dd/mm/yyyy, yyyy-mm-dd atau 20 Februari 2027)`);
}

/** A wall-clock time from "09.00", "9:30", "09.00 WIB", "0900" or an Excel time cell. */
export function parseTime(cell: Cell): Parsed<{ hour: number; minute: number }> {
  if (cell.date) return ok({ hour: cell.date.getUTCHours(), minute: cell.date.getUTCMinutes() });
  if (cell.number !== undefined && cell.number >= 0 && cell.number < 1) {
    const minutes = Math.round(cell.number * 24 * 60);
    return ok({ hour: Math.floor(minutes / 60), minute: minutes % 60 });
  }
  // "Pukul 08.00 WIB", "09.00 - selesai", "08:30 s/d 12:00": the start time.
  const text = cell.text
    .trim()
    .replace(/^(pukul|pkl\.?|jam)\s*/i, '')
    .replace(/\s*(-|–|s\s*\/\s*d|s\.d\.?|sampai)\s*(selesai|\d{1,2}[.:]\d{2}).*$/i, '')
    .replace(/\s*(wib|wita|wit)$/i, '');
  if (text === '') return fail('kosong');
  const match = /^(\d{1,2})(?:[.:](\d{2}))?$/.exec(text) ?? /^(\d{2})(\d{2})$/.exec(text);
  if (!match) return fail(`"${cell.text.trim()}" bukan jam (contoh: 09.00)`);
  const hour = Number(match[1]);
  const minute = Number(match[2] ?? 0);
  if (hour > 23 || minute > 59) return fail(`jam ${cell.text.trim()} tidak ada`);
  return ok({ hour, minute });
}

/** Cells that say "nothing here": "-", "--", "belum ada", "tidak ada". */
export function isNothing(text: string): boolean {
  return /^(-+|—|–|belum ada|tidak ada|tdk ada|kosong|n\/?a|nihil)$/i.test(text.trim());
}

/** A whole number within bounds. */
export function parseInteger(cell: Cell, min: number, max: number, unit?: RegExp): Parsed<number> {
  let text = cell.number !== undefined ? String(cell.number) : cell.text.trim().replace(/\.0+$/, '');
  if (unit) text = text.replace(unit, '').trim();
  if (text === '') return fail('kosong');
  if (!/^-?\d+$/.test(text)) return fail(`"${cell.text.trim()}" bukan bilangan bulat`);
  const value = Number(text);
  if (value < min || value > max) return fail(`harus antara ${min} dan ${max}`);
  return ok(value);
}

/** A count of people from "1.234", "1,234", "1234 orang" or a numeric cell (dots and commas group thousands). */
export function parseCount(cell: Cell, max: number): Parsed<number> {
  if (cell.number !== undefined) return parseInteger(cell, 0, max);
  const text = cell.text.trim().replace(/\s*(orang|org\.?|anggota|jiwa)$/i, '');
  const grouped = /^\d{1,3}([.,]\d{3})+$/.test(text) ? text.replace(/[.,]/g, '') : text;
  return parseInteger({ text: grouped }, 0, max);
}

/**
 * A percentage as basis points (hundredths of a percent), exactly: "3,25", "3.25%", "3,25 %",
 * "0" → 325, 325, 325, 0. A spreadsheet cell formatted as a percentage holds the fraction
 * (0.0325) and shows "3.25%": its shown text is read. Between 0 and 100.
 */
export function parsePercentBasisPoints(cell: Cell): Parsed<number> {
  const shown = cell.text.trim();
  let text = shown;
  if (cell.number !== undefined && !shown.includes('%')) text = String(Math.round(cell.number * 100) / 100);
  text = text.replace(/\s*%$/, '').trim();
  const match = /^(\d{1,3})(?:[.,](\d{1,2}))?$/.exec(text);
  if (!match) return fail(`"${shown}" bukan persentase (contoh: 3,25 atau 3,25%)`);
  const value = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  if (value > 10_000) return fail(`${shown} lebih dari 100%`);
  return ok(value);
}
