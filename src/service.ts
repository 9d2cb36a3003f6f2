/**
 * The long-running service (`kopbot start`, `npm start`): the database migrated, the
 * conversation engine ready, an HTTP server for health checks (and, as they land, the Telegram
 * webhook and the web console), and every channel whose configuration is present.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { quietHoursOf, type Config } from './config.ts';
import { createApp, type App } from './app.ts';
import type { Logger } from './logger.ts';
import { defaultWebhookSecret, TelegramChannel, TelegramStartError } from './channels/telegram/telegram-channel.ts';
import { openWhatsAppAuthStore } from './channels/whatsapp/auth-store.ts';
import { openWhatsAppSessionStore } from './persistence/whatsapp-session-store.ts';
import { WhatsAppChannel, type WhatsAppChannelOptions, type WhatsAppStatus } from './channels/whatsapp/whatsapp-channel.ts';
import { normalizePhone } from './core/phone.ts';
import { telegramOutbound, whatsappOutbound } from './outbox/channels.ts';
import { OutboxDispatcher, type DispatcherOptions, type OutboundChannel } from './outbox/dispatcher.ts';
import { startScheduler } from './outbox/setup.ts';
import { openDatabaseProbe, type ProbeOptions } from './persistence/health.ts';
import { botKeyOf, openTelegramStore } from './persistence/telegram-store.ts';
import { instanceLockFor } from './persistence/instance-lock.ts';
import { refuseRequest } from './http/json-body.ts';
import { isDocumentRequest, serveDocument } from './http/rat-documents.ts';
import type { OutboxStore } from './outbox/outbox-store.ts';

export interface RunningService {
  app: App;
  server: Server;
  port: number;
  telegram?: TelegramChannel;
  whatsapp?: WhatsAppChannel;
  outbox: { store: OutboxStore; dispatcher: OutboxDispatcher };
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Options passed to the Telegram channel (tests shorten its waits). */
  telegram?: Pick<ConstructorParameters<typeof TelegramChannel>[0], 'sender' | 'reconnectMs' | 'maxWaitingPerChat' | 'floodQuietMs' | 'stopDeadlineMs' | 'pollTimeoutSeconds' | 'parkAfterMs' | 'webhookHoldMs' | 'instanceId'>;
  /** Options passed to the WhatsApp channel (tests hand in a socket stand-in, shorter waits). */
  whatsapp?: Partial<Omit<WhatsAppChannelOptions, 'engine' | 'catalogue' | 'logger'>>;
  /** Outbox dispatcher settings (tests use a fake clock, no quiet hours). */
  outbox?: Partial<Pick<DispatcherOptions, 'clock' | 'quietHours' | 'owner' | 'leaseMs'>> & { intervalMs?: number };
  /** The /health probe's settings (tests read the file whole at every check). */
  health?: ProbeOptions;
  /** Run the scheduler (node-cron). Default true. */
  scheduler?: boolean;
}

const STOPPED_FOR_GOOD: readonly WhatsAppStatus[] = ['logged_out', 'replaced', 'banned'];

/** The cooperative's own number as typed by its operator ("0812…", "+62 812…") in WhatsApp's form, 62812…. */
function pairingNumberOf(raw: string): string {
  const phone = normalizePhone(raw);
  return phone.ok ? phone.phone : raw.replace(/\D/g, '');
}

export class StartupError extends Error {
  override name = 'StartupError';
}

export async function startService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<RunningService> {
  const app = await createApp(config, { logger });
  const probe = openDatabaseProbe(config.DATABASE_URL, options.health);
  // The bot's send budget and poll state, shared with its other processes (outbox drain).
  const telegramStore = config.TELEGRAM_BOT_TOKEN ? openTelegramStore(config.DATABASE_URL) : undefined;
  const closeApp = async () => {
    await Promise.all([probe.close(), telegramStore?.close()]);
    await app.close();
  };
  let telegram: TelegramChannel | undefined;
  let whatsapp: WhatsAppChannel | undefined;
  const route = async (req: IncomingMessage, res: ServerResponse) => {
    if (telegram?.ownsRequest(req)) {
      telegram.handleWebhook(req, res).catch((error: unknown) => {
        logger.error({ err: error }, 'Telegram webhook request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
      return;
    }
    if (isDocumentRequest(req)) {
      await serveDocument(req, res, app.domain);
      return;
    }
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/healthz')) {
      // The database read and written (a full disk, a damaged or read-only file: 503).
      const database = await probe.check(new Date());
      if (!database.ok) {
        logger.error({ problem: database.problem, detail: database.detail }, 'health check: the database cannot be used');
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'error', database: database.problem, detail: database.detail }));
        return;
      }
      // A WhatsApp channel that stopped for good (logged out, replaced, banned) needs a person: 503.
      const stuck = whatsapp !== undefined && STOPPED_FOR_GOOD.includes(whatsapp.status);
      res.writeHead(stuck ? 503 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: stuck ? 'degraded' : 'ok',
          koperasi: database.koperasi,
          ...(whatsapp ? { whatsapp: whatsapp.status } : {}),
          // Members' replies not sent within a minute (429s, Telegram down): lost, and counted.
          ...(telegram ? { telegram: { repliesLost: telegram.sender.stats.lost } } : {}),
        }),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Tidak ditemukan\n');
  };
  // Whatever a request does, it ends here as an answer, never as a throw that stops the service.
  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'HTTP request failed');
      refuseRequest(req, res, 500);
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, config.HOST ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await closeApp();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`Port ${config.PORT} sudah dipakai program lain; pilih port lain dengan PORT=…`);
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;

  if (config.TELEGRAM_BOT_TOKEN) {
    telegram = new TelegramChannel({
      engine: app.engine,
      catalogue: app.catalogue,
      logger,
      token: config.TELEGRAM_BOT_TOKEN,
      apiRoot: config.TELEGRAM_API_ROOT,
      ...(telegramStore ? { store: telegramStore } : {}),
      // The same after a restart on this machine and port: it answers what it parked before.
      instanceId: `${hostname()}:${config.PORT || `pid${process.pid}`}`,
      // A webhook posts to any instance; long polling is one instance's at a time.
      ...(config.TELEGRAM_WEBHOOK_URL
        ? { webhook: { url: config.TELEGRAM_WEBHOOK_URL, secret: config.TELEGRAM_WEBHOOK_SECRET ?? defaultWebhookSecret(config.TELEGRAM_BOT_TOKEN) } }
        : { pollLock: instanceLockFor(config.DATABASE_URL, `telegram-poll:${botKeyOf(config.TELEGRAM_BOT_TOKEN)}`, { logger }) }),
      ...options.telegram,
    });
    try {
      await telegram.start();
    } catch (error) {
      await telegram.stop().catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeApp();
      if (error instanceof TelegramStartError) throw new StartupError(error.message);
      throw error;
    }
  }
  if (config.WHATSAPP_ENABLED) {
    whatsapp = new WhatsAppChannel({
      engine: app.engine,
      catalogue: app.catalogue,
      logger,
      openAuthStore: () => openWhatsAppAuthStore(openWhatsAppSessionStore(app.db)),
      // Several instances on one PostgreSQL: one holds the session, the others stand by.
      lock: instanceLockFor(config.DATABASE_URL, 'whatsapp', { logger }),
      ...(config.WHATSAPP_PAIRING_NUMBER ? { pairingNumber: pairingNumberOf(config.WHATSAPP_PAIRING_NUMBER) } : {}),
      unsolicited: { intervalMs: config.WHATSAPP_SEND_INTERVAL_SECONDS * 1000, jitter: 0.5 },
      ...options.whatsapp,
    });
    try {
      // Returns once the session is loaded; linking (QR or code) and connecting go on in the background.
      await whatsapp.start();
    } catch (error) {
      await whatsapp.stop(0).catch(() => undefined);
      await telegram?.stop().catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeApp();
      throw error;
    }
  }
  // The outbox: what the bot sends on its own initiative goes out through the channels running here.
  const store = app.outbox;
  const channels: OutboundChannel[] = [];
  if (telegram) channels.push(telegramOutbound(telegram.sender));
  if (whatsapp) channels.push(whatsappOutbound(whatsapp));
  const dispatcher = new OutboxDispatcher({ store, channels, logger: logger.child({ part: 'outbox' }), quietHours: quietHoursOf(config), ...options.outbox });
  dispatcher.start(options.outbox?.intervalMs);
  // Rows only another process's channels can send stay queued here: say so once, so a service
  // started without TELEGRAM_BOT_TOKEN is not mistaken for one delivering everything.
  const waiting = await store.waitingFor(new Date(), dispatcher.reach);
  if (waiting.length > 0) logger.warn({ waiting }, 'outbox: messages wait for channels this process does not run; they stay queued');
  const scheduler = options.scheduler === false ? undefined : startScheduler(app, store, dispatcher, logger.child({ part: 'scheduler' }), config.TZ);
  logger.info({ port, database: config.DATABASE_URL }, 'service started');

  return {
    app,
    server,
    port,
    ...(telegram ? { telegram } : {}),
    ...(whatsapp ? { whatsapp } : {}),
    outbox: { store, dispatcher },
    async stop() {
      // All at once: the channels stop fetching and cancel what waits at once (Telegram
      // delivers those updates again after the restart), the scheduler and the dispatcher start
      // nothing new; the replies and sends under way finish within the channels' deadline.
      const dispatching = dispatcher.stop();
      await Promise.all([scheduler?.stop(), telegram?.stop(), whatsapp?.stop()]);
      await dispatching;
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closing;
      await closeApp();
      logger.info('service stopped');
    },
  };
}
