/** The real service, with the Telegram channel pointed at a local Bot API server. */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Config } from '../../src/config.ts';
import { seedDemo } from '../../src/domain/seed-demo.ts';
import { startService, type RunningService, type ServiceOptions } from '../../src/service.ts';
import { captureLogs, tempDir } from '../helpers/app.ts';
import { FakeBotApi, type FakeBotApiOptions, type FakeUser, type SentMessage } from '../helpers/fake-bot-api.ts';

export interface TelegramTestService {
  api: FakeBotApi;
  service: RunningService;
  logs: string[];
  dir: string;
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startTelegramService(
  options: { webhook?: boolean; api?: FakeBotApiOptions; token?: string; seed?: boolean; dir?: string; apiUrl?: string; telegram?: ServiceOptions['telegram'] } = {},
): Promise<TelegramTestService> {
  const api = await new FakeBotApi(options.api).start();
  const dir = options.dir ?? tempDir('kopbot-telegram-');
  const port = await freePort();
  const { logs, logger } = captureLogs();
  const config: Config = {
    DATABASE_URL: `file:${join(dir, 'kopbot.db')}`,
    TELEGRAM_BOT_TOKEN: options.token ?? api.token,
    TELEGRAM_API_ROOT: options.apiUrl ?? api.url,
    ...(options.webhook ? { TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook`, TELEGRAM_WEBHOOK_SECRET: 'rahasia-webhook-uji_123' } : {}),
    WHATSAPP_ENABLED: false,
    WHATSAPP_SEND_INTERVAL_SECONDS: 5,
    QUIET_HOURS: '21-6',
    PORT: port,
    LOG_LEVEL: 'info',
    TZ: 'Asia/Jakarta',
  };
  let service: RunningService;
  try {
    service = await startService(config, logger, { telegram: { reconnectMs: { first: 50, cap: 200 }, ...options.telegram } });
  } catch (error) {
    await api.close();
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  if (options.seed !== false) await seedDemo(service.app.db);
  return {
    api,
    service,
    logs,
    dir,
    async dispose() {
      await service.stop();
      await api.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every text a chat received, in order, joined for "contains" checks. */
export function allText(api: FakeBotApi, chatId: number): string {
  return api
    .messagesTo(chatId)
    .map((m) => m.text)
    .join('\n---\n');
}

/** Send a text and wait for the bot to answer it (all its pieces arrive in one go). */
export async function ask(t: TelegramTestService, user: FakeUser, text: string): Promise<SentMessage[]> {
  const before = t.api.messagesTo(user.id).length;
  t.api.sendText(user, text);
  return settle(t, user.id, before);
}

export async function settle(t: TelegramTestService, chatId: number, before: number): Promise<SentMessage[]> {
  await t.api.waitForMessages(chatId, 1, { after: before });
  // A reply may be several messages: wait until the chat is quiet.
  for (let seen = -1; seen !== t.api.messagesTo(chatId).length; ) {
    seen = t.api.messagesTo(chatId).length;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return t.api.messagesTo(chatId).slice(before);
}

export async function press(t: TelegramTestService, user: FakeUser, message: SentMessage, label: string): Promise<SentMessage[]> {
  const before = t.api.messagesTo(user.id).length;
  t.api.press(user, message, label);
  return settle(t, user.id, before);
}

export async function share(t: TelegramTestService, user: FakeUser, contact: Parameters<TelegramTestService['api']['shareContact']>[1]): Promise<SentMessage[]> {
  const before = t.api.messagesTo(user.id).length;
  t.api.shareContact(user, contact);
  return settle(t, user.id, before);
}

/** The texts of a reply's messages, joined. */
export function textOf(messages: readonly SentMessage[]): string {
  return messages.map((m) => m.text).join('\n');
}

/** The conversation sessions have lapsed (months later, or just a long pause). */
export async function expireSessions(t: TelegramTestService): Promise<void> {
  await t.service.app.db.conversationSession.updateMany({ data: { expiresAt: new Date(Date.now() - 60_000) } });
}
