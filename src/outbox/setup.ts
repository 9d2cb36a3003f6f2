/**
 * Wiring the outbox for each entry point: the service (its live channels, a dispatcher loop,
 * the node-cron scheduler) and the command line (`outbox drain`: Telegram through the Bot API,
 * the terminal printed; WhatsApp left to the service, which holds the only WhatsApp session).
 */
import type { Writable } from 'node:stream';
import cron from 'node-cron';
import { Telegram } from 'telegraf';
import type { Config } from '../config.ts';
import type { App } from '../app.ts';
import { TelegramSender, type TelegramSenderOptions } from '../channels/telegram/telegram-sender.ts';
import { botKeyOf, openTelegramStore, type TelegramStore } from '../persistence/telegram-store.ts';
import { runDueJobs } from '../jobs/run-due.ts';
import type { Logger } from '../logger.ts';
import { terminalOutbound, telegramOutbound } from './channels.ts';
import { OutboxDispatcher, type OutboundChannel } from './dispatcher.ts';
import type { OutboxStore } from './outbox-store.ts';

/**
 * The channels `kopbot outbox drain` can use itself, and those it leaves to the service.
 * Telegram draws on the bot's send budget in the database, shared with the service and any
 * other drain, so together they stay within Telegram's limit and members' replies go first.
 */
export function commandLineChannels(
  config: Pick<Config, 'TELEGRAM_BOT_TOKEN' | 'TELEGRAM_API_ROOT' | 'WHATSAPP_ENABLED'> & Partial<Pick<Config, 'DATABASE_URL'>>,
  logger: Logger,
  output: Writable,
  telegramOptions?: TelegramSenderOptions,
): { channels: OutboundChannel[]; elsewhere: string[]; close(): Promise<void> } {
  const channels: OutboundChannel[] = [];
  let store: TelegramStore | undefined;
  if (config.TELEGRAM_BOT_TOKEN) {
    const telegram = new Telegram(config.TELEGRAM_BOT_TOKEN, { apiRoot: config.TELEGRAM_API_ROOT });
    store = config.DATABASE_URL === undefined ? undefined : openTelegramStore(config.DATABASE_URL);
    const budget = store?.budget(botKeyOf(config.TELEGRAM_BOT_TOKEN), telegramOptions?.global ? { window: telegramOptions.global } : {});
    const sender = new TelegramSender((method, payload) => telegram.callApi(method as never, payload as never), logger, { ...(budget ? { budget } : {}), ...telegramOptions });
    channels.push(telegramOutbound(sender));
  }
  channels.push(terminalOutbound(output));
  return { channels, elsewhere: config.WHATSAPP_ENABLED ? ['whatsapp'] : [], close: async () => store?.close() };
}

/** What a clerk must do for each channel `outbox drain` lacks. */
const MISSING_CHANNEL: Record<string, { name: string; advice: string }> = {
  telegram: { name: 'Telegram', advice: 'isi TELEGRAM_BOT_TOKEN lalu jalankan kopbot outbox drain lagi' },
  whatsapp: { name: 'WhatsApp', advice: 'WhatsApp dikirim oleh layanan: jalankan kopbot start dengan WHATSAPP_ENABLED=true' },
};

/**
 * One sentence for the rows `outbox drain` left queued because it lacks their channel
 * (channels served elsewhere, WhatsApp by the service, are not lacking); null when none.
 */
export function describeMissingChannels(waiting: readonly { channel: string; count: number }[], elsewhere: readonly string[]): string | null {
  const missing = waiting.filter((w) => !elsewhere.includes(w.channel));
  if (missing.length === 0) return null;
  const parts = missing.map(({ channel, count }) => {
    const known = MISSING_CHANNEL[channel] ?? { name: `saluran ${channel}`, advice: 'saluran itu hanya dikirim oleh layanan (kopbot start)' };
    return `${count.toLocaleString('id-ID')} pesan menunggu ${known.name} (${known.advice})`;
  });
  return `Tidak dikirim dan tetap di antrean: ${parts.join('; ')}.`;
}

/**
 * The scheduler: every five minutes (and once at start, for what fell due while the service
 * was down) the due jobs are queued and the dispatcher is woken.
 */
export function startScheduler(app: App, store: OutboxStore, dispatcher: OutboxDispatcher, logger: Logger, timeZone: string): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running.then(async () => {
      try {
        const results = await runDueJobs({ domain: { ...app.domain, outbox: store }, now: new Date() });
        for (const { job, error } of results) if (error) logger.error({ job, err: error }, 'scheduled job failed; what it had not queued is not queued, the next tick tries again');
        const queued = results.reduce((sum, r) => sum + r.queued, 0);
        if (queued > 0) {
          logger.info({ results: results.map(({ error: _, ...r }) => r) }, 'scheduled messages queued');
          dispatcher.poke();
        }
      } catch (error) {
        logger.error({ err: error }, 'scheduled jobs failed');
      }
    });
    return running;
  };
  void tick();
  const task = cron.schedule('*/5 * * * *', () => tick(), { timezone: timeZone, noOverlap: true, name: 'kopbot-jobs' });
  return {
    async stop() {
      await task.stop();
      await running;
    },
  };
}
