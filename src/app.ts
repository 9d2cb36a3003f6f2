/**
 * Composition root: configuration → database → services → conversation engine. Every entry
 * point (the service, `kopbot chat`, tests, benchmarks) builds the same thing through here.
 */
import type { Config } from './config.ts';
import { createCatalogue, type Catalogue } from './core/catalogue.ts';
import { createEngine, loadFlowsFrom } from './core/create-engine.ts';
import type { ConversationEngine } from './core/engine.ts';
import type { Services } from './core/ports.ts';
import { createLogger, type Logger } from './logger.ts';
import { openDatabase, sqlitePathOf, storeKindOf, type Db } from './persistence/database.ts';
import { loadActivationCodeKey, useActivationCodeKey } from './persistence/activation-code-key.ts';
import { openSqliteHotPath, type HotPath } from './persistence/sqlite-hot-path.ts';
import { openPostgresHotPath } from './persistence/postgres-hot-path.ts';
import { createServices } from './persistence/services.ts';
import type { OutboxStore } from './outbox/outbox-store.ts';
import { openOutboxStore } from './persistence/outbox-stores.ts';
import { Officers } from './officer/directory.ts';
import type { Domain } from './domain/ports.ts';
import { createDomainStores } from './persistence/domain-stores.ts';
import type { ImportStore } from './import/ports.ts';
import { createImportStore } from './persistence/import-store.ts';

export interface App {
  db: Db;
  services: Services;
  /** The business operations' stores and texts: what the officers' actions, the jobs and the CLI run on (src/domain). */
  domain: Domain;
  /** What `kopbot import` reads and writes through (src/import/ports.ts). */
  imports: ImportStore;
  engine: ConversationEngine;
  /** The texts (flows/messages) every part reads: the engine, channels, jobs, the domain. */
  catalogue: Catalogue;
  /** The officers on file by phone, whom the officers' flows (flows/officer.yaml) answer; refresh() after changing them. */
  officers: Officers;
  /** The outbox the officers' actions queue into (the dispatcher may use its own connection). */
  outbox: OutboxStore;
  logger: Logger;
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  clock?: () => Date;
  flowsDir?: string;
  /** Serve per-message reads through prepared statements of the store's own driver. Default true. */
  hotPath?: boolean;
}

/** The per-message reads of the store DATABASE_URL names, through its own driver (see HotPath). */
function openHotPath(url: string, logger: Logger): HotPath {
  if (storeKindOf(url) === 'postgresql') return openPostgresHotPath(url);
  return openSqliteHotPath(sqlitePathOf(url), (error) => logger.warn({ err: error }, 'conversation state not saved: database busy'));
}

export async function createApp(
  config: Pick<Config, 'DATABASE_URL' | 'LOG_LEVEL'> & Partial<Pick<Config, 'TZ' | 'ACTIVATION_CODE_SECRET'>>,
  options: AppOptions = {},
): Promise<App> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const db = await openDatabase(config.DATABASE_URL);
  const hotPath = options.hotPath === false ? undefined : openHotPath(config.DATABASE_URL, logger);
  const outbox = openOutboxStore(config.DATABASE_URL);
  const close = async () => {
    await hotPath?.close();
    await outbox.close();
    await db.$disconnect();
  };
  try {
    useActivationCodeKey(db, loadActivationCodeKey(config.DATABASE_URL, config.ACTIVATION_CODE_SECRET));
    const services = createServices(db, { clock: options.clock, hotPath });
    // Flows that lack a text code uses are refused here (FlowCheckError), as by flows check.
    const flows = loadFlowsFrom(options.flowsDir);
    const catalogue = createCatalogue(flows.messages, logger);
    const domain: Domain = { ...createDomainStores(db, outbox), texts: catalogue };
    const officers = new Officers(domain);
    const engine = createEngine({ services, logger, flows, catalogue, clock: options.clock, timeZone: config.TZ, officers: { domain, directory: officers } });
    return { db, services, domain, imports: createImportStore(db), engine, catalogue, officers, outbox, logger, close };
  } catch (error) {
    await close();
    throw error;
  }
}
