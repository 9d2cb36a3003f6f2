/**
 * The WhatsApp channel on Baileys 7: a linked device of the cooperative's number, its session
 * kept in the database (auth-store.ts), incoming messages read by whatsapp-messages.ts and
 * answered by the core, replies rendered by whatsapp-format.ts.
 *
 * Built to run unattended: Baileys does not reconnect by itself, so every transient close
 * leads to a new socket after a capped, jittered, growing wait (reset only after a connection
 * that held for a while, so a link that drops at once cannot storm); "logged out" clears the
 * session and stops with a sentence saying what to do; a second instance on the same session
 * ("replaced") or a ban stops instead of fighting. Unsolicited sends are paced slowly with
 * random jitter, because bulk sending gets numbers banned.
 */
import type { Boom } from '@hapi/boom';
import makeWASocket, {
  Browsers,
  DisconnectReason,
  downloadMediaMessage,
  generateMessageIDV2,
  jidDecode,
  makeCacheableSignalKeyStore,
  type AnyMessageContent,
  type ConnectionState,
  type proto,
  type SignalKeyStore,
  type UserFacingSocketConfig,
  type WACallEvent,
  type WAMessage,
  type WAMessageKey,
  type WASocket,
} from '@whiskeysockets/baileys';
import type { Catalogue } from '../../core/catalogue.ts';
import type { ConversationEngine } from '../../core/engine.ts';
import type { InboundMessage } from '../../core/message.ts';
import type { Reply } from '../../core/message.ts';
import type { Logger } from '../../logger.ts';
import type { WhatsAppAuthStore } from './auth-store.ts';
import type { InstanceLock } from '../../persistence/instance-lock.ts';
import { renderWhatsAppPieces, renderWhatsAppReply, type WhatsAppPiece } from './whatsapp-format.ts';
import { identifySender, readWhatsAppMessage, WHATSAPP_CHANNEL, type WhatsAppIncoming } from './whatsapp-messages.ts';

/** What the channel uses of a Baileys socket; tests hand in a stand-in with the real event emitter. */
export type WhatsAppSocket = Pick<
  WASocket,
  'ev' | 'sendMessage' | 'sendPresenceUpdate' | 'readMessages' | 'end' | 'requestPairingCode' | 'onWhatsApp' | 'rejectCall' | 'user'
> & { signalRepository: Pick<WASocket['signalRepository'], 'lidMapping'> };

export type WhatsAppSocketFactory = (config: UserFacingSocketConfig) => WhatsAppSocket;

export type WhatsAppStatus =
  | 'stopped'
  /** Another instance holds the session (see InstanceLock); this one takes over if that one dies. */
  | 'standby'
  | 'connecting'
  | 'waiting_for_pairing'
  | 'open'
  | 'reconnecting'
  | 'logged_out'
  | 'replaced'
  | 'banned';

export type PairingEvent = { kind: 'qr'; qr: string } | { kind: 'code'; code: string; phone: string };

export interface WhatsAppChannelOptions {
  engine: ConversationEngine;
  /** The texts the channel says by itself (a call rejected). */
  catalogue: Catalogue;
  logger: Logger;
  /** Opens the session store (the database row of this WhatsApp number). */
  openAuthStore: () => Promise<WhatsAppAuthStore>;
  /**
   * Held while this process uses the session: with several instances on one database, exactly
   * one connects; the others wait in 'standby' and take over when it dies. None: connect at once.
   */
  lock?: InstanceLock;
  /** Link by pairing code for this number instead of a QR code. */
  pairingNumber?: string;
  /** Shows a QR code or pairing code to the operator (default: on the terminal, stderr). */
  showPairing?: (event: PairingEvent) => void;
  makeSocket?: WhatsAppSocketFactory;
  /** Extra Baileys settings (tests point waWebSocketUrl at 127.0.0.1). */
  socketConfig?: Partial<UserFacingSocketConfig>;
  /** Waits between reconnects: first, cap, and how long a connection must hold to reset them (ms). */
  reconnect?: { firstMs: number; capMs: number; stableMs: number };
  /** How long "typing…" shows before a reply of this many characters (ms). */
  typingMs?: (characters: number) => number;
  /** Messages older than this (seconds) are not answered: they are history, not requests. */
  maxAgeSeconds?: number;
  /** Unsolicited sends: one per this many ms on average, ± jitter (a fraction). */
  unsolicited?: { intervalMs: number; jitter: number };
  /** How long a reply waits for a dropped connection to come back before it is given up (ms). */
  replyWaitMs?: number;
  clock?: () => number;
  random?: () => number;
  /**
   * Downloads a received document's bytes (default: Baileys' downloadMediaMessage, which fetches
   * and decrypts it from WhatsApp's media servers; tests hand in a stand-in).
   */
  downloadMedia?: (message: WAMessage) => Promise<Buffer>;
}

/** The result of one unsolicited message, for the outbox to record. */
export type UnsolicitedResult =
  | { status: 'sent'; messageIds: string[] }
  | { status: 'failed'; permanent: boolean; reason: 'not_on_whatsapp' | 'not_connected' | 'gave_up'; error?: string };

const DEFAULTS = {
  reconnect: { firstMs: 2_000, capMs: 300_000, stableMs: 60_000 },
  typingMs: (characters: number) => Math.min(1_500, 300 + 5 * characters),
  maxAgeSeconds: 24 * 60 * 60,
  unsolicited: { intervalMs: 5_000, jitter: 0.5 },
  replyWaitMs: 60_000,
};

/** What each close means, and what to do about it. */
export function closeAction(statusCode: number | undefined): 'logged_out' | 'replaced' | 'banned' | 'restart_now' | 'backoff' {
  switch (statusCode) {
    case DisconnectReason.loggedOut:
    case DisconnectReason.multideviceMismatch:
      return 'logged_out';
    case DisconnectReason.connectionReplaced:
      return 'replaced';
    case DisconnectReason.forbidden:
      return 'banned';
    case DisconnectReason.restartRequired:
      return 'restart_now'; // normal right after pairing
    default:
      return 'backoff'; // 408 lost/timed out, 428 closed, 500 bad session, 503 unavailable, network errors
  }
}

/** The pause before reconnect attempt n (0-based): doubling from firstMs up to capMs, times 0.5–1 at random. */
export function reconnectDelay(attempt: number, { firstMs, capMs }: { firstMs: number; capMs: number }, random: number): number {
  return Math.round(Math.min(capMs, firstMs * 2 ** Math.min(attempt, 30)) * (0.5 + random / 2));
}

/** A phone for people to read in a log: the last digits hidden. */
function maskJid(jid: string | undefined): string | undefined {
  return jid?.replace(/^(\d{4})\d+(\d{2})/, '$1…$2');
}

export class WhatsAppChannel {
  #status: WhatsAppStatus = 'stopped';
  #store?: WhatsAppAuthStore;
  /** One read cache over the stored keys for the channel's life (not one per socket: each holds a timer). */
  #keys?: SignalKeyStore;
  #sock?: WhatsAppSocket;
  #attempt = 0;
  #openedAt?: number;
  #reconnectTimer?: NodeJS.Timeout;
  #stopped = false;
  #stopping?: Promise<void>;
  /** The lock-holding loop (with a lock): stop() waits for it. */
  #holding?: Promise<void>;
  readonly #stopSignal = new AbortController();
  #pairingRequested = false;
  #pairing?: PairingEvent;
  readonly #options: WhatsAppChannelOptions;
  readonly #logger: Logger;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Per chat, the work under way: messages of one chat are read, answered and sent in order. */
  readonly #chats = new Map<string, Promise<void>>();
  /** Message ids seen lately: WhatsApp delivers some twice (retries, offline catch-up). */
  readonly #recent = new Set<string>();
  readonly #openWaiters = new Set<() => void>();
  readonly #sleepers = new Set<() => void>();
  /** When each caller was last told that calls are not answered (one sentence per caller per 10 minutes). */
  readonly #callersTold = new Map<string, number>();
  /** The earliest moment the next unsolicited message may go. */
  #nextUnsolicitedAt = 0;
  #unsolicitedQueue: Promise<unknown> = Promise.resolve();
  /**
   * The messages sent lately, by id: a recipient whose phone could not decrypt one asks for it
   * again (a retry receipt), possibly after a reconnect, and Baileys asks getMessage for it.
   */
  readonly #sentMessages = new Map<string, proto.IMessage>();

  constructor(options: WhatsAppChannelOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ channel: WHATSAPP_CHANNEL });
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  get status(): WhatsAppStatus {
    return this.#status;
  }

  /** The QR or pairing code waiting to be used, for a console page to show. */
  get pairing(): PairingEvent | undefined {
    return this.#status === 'waiting_for_pairing' ? this.#pairing : undefined;
  }

  /** Load the session and start connecting; does not wait for WhatsApp (a QR may be needed first). */
  async start(): Promise<void> {
    const lock = this.#options.lock;
    if (!lock) return this.#begin();
    this.#status = 'standby';
    this.#holding = this.#hold(lock);
  }

  async #begin(): Promise<void> {
    this.#store = await this.#options.openAuthStore();
    this.#keys = makeCacheableSignalKeyStore(this.#store.state.keys, this.#libraryLogger());
    if (!this.#store.paired) this.#logger.info('no WhatsApp session yet: link this service as a device of the cooperative\'s WhatsApp number');
    this.#connect();
  }

  /** Connect while this process holds the lock; stand by whenever another instance does. */
  async #hold(lock: InstanceLock): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.#stopSignal.signal.addEventListener('abort', () => resolve(), { once: true }));
    while (!this.#stopped) {
      if (!(await lock.acquire()) || this.#stopped) return;
      let unsubscribe = () => {};
      const lost = new Promise<void>((resolve) => (unsubscribe = lock.onLost(resolve)));
      try {
        // The session as the last holder left it: read afresh on every hold.
        await this.#begin();
      } catch (error) {
        this.#logger.error({ err: error }, 'WhatsApp session could not be loaded');
      }
      await Promise.race([lost, stopped]);
      unsubscribe();
      if (this.#stopped) return;
      this.#logger.warn('WhatsApp session lock lost: this instance stops using the session and waits to take it again');
      await this.#standDown();
    }
  }

  /** Let the session go without stopping the channel: another instance may take it over now. */
  async #standDown(): Promise<void> {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const sock = this.#sock;
    this.#sock = undefined; // its last events mean nothing now
    if (!['logged_out', 'replaced', 'banned'].includes(this.#status)) this.#status = 'standby';
    // Replies waiting for the connection give up: the next holder answers what comes next.
    for (const wake of [...this.#openWaiters]) wake();
    await sock?.end(undefined);
    await this.#store?.flush().catch((error: unknown) => this.#logger.error({ err: error }, 'WhatsApp session writes lost when the lock was lost'));
    this.#store = undefined;
    this.#keys = undefined;
    this.#attempt = 0;
    this.#openedAt = undefined;
  }

  #connect(): void {
    if (this.#stopped || !this.#store) return;
    const store = this.#store;
    const creds = store.state.creds;
    if (!store.paired && creds.me) {
      // Left by a pairing code that was never entered: a socket would try to log in with it.
      delete creds.me;
      creds.pairingCode = undefined;
    }
    this.#status = this.#attempt === 0 && !this.#openedAt ? 'connecting' : 'reconnecting';
    this.#pairingRequested = false;
    const libraryLogger = this.#libraryLogger();
    const make = this.#options.makeSocket ?? (makeWASocket as unknown as WhatsAppSocketFactory);
    let sock: WhatsAppSocket;
    try {
      sock = make({
        auth: { creds, keys: this.#keys! },
        logger: libraryLogger,
        // A real browser name: WhatsApp refuses pairing codes for made-up ones.
        browser: Browsers.ubuntu('Chrome'),
        // A service bot: not "online" on the cooperative's phone, no history of old chats.
        markOnlineOnConnect: false,
        syncFullHistory: false,
        shouldSyncHistoryMessage: () => false,
        getMessage: async (key: WAMessageKey) => (key.id ? this.#sentMessages.get(key.id) : undefined),
        ...this.#options.socketConfig,
      });
    } catch (error) {
      this.#logger.error({ err: error }, 'WhatsApp socket could not be created');
      this.#scheduleReconnect();
      return;
    }
    this.#sock = sock;
    sock.ev.process(async (events) => {
      if (sock !== this.#sock) return; // a socket already replaced: its last events mean nothing
      try {
        if (events['creds.update']) {
          await store.saveCreds().catch((error: unknown) => this.#logger.error({ err: error }, 'WhatsApp session not saved'));
        }
        if (events['connection.update']) await this.#onConnection(sock, events['connection.update']);
        const upsert = events['messages.upsert'];
        // 'notify' is someone writing now; 'append' also carries what members wrote while the
        // service was offline (and the number's own sends, which the reader drops).
        if (upsert) for (const message of upsert.messages) this.#onMessage(sock, message);
        if (events.call) for (const call of events.call) this.#onCall(sock, call);
      } catch (error) {
        this.#logger.error({ err: error }, 'WhatsApp event not handled');
      }
    });
  }

  #libraryLogger(): Logger {
    // Baileys is chatty: its warnings and errors go to our log, the rest only when debugging.
    const level = this.#logger.isLevelEnabled('debug') ? 'debug' : 'warn';
    return this.#logger.child({ lib: 'baileys' }, { level });
  }

  /** A member who calls the number hears it rejected and reads why; the bot only reads text. */
  #onCall(sock: WhatsAppSocket, call: WACallEvent): void {
    if (call.status !== 'offer' || call.isGroup || call.offline) return;
    const now = this.#clock();
    const toldAt = this.#callersTold.get(call.from);
    const tell = toldAt === undefined || now - toldAt > 10 * 60_000;
    if (tell) this.#callersTold.set(call.from, now);
    if (this.#callersTold.size > 5_000) this.#callersTold.delete(this.#callersTold.keys().next().value!);
    const work = (async () => {
      await sock.rejectCall(call.id, call.from);
      const text = tell ? this.#options.catalogue.text('id', 'call.rejected') : '';
      if (text) await this.#sendTexts(call.from, [text], { typing: false });
    })().catch((error: unknown) => this.#logger.debug({ err: error }, 'call not rejected'));
    this.#track(work);
  }

  async #onConnection(sock: WhatsAppSocket, update: Partial<ConnectionState>): Promise<void> {
    if (update.qr) await this.#onPairingNeeded(sock, update.qr);
    if (update.connection === 'open') {
      this.#status = 'open';
      this.#openedAt = this.#clock();
      this.#pairing = undefined;
      this.#logger.info({ as: maskJid(sock.user?.id) }, 'WhatsApp connected');
      for (const wake of [...this.#openWaiters]) wake();
      this.#store?.purgeDeleted().catch((error: unknown) => this.#logger.debug({ err: error }, 'deleted keys not purged'));
      return;
    }
    if (update.connection !== 'close' || this.#stopped) return;
    const error = update.lastDisconnect?.error as Partial<Boom> | undefined;
    const statusCode = error?.output?.statusCode;
    const action = closeAction(statusCode);
    if (action === 'logged_out' || action === 'replaced' || action === 'banned') {
      this.#status = action;
      // Replies waiting for a reconnect that will not come give up now.
      for (const wake of [...this.#openWaiters]) wake();
    }
    const wasStable = this.#openedAt !== undefined && this.#clock() - this.#openedAt >= (this.#options.reconnect ?? DEFAULTS.reconnect).stableMs;
    this.#openedAt = undefined;
    if (wasStable) this.#attempt = 0;
    switch (action) {
      case 'logged_out':
        this.#status = 'logged_out';
        await this.#store?.clear().catch((clearError: unknown) => this.#logger.error({ err: clearError }, 'WhatsApp session could not be cleared'));
        this.#logger.fatal(
          { statusCode },
          'WhatsApp: perangkat ini sudah dikeluarkan dari akun WhatsApp koperasi (logged out) dan sesinya sudah dihapus. Jalankan ulang layanan, lalu tautkan lagi: pindai QR baru di WhatsApp > Perangkat tertaut (atau pakai WHATSAPP_PAIRING_NUMBER).',
        );
        return;
      case 'replaced':
        this.#status = 'replaced';
        this.#logger.fatal(
          { statusCode },
          'WhatsApp: sesi ini dipakai oleh instans lain (connection replaced). Saluran WhatsApp di instans ini berhenti agar keduanya tidak saling memutus; jalankan hanya satu instans WhatsApp per nomor.',
        );
        return;
      case 'banned':
        this.#status = 'banned';
        this.#logger.fatal(
          { statusCode },
          'WhatsApp menolak nomor ini (403, kemungkinan diblokir karena laporan spam atau kiriman massal). Saluran WhatsApp berhenti; periksa nomor di aplikasi WhatsApp sebelum menautkan ulang.',
        );
        return;
      case 'restart_now':
        this.#logger.info('WhatsApp asked for a restart (normal after linking); reconnecting');
        this.#connect();
        return;
      case 'backoff':
        this.#logger.warn({ statusCode, reason: error?.message }, 'WhatsApp connection closed');
        this.#scheduleReconnect();
    }
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnectTimer) return;
    const { firstMs, capMs } = this.#options.reconnect ?? DEFAULTS.reconnect;
    // Not linked yet: the close is usually the QR codes running out, and the operator is
    // waiting for a new one; the pause does not grow.
    const waitingForPairing = this.#store?.paired === false && this.#pairing !== undefined;
    const wait = reconnectDelay(waitingForPairing ? 0 : this.#attempt, { firstMs, capMs }, this.#random());
    if (!waitingForPairing) this.#attempt++;
    this.#status = 'reconnecting';
    this.#logger.info({ attempt: this.#attempt, waitMs: wait }, 'WhatsApp reconnecting after a pause');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect();
    }, wait);
  }

  async #onPairingNeeded(sock: WhatsAppSocket, qr: string): Promise<void> {
    this.#status = 'waiting_for_pairing';
    const show = this.#options.showPairing ?? showPairingOnTerminal;
    const number = this.#options.pairingNumber?.replace(/\D/g, '');
    if (number) {
      // A QR event means the socket is ready to register: ask once per socket for a code instead.
      if (this.#pairingRequested) return;
      this.#pairingRequested = true;
      try {
        const code = await sock.requestPairingCode(number);
        this.#pairing = { kind: 'code', code, phone: number };
        show(this.#pairing);
        this.#logger.info({ phone: maskJid(number) }, 'WhatsApp pairing code ready: enter it on the phone under Linked devices > Link with phone number');
      } catch (error) {
        this.#pairingRequested = false; // the next QR refresh asks again
        this.#logger.error({ err: error }, 'WhatsApp pairing code could not be requested');
      }
      return;
    }
    this.#pairing = { kind: 'qr', qr };
    show(this.#pairing);
    this.#logger.info('WhatsApp waiting for pairing: scan the QR code with the cooperative\'s phone (WhatsApp > Linked devices)');
  }

  #onMessage(sock: WhatsAppSocket, raw: WAMessage): void {
    const read = readWhatsAppMessage(raw);
    if (!read.ok) {
      if (this.#logger.isLevelEnabled('trace')) this.#logger.trace({ reason: read.reason }, 'WhatsApp message ignored');
      return;
    }
    const incoming = read.message;
    if (incoming.id) {
      if (this.#recent.has(incoming.id)) return;
      this.#recent.add(incoming.id);
      if (this.#recent.size > 5_000) this.#recent.delete(this.#recent.values().next().value!);
    }
    const maxAge = this.#options.maxAgeSeconds ?? DEFAULTS.maxAgeSeconds;
    if (incoming.timestamp !== undefined && this.#clock() / 1000 - incoming.timestamp > maxAge) {
      this.#logger.debug({ chat: maskJid(incoming.chatJid) }, 'old WhatsApp message not answered');
      return;
    }
    // Read, answer and send in order per chat; chats do not wait for each other.
    const chat = incoming.chatJid;
    const previous = this.#chats.get(chat) ?? Promise.resolve();
    const work = previous.then(() => this.#answer(sock, raw, incoming)).catch((error: unknown) => {
      this.#logger.error({ err: error, chat: maskJid(chat) }, 'WhatsApp reply not delivered');
    });
    this.#chats.set(chat, work);
    this.#track(work);
    void work.then(() => {
      if (this.#chats.get(chat) === work) this.#chats.delete(chat);
    });
  }

  async #answer(sock: WhatsAppSocket, raw: WAMessage, incoming: WhatsAppIncoming): Promise<void> {
    const message = await this.#toInbound(sock, incoming);
    // Blue ticks: the member sees the message was read while the answer is prepared (not in
    // groups, where the bot reads along without taking part).
    if (incoming.chatType === 'private') {
      sock.readMessages([incoming.key]).catch((error: unknown) => this.#logger.debug({ err: error }, 'read receipt not sent'));
    }
    const batch = await this.#options.engine.handle(incoming.document ? { ...message, document: this.#inboundDocument(raw, incoming.document) } : message);
    const texts = batch.replies.flatMap((reply) => renderWhatsAppPieces(reply));
    if (texts.length === 0) return;
    // In a group the pointer answers the request itself, so people see whom it is for.
    const quoted = incoming.chatType === 'group' ? raw : undefined;
    await this.#sendTexts(incoming.chatJid, texts, { typing: true, quoted });
  }

  /** A received document for the core: its bytes downloaded only when the core asks (a board member's RAT report). */
  #inboundDocument(raw: WAMessage, file: NonNullable<WhatsAppIncoming['document']>): NonNullable<InboundMessage['document']> {
    const download = this.#options.downloadMedia ?? ((message: WAMessage) => downloadMediaMessage(message, 'buffer', {}));
    return { ...file, fetch: () => download(raw) };
  }

  /** A document's content for a reply that carries it; null when it was replaced or removed meanwhile. */
  async #documentContent(piece: Exclude<WhatsAppPiece, string>): Promise<AnyMessageContent> {
    const found = await this.#options.engine.services.documents.content(piece.document.id);
    if (!found) return { text: piece.caption };
    return { document: found.bytes, mimetype: found.mimeType, fileName: found.fileName, caption: piece.caption };
  }

  async #toInbound(sock: WhatsAppSocket, incoming: WhatsAppIncoming): Promise<InboundMessage> {
    const base = {
      channel: WHATSAPP_CHANNEL,
      chatId: incoming.chatJid,
      chatType: incoming.chatType,
      ...(incoming.text !== undefined ? { text: incoming.text.slice(0, 4_000) } : {}),
      // A contact card verifies nothing here (the sender's number already does): not read.
      ...(incoming.unsupported || incoming.contact ? { unsupported: true } : {}),
      ...(incoming.displayName ? { displayName: incoming.displayName } : {}),
    };
    if (incoming.chatType === 'group') {
      // Groups never show private data: no phone, no lookups.
      return { ...base, externalUserId: incoming.senderJid };
    }
    const sender = await identifySender(incoming, {
      lidToPhone: (lid) => sock.signalRepository.lidMapping.getPNForLID(lid),
      phoneToLid: (phoneJid) => this.#storedLidOf(phoneJid),
    });
    return {
      ...base,
      externalUserId: sender.externalUserId,
      // WhatsApp vouches for the sender's number on every message; a LID without a known phone
      // gets none, and the core offers the activation-code route.
      ...(sender.phone ? { verifiedPhone: sender.phone, phoneVerifiedBy: 'phone' as const } : {}),
      // Keyed by the phone JID: a recycled number brings its next holder to this same identity.
      ...(sender.lid ? {} : { identityIsNumber: true }),
    };
  }

  /** The LID Baileys' mapping store has saved for a phone JID; read from the key rows, never asked of the server. */
  async #storedLidOf(phoneJid: string): Promise<string | undefined> {
    const user = jidDecode(phoneJid)?.user;
    if (!user || !this.#keys) return undefined;
    const found = await this.#keys.get('lid-mapping', [user]);
    const lidUser = found[user];
    return typeof lidUser === 'string' && /^\d+$/.test(lidUser) ? `${lidUser}@lid` : undefined;
  }

  /**
   * Send texts to one chat, in order, with "typing…" before each when asked. A send that fails
   * because the connection dropped waits for it to come back (up to replyWaitMs) and is tried
   * again, at most three times.
   */
  async #sendTexts(jid: string, texts: WhatsAppPiece[], options: { typing: boolean; quoted?: WAMessage }): Promise<string[]> {
    const ids: string[] = [];
    const typingMs = this.#options.typingMs ?? DEFAULTS.typingMs;
    for (const [index, piece] of texts.entries()) {
      // A document's bytes are read from the database once, for every attempt; only while sending it.
      const content: AnyMessageContent = typeof piece === 'string' ? { text: piece } : await this.#documentContent(piece);
      const text = typeof piece === 'string' ? piece : piece.caption;
      // One id for every attempt: a retry after a timeout that did reach WhatsApp is not a second copy.
      const messageId = generateMessageIDV2(this.#sock?.user?.id);
      for (let attempt = 1; ; attempt++) {
        const sock = await this.#whenOpen();
        try {
          if (options.typing) {
            await sock.sendPresenceUpdate('composing', jid).catch(() => undefined);
            const wait = typingMs(text.length);
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          }
          const sent = await sock.sendMessage(jid, content, { messageId, ...(index === 0 && options.quoted ? { quoted: options.quoted } : {}) });
          if (sent?.key.id) {
            ids.push(sent.key.id);
            if (sent.message) this.#remember(sent.key.id, sent.message);
          }
          break;
        } catch (error) {
          if (attempt >= 3 || this.#stopped) throw error;
          this.#logger.warn({ err: error, attempt }, 'WhatsApp send failed; trying again when connected');
          await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
        }
      }
    }
    if (options.typing) this.#sock?.sendPresenceUpdate('paused', jid).catch(() => undefined);
    return ids;
  }

  #remember(id: string, message: proto.IMessage): void {
    this.#sentMessages.set(id, message);
    if (this.#sentMessages.size > 2_000) this.#sentMessages.delete(this.#sentMessages.keys().next().value!);
  }

  /** The socket once the connection is open; rejects after replyWaitMs or when stopped. */
  #whenOpen(): Promise<WhatsAppSocket> {
    if (this.#status === 'open' && this.#sock) return Promise.resolve(this.#sock);
    if (this.#stopped || ['logged_out', 'replaced', 'banned'].includes(this.#status)) {
      return Promise.reject(new Error(`WhatsApp is not connected (${this.#status})`));
    }
    return new Promise<WhatsAppSocket>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#openWaiters.delete(done);
        if (this.#status === 'open' && this.#sock) resolve(this.#sock);
        else reject(new Error(`WhatsApp is not connected (${this.#status})`));
      };
      const timer = setTimeout(done, this.#options.replyWaitMs ?? DEFAULTS.replyWaitMs);
      this.#openWaiters.add(done);
    });
  }

  /**
   * Send a message the member did not ask for (a reminder, an announcement), paced: one
   * recipient every intervalMs on average, with random jitter, never faster, whatever the
   * caller does. A number that is not on WhatsApp fails permanently; a send that keeps failing
   * is given up after three tries. The outbox records the result.
   */
  sendUnsolicited(phone: string, replies: Reply[]): Promise<UnsolicitedResult> {
    const turn = this.#unsolicitedQueue.then(() => this.#sendUnsolicitedNow(phone, replies));
    this.#unsolicitedQueue = turn.catch(() => undefined);
    this.#track(turn);
    return turn;
  }

  async #sendUnsolicitedNow(phone: string, replies: Reply[]): Promise<UnsolicitedResult> {
    const wait = this.#nextUnsolicitedAt - this.#clock();
    if (wait > 0 && !this.#stopped) await this.#sleep(wait);
    try {
      return await this.#deliverUnsolicited(phone, replies);
    } finally {
      // The pause runs from the end of this recipient's send, however long it took.
      const { intervalMs, jitter } = this.#options.unsolicited ?? DEFAULTS.unsolicited;
      this.#nextUnsolicitedAt = this.#clock() + Math.round(intervalMs * (1 - jitter + 2 * jitter * this.#random()));
    }
  }

  async #deliverUnsolicited(phone: string, replies: Reply[]): Promise<UnsolicitedResult> {
    // Not connected now: the outbox tries again later, rather than everyone queueing behind a reconnect.
    const sock = this.#sock;
    if (this.#stopped || this.#status !== 'open' || !sock) {
      return { status: 'failed', permanent: false, reason: 'not_connected', error: `WhatsApp is ${this.#stopped ? 'stopped' : this.#status}` };
    }
    const digits = phone.replace(/\D/g, '');
    let jid: string;
    try {
      // Writing to numbers that are not on WhatsApp is what spam filters look for: ask first.
      const answer = await sock.onWhatsApp(digits);
      // No answer at all is a timeout, not a "no".
      if (answer === undefined) return { status: 'failed', permanent: false, reason: 'gave_up', error: 'no answer from WhatsApp' };
      const found = answer.find((entry) => entry.exists);
      if (!found) return { status: 'failed', permanent: true, reason: 'not_on_whatsapp' };
      jid = found.jid;
    } catch (error) {
      return { status: 'failed', permanent: false, reason: 'gave_up', error: (error as Error).message };
    }
    const texts = replies.flatMap((reply) => renderWhatsAppReply(reply));
    try {
      const messageIds = await this.#sendTexts(jid, texts, { typing: false });
      return { status: 'sent', messageIds };
    } catch (error) {
      return { status: 'failed', permanent: false, reason: 'gave_up', error: (error as Error).message };
    }
  }

  /** A pause that stop() cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }

  /** Resolves once every message received so far has been answered (or given up). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #track(work: Promise<unknown>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work)).catch(() => undefined);
  }

  /** Stop taking messages, let replies under way finish (up to the deadline), close the socket. Keeps the session. */
  stop(deadlineMs = 25_000): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopped = true;
    this.#stopSignal.abort();
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    // Replies waiting for a reconnect that will not come, and paced sends, give up at once.
    for (const wake of [...this.#openWaiters, ...this.#sleepers]) wake();
    this.#stopping = (async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), deadlineMs);
      });
      const drained = (async () => {
        while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
        return 'done' as const;
      })();
      const outcome = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (outcome === 'late') this.#logger.warn({ unfinished: this.#inFlight.size }, 'WhatsApp replies still waiting at shutdown were given up');
      const sock = this.#sock;
      this.#sock = undefined;
      if (!['logged_out', 'replaced', 'banned'].includes(this.#status)) this.#status = 'stopped';
      // end(), not logout(): the session stays linked for the next start.
      await sock?.end(undefined);
      // Key and credential writes still under way land before the database closes.
      await this.#store?.flush().catch((error: unknown) => this.#logger.error({ err: error }, 'WhatsApp session writes lost at shutdown'));
      // Only now, with the session's last writes in: the next holder reads it as this one left it.
      await this.#options.lock?.release();
      await this.#holding;
      this.#logger.info('WhatsApp channel stopped');
    })();
    return this.#stopping;
  }
}

/** The default pairing display: a QR code (or the pairing code) on the terminal, with instructions. */
export function showPairingOnTerminal(event: PairingEvent): void {
  if (event.kind === 'code') {
    process.stderr.write(
      `\nKode penautan WhatsApp untuk ${event.phone}: ${event.code}\n` +
        'Di ponsel koperasi: WhatsApp > Perangkat tertaut > Tautkan perangkat > Tautkan dengan nomor telepon, lalu masukkan kode ini.\n\n',
    );
    return;
  }
  void import('qrcode')
    .then((qrcode) => qrcode.toString(event.qr, { type: 'terminal', small: true }))
    .then((art) => {
      process.stderr.write(
        `\nPindai kode QR ini dengan WhatsApp di ponsel koperasi (WhatsApp > Perangkat tertaut > Tautkan perangkat):\n${art}\n`,
      );
    })
    .catch(() => process.stderr.write(`\nKode QR WhatsApp (buka dengan pembuat QR): ${event.qr}\n`));
}
