/** The real service, with the Telegram channel pointed at a local Bot API server. */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Config } from '../../src/config.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { startService, type RunningService, type ServiceOptions } from '../../src/service.ts';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { captureLogs, tempDir, TEST_ACTIVATION_CODE_SECRET, TESTS_ON_POSTGRES } from '../helpers/app.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { spawnKopbot, type KopbotProcess } from '../helpers/cli.ts';
import { addTelegramMembers, FakeBotApi, type FakeBotApiOptions, type FakeUser, type SentMessage } from '../helpers/fake-bot-api.ts';

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

/**
 * The database of a service's directory when the suite runs on PostgreSQL (KOPBOT_TEST_STORE):
 * one per directory, so a service restarted on the same directory finds its data again; all
 * dropped when the test file ends.
 */
const postgresOfDir = new Map<string, Promise<TestPostgres>>();
afterAll(async () => {
  const all = await Promise.all(postgresOfDir.values());
  postgresOfDir.clear();
  await Promise.all(all.map((db) => db.drop()));
});

async function databaseOf(dir: string): Promise<Pick<Config, 'DATABASE_URL'> & Partial<Pick<Config, 'ACTIVATION_CODE_SECRET'>>> {
  if (!TESTS_ON_POSTGRES) return { DATABASE_URL: `file:${join(dir, 'kopbot.db')}` };
  if (!postgresOfDir.has(dir)) postgresOfDir.set(dir, createTestPostgres());
  return { DATABASE_URL: (await postgresOfDir.get(dir)!).url, ACTIVATION_CODE_SECRET: TEST_ACTIVATION_CODE_SECRET };
}

export async function startTelegramService(
  options: { webhook?: boolean; api?: FakeBotApiOptions; token?: string; seed?: boolean; dir?: string; apiUrl?: string; telegram?: ServiceOptions['telegram'] } = {},
): Promise<TelegramTestService> {
  const api = await new FakeBotApi(options.api).start();
  const dir = options.dir ?? tempDir('kopbot-telegram-');
  const port = await freePort();
  const { logs, logger } = captureLogs();
  const config: Config = {
    ...(await databaseOf(dir)),
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

/**
 * The bot's messages to this chat since `before`, once the service has settled the member's
 * latest update (by default the last one the Bot API stand-in handed out): a chat's updates are
 * answered in order, so every earlier one of that chat is settled too, all its replies sent.
 */
export async function settle(t: TelegramTestService, chatId: number, before: number, updateId = t.api.lastUpdateId): Promise<SentMessage[]> {
  if (!t.service.telegram) throw new Error('the service runs without its Telegram channel');
  await t.service.telegram.whenSettled(updateId);
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

export interface KopbotProcesses {
  readonly api: FakeBotApi;
  readonly dir: string;
  readonly url: string;
  /** The environment of a `kopbot` process that talks to this Bot API (Telegram only, no quiet hours). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Start `kopbot ARGS`; killed after the test if still running. */
  spawn(args: readonly string[], extra?: Record<string, string>): KopbotProcess;
  /** `kopbot start` on a free port, once it says it runs. */
  start(extra?: Record<string, string>): Promise<KopbotProcess>;
  /** The demo cooperative and `count` members who verified on Telegram, chats firstChatId…. */
  seedMembers(count: number, firstChatId: number, more?: (app: App) => Promise<void>): Promise<FakeUser[]>;
}

/** For each test: a local Bot API, a database directory, and real `kopbot` processes (killed afterwards). */
export function useKopbotProcesses(prefix: string): KopbotProcesses {
  let api: FakeBotApi;
  let dir: string;
  let children: KopbotProcess[] = [];
  beforeEach(async () => {
    api = await new FakeBotApi().start();
    dir = tempDir(prefix);
  });
  afterEach(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    await Promise.all(children.map((child) => child.exited));
    children = [];
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const harness: KopbotProcesses = {
    get api() {
      return api;
    },
    get dir() {
      return dir;
    },
    get url() {
      return `file:${join(dir, 'kopbot.db')}`;
    },
    env: (extra = {}) => ({ DATABASE_URL: harness.url, TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url, LOG_LEVEL: 'warn', QUIET_HOURS: 'off', WHATSAPP_ENABLED: 'false', ...extra }),
    spawn(args, extra) {
      const child = spawnKopbot(args, harness.env(extra));
      children.push(child);
      void child.exited.then(() => (children = children.filter((c) => c !== child)));
      return child;
    },
    async start(extra = {}) {
      const child = harness.spawn(['start'], { PORT: String(await freePort()), ...extra });
      await child.saysOnStderr('Layanan koperasi berjalan');
      return child;
    },
    async seedMembers(count, firstChatId, more) {
      const app = await createApp({ DATABASE_URL: harness.url, LOG_LEVEL: 'silent' });
      try {
        await seedDemo(app.db);
        await addTelegramMembers(app.db, api, { koperasiCode: 'KPRI-SEJAHTERA', count, firstChatId });
        await more?.(app);
      } finally {
        await app.close();
      }
      return Array.from({ length: count }, (_, i) => ({ id: firstChatId + i, first_name: `Anggota ${i}` }));
    },
  };
  return harness;
}
