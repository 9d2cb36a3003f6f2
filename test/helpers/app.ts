/** A real app on a fresh SQLite file, a controllable clock, and a way to talk to it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.ts';
import { answerLine } from '../../src/channels/terminal/terminal-channel.ts';
import { createLogger } from '../../src/logger.ts';
import type { InboundMessage } from '../../src/core/message.ts';
import { createTestPostgres } from './postgres.ts';

export interface TestApp extends App {
  dir: string;
  url: string;
  /** What another app or a kopbot process needs to open the same database (the key too, on PostgreSQL). */
  env: { DATABASE_URL: string; ACTIVATION_CODE_SECRET?: string };
  clock: { now: Date };
  /** Send one line as the holder of phone, through the terminal channel; returns its replies as text. */
  say(phone: string, text: string): Promise<string>;
  /** Send any normalised message straight to the engine. */
  send(message: InboundMessage): Promise<string>;
  logs: string[];
  dispose(): Promise<void>;
}

/** A pino logger whose lines are kept in `logs`, so tests can assert what was logged. */
export function captureLogs(level: 'trace' | 'debug' | 'info' | 'warn' = 'info'): { logs: string[]; logger: ReturnType<typeof createLogger> } {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  return { logs, logger: createLogger(level, sink) };
}

export function tempDir(prefix = 'kopbot-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The stores and per-message read paths; conversation suites run against each. */
export const STORES = [
  { name: 'SQLite hot path', hotPath: true, postgres: false },
  { name: 'Prisma', hotPath: false, postgres: false },
  { name: 'PostgreSQL', hotPath: true, postgres: true },
] as const;

/** The activation-code key of test apps on PostgreSQL (which has no key file beside it). */
export const TEST_ACTIVATION_CODE_SECRET = 'kunci-kode-aktivasi-untuk-uji-0123456789';

/**
 * The store of test apps that do not name one: PostgreSQL when KOPBOT_TEST_STORE=postgresql
 * (the vitest project "postgresql" runs the storage-heavy suites so), else SQLite.
 */
export const TESTS_ON_POSTGRES = process.env.KOPBOT_TEST_STORE === 'postgresql';

export async function createTestApp(now = new Date('2026-11-22T03:00:00Z'), options: { hotPath?: boolean; postgres?: boolean } = {}): Promise<TestApp> {
  const dir = tempDir();
  const postgres = options.postgres ?? TESTS_ON_POSTGRES ? await createTestPostgres() : undefined;
  const url = postgres?.url ?? `file:${join(dir, 'test.db')}`;
  const clock = { now };
  const { logs, logger } = captureLogs();
  const env = { DATABASE_URL: url, ...(postgres ? { ACTIVATION_CODE_SECRET: TEST_ACTIVATION_CODE_SECRET } : {}) };
  let app: App;
  try {
    app = await createApp(
      { ...env, LOG_LEVEL: 'info' },
      { clock: () => clock.now, logger, hotPath: options.hotPath },
    );
  } catch (error) {
    await postgres?.drop();
    throw error;
  }
  return Object.assign(app, {
    dir,
    url,
    env,
    clock,
    logs,
    async say(phone: string, text: string) {
      return (await answerLine(app.engine, phone, text)).join('\n\n');
    },
    async send(message: InboundMessage) {
      const batch = await app.engine.handle(message);
      return batch.replies.map((r) => [r.text, ...(r.options ?? []).map((o) => `${o.key}. ${o.label}`)].join('\n')).join('\n\n');
    },
    async dispose() {
      await app.close();
      await postgres?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A private Telegram message as the channel hands it over: the phone only remembered, unless a contact comes with it. */
export function telegramMessage(user: string, extra: Partial<InboundMessage>): InboundMessage {
  return { channel: 'telegram', externalUserId: user, chatId: user, chatType: 'private', canRequestContact: true, keepsVerifiedPhone: true, ...extra };
}
