/**
 * The long-running service (`kopbot start`, `npm start`): the database migrated, the
 * conversation engine ready, an HTTP server for health checks (and, as they land, the Telegram
 * webhook and the web console), and every channel whose configuration is present.
 */
import { createServer, type Server } from 'node:http';
import type { Config } from './config.ts';
import { createApp, type App } from './app.ts';
import type { Logger } from './logger.ts';

export interface RunningService {
  app: App;
  server: Server;
  port: number;
  stop(): Promise<void>;
}

export class StartupError extends Error {
  override name = 'StartupError';
}

export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const app = await createApp(config, { logger });
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/healthz')) {
      // A health check that touches the database, so a locked or missing file shows up here.
      app.db.koperasi
        .count()
        .then((koperasi) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'ok', koperasi }));
        })
        .catch((error: unknown) => {
          logger.error({ err: error }, 'health check failed');
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'error' }));
        });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Tidak ditemukan\n');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`Port ${config.PORT} sudah dipakai program lain; pilih port lain dengan PORT=…`);
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;

  const pending: string[] = [];
  if (config.TELEGRAM_BOT_TOKEN) pending.push('Telegram (TELEGRAM_BOT_TOKEN)');
  if (config.WHATSAPP_ENABLED) pending.push('WhatsApp (WHATSAPP_ENABLED)');
  if (pending.length > 0) {
    logger.warn({ channels: pending }, 'these channels are configured but not part of this version yet; members can be served through `kopbot chat` meanwhile');
  }
  logger.info({ port, database: config.DATABASE_URL }, 'service started');

  return {
    app,
    server,
    port,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      logger.info('service stopped');
    },
  };
}
