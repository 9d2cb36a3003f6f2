/**
 * The environment, validated once at start-up. Every problem becomes one plain sentence, so a
 * clerk who mistyped a variable learns which one and why.
 */
import { z } from 'zod';

const ZBooleanFlag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'ya', 'tidak', ''].includes(v), {
    message: 'harus true atau false',
  })
  .transform((v) => ['1', 'true', 'yes', 'ya'].includes(v));

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const ZConfig = z.object({
  DATABASE_URL: z
    .string()
    .trim()
    .default('file:./data/koperasi.db')
    .refine((v) => /^(file:|postgres(ql)?:\/\/)/.test(v), {
      message: 'harus diawali file: (SQLite) atau postgresql:// (PostgreSQL)',
    }),
  TELEGRAM_BOT_TOKEN: z
    .string()
    .trim()
    .regex(/^\d+:[\w-]{20,}$/, 'bukan token bot Telegram yang sah (bentuknya 123456:ABC-…, dari BotFather)')
    .optional(),
  TELEGRAM_API_ROOT: z.url({ message: 'harus berupa URL, misalnya https://api.telegram.org' }).default('https://api.telegram.org'),
  TELEGRAM_WEBHOOK_URL: z.url({ message: 'harus berupa URL https://…' }).optional(),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .trim()
    // Telegram allows 1–256 characters; a short one can be guessed, and it is all that keeps
    // forged updates out. One problem, one sentence: checked in one go.
    .superRefine((secret, ctx) => {
      const problem = !/^[A-Za-z0-9_-]*$/.test(secret)
        ? 'hanya boleh huruf, angka, _ dan -'
        : secret.length < 16
          ? `terlalu pendek (${secret.length} karakter): paling sedikit 16 huruf, angka, _ atau -, misalnya keluaran openssl rand -hex 16`
          : secret.length > 256
            ? 'terlalu panjang: paling banyak 256 karakter'
            : null;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  WHATSAPP_ENABLED: ZBooleanFlag.default(false),
  WHATSAPP_PAIRING_NUMBER: z
    .string()
    .trim()
    .regex(/^\+?\d{10,15}$/, 'harus nomor telepon berupa angka, misalnya 6281234567890')
    .optional(),
  WHATSAPP_SEND_INTERVAL_SECONDS: z.coerce
    .number({ message: 'harus berupa angka (detik)' })
    .min(1, 'paling sedikit 1 detik; kiriman massal yang cepat membuat nomor diblokir WhatsApp')
    .max(600, 'paling banyak 600 detik')
    .default(5),
  QUIET_HOURS: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^(off|([01]?\d|2[0-3])-([01]?\d|2[0-3]))$/, 'harus berbentuk JAM-JAM (misalnya 21-6) atau off')
    .refine((v) => v === 'off' || v.split('-')[0] !== v.split('-')[1], { message: 'jam mulai dan jam selesai tidak boleh sama' })
    .default('21-6'),
  // Where the HTTP server listens (default every interface), and the host of the links it gives
  // (a RAT document's in the terminal channel; 127.0.0.1 when unset).
  HOST: z.string().trim().min(1, 'tidak boleh kosong').regex(/^[A-Za-z0-9.:-]+$/, 'harus nama host atau alamat IP, misalnya 127.0.0.1').optional(),
  PORT: z.coerce
    .number({ message: 'harus berupa angka' })
    .int('harus bilangan bulat')
    .min(1, 'harus antara 1 dan 65535')
    .max(65535, 'harus antara 1 dan 65535')
    .default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'harus salah satu dari fatal, error, warn, info, debug, trace, silent',
  }).default('info'),
  // The key activation codes are hashed under. Unset: generated on first start and kept next to
  // the database file. Changing it makes codes already issued (not yet used) stop working.
  ACTIVATION_CODE_SECRET: z.string().trim().min(32, 'paling sedikit 32 karakter acak (misalnya dari `openssl rand -base64 32`)').optional(),
  TZ: z.string().trim().default('Asia/Jakarta').refine(isValidTimeZone, { message: 'bukan zona waktu yang dikenal (contoh: Asia/Jakarta)' }),
});

export type Config = z.infer<typeof ZConfig>;

/** QUIET_HOURS as hours: `21-6` → { from: 21, to: 6 }; `off` → null. */
export function quietHoursOf(config: Pick<Config, 'QUIET_HOURS'>): { from: number; to: number } | null {
  if (config.QUIET_HOURS === 'off') return null;
  const [from, to] = config.QUIET_HOURS.split('-').map(Number) as [number, number];
  return { from, to };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Konfigurasi tidak sah:\n${problems.map((p) => `- ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment; empty strings count as unset, as they do in most .env files. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(ZConfig.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const parsed = ZConfig.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}.`));
  }
  return parsed.data;
}
