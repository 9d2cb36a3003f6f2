/**
 * Structured logs with pino. Phone numbers and NIKs are masked wherever they appear in a
 * logged object, because logs travel further than the database does.
 */
import { pino, type Logger } from 'pino';
import { maskNik, maskPhone } from './core/format.ts';

export type { Logger };

const PHONE_KEYS = new Set(['phone', 'externalUserId', 'chatId', 'from', 'to', 'sender']);
const NIK_KEYS = new Set(['nik']);

/** Runs of 8+ digits (phones, NIKs) inside any text: "62812****7801". */
export function maskDigitRuns(text: string): string {
  return text.replace(/\+?\d{8,}/g, (run) => (run.replace('+', '').length === 16 ? maskNik(run) : maskPhone(run.replace('+', ''))));
}

/** Mask personal identifiers in any value about to be logged. */
export function maskPersonalData(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskPersonalData(v, depth + 1));
  if (value instanceof Error) {
    // Driver errors can quote a query's parameters: keep the stack, mask long digit runs.
    const masked = new Error(maskDigitRuns(value.message));
    masked.name = value.name;
    masked.stack = value.stack ? maskDigitRuns(value.stack) : undefined;
    return masked;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // "6281234567801@s.whatsapp.net" as well as "6281234567801".
    if (typeof v === 'string' && PHONE_KEYS.has(key)) out[key] = maskDigitRuns(v);
    else if (typeof v === 'string' && NIK_KEYS.has(key)) out[key] = maskNik(v);
    else if (typeof v === 'bigint') out[key] = v.toString();
    else out[key] = maskPersonalData(v, depth + 1);
  }
  return out;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      formatters: { log: (object) => maskPersonalData(object) as Record<string, unknown> },
    },
    destination ?? pino.destination(2),
  );
}
