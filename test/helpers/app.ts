/** A real app on a fresh SQLite file, a controllable clock, and a way to talk to it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.ts';
import { answerLine } from '../../src/channels/terminal/terminal-channel.ts';
import { createLogger } from '../../src/logger.ts';
import type { InboundMessage } from '../../src/core/message.ts';

export interface TestApp extends App {
  dir: string;
  url: string;
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

/** The two implementations of the per-message reads; conversation suites run against both. */
export const STORES = [
  { name: 'SQLite hot path', hotPath: true },
  { name: 'Prisma', hotPath: false },
] as const;

export async function createTestApp(now = new Date('2026-11-22T03:00:00Z'), options: { hotPath?: boolean } = {}): Promise<TestApp> {
  const dir = tempDir();
  const url = `file:${join(dir, 'test.db')}`;
  const clock = { now };
  const { logs, logger } = captureLogs();
  const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'info' }, { clock: () => clock.now, logger, hotPath: options.hotPath });
  return Object.assign(app, {
    dir,
    url,
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
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A private Telegram message as the channel hands it over: the phone only remembered, unless a contact comes with it. */
export function telegramMessage(user: string, extra: Partial<InboundMessage>): InboundMessage {
  return { channel: 'telegram', externalUserId: user, chatId: user, chatType: 'private', canRequestContact: true, keepsVerifiedPhone: true, ...extra };
}
