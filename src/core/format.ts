/**
 * Indonesian formatting of money, dates and times, and masking of personal data for logs.
 * Money is integer rupiah as bigint; no floating point touches it.
 */

export function formatRupiah(amount: bigint): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString();
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${negative ? '-' : ''}Rp${grouped}`;
}

const ZONE_ABBREVIATION: Record<string, string> = {
  'Asia/Jakarta': 'WIB',
  'Asia/Pontianak': 'WIB',
  'Asia/Makassar': 'WITA',
  'Asia/Jayapura': 'WIT',
};

const MONTHS: Record<'id' | 'en', readonly string[]> = {
  id: ['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September', 'Oktober', 'November', 'Desember'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};
const WEEKDAYS: Record<'id' | 'en', readonly string[]> = {
  id: ['Minggu', 'Senin', 'Selasa', 'Rabu', 'Kamis', 'Jumat', 'Sabtu'],
  en: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
};

export type Language = 'id' | 'en';

export interface LocalParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  weekday: number; // 0 = Sunday
}

const partFormatters = new Map<string, Intl.DateTimeFormat>();

/** Calendar fields of an instant as seen in a time zone. */
export function localParts(instant: Date, timeZone: string): LocalParts {
  let formatter = partFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
      hourCycle: 'h23',
    });
    partFormatters.set(timeZone, formatter);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(instant)) parts[part.type] = part.value;
  const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: weekdays.indexOf(parts.weekday ?? 'Sun'),
  };
}

/** "Selasa, 10 September 2019, 09.00 WIB" */
export function formatDateTime(instant: Date, timeZone: string, lang: Language = 'id'): string {
  const p = localParts(instant, timeZone);
  const zone = ZONE_ABBREVIATION[timeZone] ?? timeZone;
  const hh = String(p.hour).padStart(2, '0');
  const mm = String(p.minute).padStart(2, '0');
  const date = `${WEEKDAYS[lang][p.weekday]}, ${p.day} ${MONTHS[lang][p.month - 1]} ${p.year}`;
  return lang === 'id' ? `${date}, ${hh}.${mm} ${zone}` : `${date}, ${hh}:${mm} ${zone}`;
}

/** A calendar date "2026-11-05" → "5 November 2026" (with the weekday when asked). */
export function formatDate(isoDate: string, lang: Language = 'id', withWeekday = false): string {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const text = `${d} ${MONTHS[lang][m - 1]} ${y}`;
  if (!withWeekday) return text;
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return `${WEEKDAYS[lang][weekday]}, ${text}`;
}

/** A file's size as people read it: "850 KB", "1,2 MB" (English: "1.2 MB"). */
export function formatFileSize(bytes: number, lang: Language = 'id'): string {
  const locale = lang === 'en' ? 'en-US' : 'id-ID';
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024)).toLocaleString(locale)} KB`;
  return `${(bytes / (1024 * 1024)).toLocaleString(locale, { maximumFractionDigits: 1 })} MB`;
}

/** Today's calendar date in a time zone, as "YYYY-MM-DD". */
export function localDate(instant: Date, timeZone: string): string {
  const p = localParts(instant, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** A calendar date plus (or minus) whole days: "2026-12-10" + -3 = "2026-12-07". */
export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Whole days from calendar date a to calendar date b (b - a). */
export function daysBetween(a: string, b: string): number {
  const toUtc = (iso: string) => {
    const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
    return Date.UTC(y, m - 1, d);
  };
  return Math.round((toUtc(b) - toUtc(a)) / 86_400_000);
}

/**
 * "6281234567890" → "6281******890": the country and operator prefix and the last three
 * digits, enough to recognise one's own number, never fewer than six digits hidden.
 */
export function maskPhone(phone: string): string {
  if (phone.length <= 8) return '****';
  const head = Math.max(0, Math.min(4, phone.length - 9));
  return `${phone.slice(0, head)}******${phone.slice(-3)}`;
}

/** "3513124509800001" → "3513**********01": the province and regency, and two digits. */
export function maskNik(nik: string): string {
  const digits = nik.replace(/\D/g, '');
  if (digits.length < 10) return '****';
  return `${digits.slice(0, 4)}**********${digits.slice(-2)}`;
}

/**
 * The instant at which a wall-clock date and time happen in a time zone. Indonesia has no
 * daylight saving, but this works for any zone: it corrects a first guess by the zone's offset.
 */
export function zonedTimeToUtc(isoDate: string, hour: number, minute: number, timeZone: string): Date {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const wallAsUtc = Date.UTC(y, m - 1, d, hour, minute);
  let guess = wallAsUtc;
  for (let i = 0; i < 2; i++) {
    const p = localParts(new Date(guess), timeZone);
    const seenAsUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    guess += wallAsUtc - seenAsUtc;
  }
  return new Date(guess);
}

/** A calendar date plus months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(isoDate: string, months: number): string {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/**
 * An ISO-8601 instant typed by a person: "2026-12-01T08:00+07:00", "…Z", or without an offset
 * ("2026-12-01T08:00", "2026-12-01 08:00", "2026-12-01"), which is read in `timeZone`. Null when
 * it is not a real date and time (31 February, hour 25, free text).
 */
export function parseIsoInstant(text: string, timeZone: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', offset] = match;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (offset) {
    const value = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset.toUpperCase() === 'Z' ? 'Z' : offset.length === 5 ? `${offset.slice(0, 3)}:${offset.slice(3)}` : offset}`);
    return Number.isNaN(value.getTime()) ? null : value;
  }
  return new Date(zonedTimeToUtc(`${y}-${mo}-${d}`, hour, minute, timeZone).getTime() + second * 1000);
}
