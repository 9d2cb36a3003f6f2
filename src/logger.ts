/**
 * Structured logs with pino. Phone numbers, WhatsApp JIDs and NIKs are masked by what they look
 * like, under any key and in the message text itself, on every line: our own lines and the
 * libraries' (Baileys logs `pnUser`, `jid`, "Invalid LID-PN mapping: 628…"), because logs
 * travel further than the database does.
 */
import { pino, type Logger } from 'pino';
import { maskNik, maskPhone } from './core/format.ts';

export type { Logger };

const NIK_KEYS = new Set(['nik']);

/** Runs of 8+ digits (phones, NIKs, LIDs) inside any text: "6281******801". */
export function maskDigitRuns(text: string): string {
  return text.replace(/\+?\d{8,}/g, (run) => (run.replace('+', '').length === 16 ? maskNik(run) : maskPhone(run.replace('+', ''))));
}

// The user part of a WhatsApp JID, whatever its length: "6281234567801:12@s.whatsapp.net", "1203…@g.us", "…@lid".
const JID = /\b(\d+)((?::\d+)?@(?:s\.whatsapp\.net|c\.us|g\.us|lid|broadcast|newsletter))\b/g;
// An Indonesian mobile number as people write it: "0812-3456-7801", "+62 812 3456 7801", "62.812.3456.7801".
const WRITTEN_PHONE = /(?<![\d])(?:\+?62|0)[\s.-]?8\d(?:[\s.-]?\d){6,11}(?![\d])/g;

// Digits in groups, as a NIK is written on a form: "3513-1234-5678-0001", "35.13.12.345678.0001".
// Twelve digits or more, so dates and times ("2026-12-01 10:11") are left alone.
const GROUPED_DIGITS = /(?<![\d])\d{1,6}(?:[\s.-]\d{1,6}){1,6}(?![\d])/g;

/** Every personal identifier in a text masked: JIDs, phones as written, NIKs in groups, digit runs of 8 and more. */
export function maskText(text: string): string {
  return maskDigitRuns(
    text
      .replace(JID, (_, user: string, rest: string) => `${user.length > 8 ? maskPhone(user) : '****'}${rest}`)
      .replace(WRITTEN_PHONE, (phone) => maskPhone(phone.replace(/\D/g, '')))
      .replace(GROUPED_DIGITS, (run) => {
        const digits = run.replace(/\D/g, '');
        if (digits.length < 12) return run;
        return digits.length === 16 ? maskNik(digits) : maskPhone(digits);
      }),
  );
}

/** Mask personal identifiers in any value about to be logged (or written to the audit log). */
export function maskPersonalData(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  // A number of 8+ digits is as personal as the same digits in a string (a phone, a chat id).
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) >= 10_000_000 ? maskText(String(value)) : value;
  if (typeof value === 'bigint') return maskText(value.toString());
  if (value === null || typeof value !== 'object' || value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (depth > 8) {
    // Deeper than anything we log on purpose (a library's whole message): kept as masked text.
    try {
      return maskText(JSON.stringify(value) ?? '');
    } catch {
      return '[unserialisable]';
    }
  }
  if (Array.isArray(value)) return value.map((v) => maskPersonalData(v, depth + 1));
  if (value instanceof Error) {
    // Driver errors quote a query's parameters; library errors carry the JID they failed on.
    const masked = new Error(maskText(value.message));
    masked.name = value.name;
    masked.stack = value.stack ? maskText(value.stack) : undefined;
    for (const [key, v] of Object.entries(value)) (masked as unknown as Record<string, unknown>)[key] = maskPersonalData(v, depth + 1);
    if (value.cause !== undefined) masked.cause = maskPersonalData(value.cause, depth + 1);
    return masked;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // Keys too: Baileys logs maps keyed by phone ({ pairMap: { "62812…": "1900…" } }).
    out[maskText(key)] = typeof v === 'string' && NIK_KEYS.has(key) ? maskNik(v) : maskPersonalData(v, depth + 1);
  }
  return out;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: undefined,
      formatters: { log: (object) => maskPersonalData(object) as Record<string, unknown> },
      hooks: {
        // The message text and its interpolation arguments: "Invalid LID-PN mapping: 628…, …@lid".
        logMethod(args, method) {
          const masked = args.map((arg, i) => (typeof arg === 'string' ? maskText(arg) : i > 0 ? maskPersonalData(arg) : arg));
          return method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination(2),
  );
  // A child's fixed fields (Baileys binds the JID it works on) are written as given, past the
  // formatters: mask them on the way in. pino makes a child with Object.create(parent), so every
  // descendant inherits this.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, maskPersonalData(bindings) as pino.Bindings, options);
  } as Logger['child'];
  return logger;
}
