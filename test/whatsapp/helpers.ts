/**
 * A stand-in for a Baileys socket, for what cannot exist here (WhatsApp's servers). It uses
 * Baileys' own event emitter and its real Signal repository (so the LID mapping store is the
 * library's, over our database-backed key store), and behaves like a socket does: sending on a
 * closed connection throws Boom 428 "Connection Closed", end() emits a close, numbers not on
 * WhatsApp are reported so by onWhatsApp.
 */
import { Boom } from '@hapi/boom';
import {
  addTransactionCapability,
  DisconnectReason,
  makeEventBuffer,
  proto,
  type AnyMessageContent,
  type MiscMessageGenerationOptions,
  type UserFacingSocketConfig,
  type WAMessage,
  type WAPresence,
} from '@whiskeysockets/baileys';
import { makeLibSignalRepository } from '@whiskeysockets/baileys/lib/Signal/libsignal.js';
import pino from 'pino';
import type { WhatsAppSocket } from '../../src/channels/whatsapp/whatsapp-channel.ts';

export const BOT_JID = '6281200000000@s.whatsapp.net';
const quiet = pino({ level: 'silent' });

export interface SentMessage {
  id: string;
  jid: string;
  text: string;
  quoted: boolean;
  at: number;
  /** A document message (its caption is `text`): what the member's phone would save. */
  document?: { bytes: Buffer; mimetype: string; fileName: string };
}

let counter = 0;

export class FakeSocket implements WhatsAppSocket {
  readonly ev = makeEventBuffer(quiet);
  readonly signalRepository: WhatsAppSocket['signalRepository'];
  user: WhatsAppSocket['user'] = { id: BOT_JID };
  readonly sent: SentMessage[] = [];
  /** Every presence and read receipt, in order, with the sends: what the member's phone would show. */
  readonly timeline: string[] = [];
  readonly pairingRequests: string[] = [];
  open = false;
  ended = false;
  /** Numbers (digits) that have WhatsApp; everyone has it when undefined. */
  registered?: Set<string>;
  /** Errors the next sendMessage calls throw, in order. */
  failures: Error[] = [];
  /** Errors thrown by the next sendMessage calls after the message did reach WhatsApp (a lost answer). */
  failuresAfterDelivery: Error[] = [];
  /** onWhatsApp gets no answer (Baileys then returns undefined after its query timeout). */
  lookupTimesOut = false;
  /** How long onWhatsApp takes to answer (a slow network). */
  lookupDelayMs = 0;
  readonly rejectedCalls: string[] = [];

  constructor(readonly config: UserFacingSocketConfig) {
    const keys = addTransactionCapability(config.auth.keys, quiet, { maxCommitRetries: 2, delayBetweenTriesMs: 10 });
    this.signalRepository = makeLibSignalRepository({ creds: config.auth.creds, keys }, quiet);
  }

  async sendMessage(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions): Promise<WAMessage | undefined> {
    if (!this.open) throw new Boom('Connection Closed', { statusCode: DisconnectReason.connectionClosed });
    const failure = this.failures.shift();
    if (failure) throw failure;
    const document = 'document' in content && Buffer.isBuffer(content.document) ? { bytes: content.document, mimetype: content.mimetype, fileName: content.fileName ?? '' } : undefined;
    const text = 'text' in content && typeof content.text === 'string' ? content.text : document ? ('caption' in content && content.caption) || '' : JSON.stringify(content);
    const id = options?.messageId ?? `BOT${++counter}`;
    // WhatsApp keeps one message per id: a second send with the same id is the same message.
    if (!this.sent.some((m) => m.id === id)) {
      this.sent.push({ id, jid, text, quoted: options?.quoted !== undefined, at: Date.now(), ...(document ? { document } : {}) });
      this.timeline.push(`send ${jid}`);
    }
    const lost = this.failuresAfterDelivery.shift();
    if (lost) throw lost;
    return proto.WebMessageInfo.create({ key: { remoteJid: jid, fromMe: true, id }, message: { conversation: text } }) as WAMessage;
  }

  async sendPresenceUpdate(type: WAPresence, jid?: string): Promise<void> {
    if (!this.open) throw new Boom('Connection Closed', { statusCode: DisconnectReason.connectionClosed });
    this.timeline.push(`${type} ${jid}`);
  }

  async readMessages(keys: proto.IMessageKey[]): Promise<void> {
    for (const key of keys) this.timeline.push(`read ${key.id}`);
  }

  async onWhatsApp(...numbers: string[]): Promise<{ jid: string; exists: boolean }[] | undefined> {
    if (!this.open) throw new Boom('Connection Closed', { statusCode: DisconnectReason.connectionClosed });
    if (this.lookupDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.lookupDelayMs));
    if (this.lookupTimesOut) return undefined;
    // Like Baileys: only the numbers that have WhatsApp are listed.
    return numbers.filter((n) => !this.registered || this.registered.has(n)).map((n) => ({ jid: `${n}@s.whatsapp.net`, exists: true }));
  }

  async rejectCall(callId: string, from: string): Promise<void> {
    this.rejectedCalls.push(`${callId} ${from}`);
  }

  async requestPairingCode(phone: string): Promise<string> {
    this.pairingRequests.push(phone);
    return 'KOPB0T12';
  }

  async end(error: Error | undefined): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.open = false;
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } });
  }

  // ——— what WhatsApp's server would cause ———

  connect(): void {
    this.open = true;
    this.ev.emit('connection.update', { connection: 'open' });
  }

  close(statusCode: number, message = 'closed'): void {
    this.open = false;
    this.ended = true;
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error: new Boom(message, { statusCode }), date: new Date() } });
  }

  showQr(qr = '2@fake-ref,noise,identity,adv'): void {
    this.ev.emit('connection.update', { qr });
  }

  receive(...messages: WAMessage[]): void {
    this.ev.emit('messages.upsert', { messages, type: 'notify' });
  }

  ring(from: string, id = `CALL${++counter}`): void {
    this.ev.emit('call', [{ chatId: from, from, id, date: new Date(), status: 'offer', offline: false, isVideo: false }]);
  }

  /** How Baileys hands over what arrived while the device was offline, and the number's own sends. */
  append(...messages: WAMessage[]): void {
    this.ev.emit('messages.upsert', { messages, type: 'append' });
  }
}

/** Records every socket the channel makes, as makeWASocket would be called. */
export function socketFactory(setup?: (socket: FakeSocket) => void) {
  const sockets: FakeSocket[] = [];
  const make = (config: UserFacingSocketConfig): WhatsAppSocket => {
    const socket = new FakeSocket(config);
    sockets.push(socket);
    setup?.(socket);
    return socket;
  };
  return { sockets, make, get last(): FakeSocket { return sockets[sockets.length - 1]!; } };
}

let messageCounter = 0;

/** A real `proto.WebMessageInfo` as Baileys hands it to `messages.upsert`. */
export function waMessage(options: {
  from: string;
  text?: string;
  message?: proto.IMessage;
  alt?: string;
  group?: string;
  fromMe?: boolean;
  at?: Date;
  pushName?: string;
  id?: string;
}): WAMessage {
  const key: WAMessage['key'] = options.group
    ? { remoteJid: options.group, participant: options.from, fromMe: options.fromMe ?? false, id: options.id ?? `MSG${++messageCounter}` }
    : { remoteJid: options.from, fromMe: options.fromMe ?? false, id: options.id ?? `MSG${++messageCounter}` };
  if (options.alt) {
    if (options.group) key.participantAlt = options.alt;
    else key.remoteJidAlt = options.alt;
  }
  const info = proto.WebMessageInfo.create({
    key,
    message: options.message ?? { conversation: options.text ?? '' },
    messageTimestamp: Math.floor((options.at ?? new Date()).getTime() / 1000),
    pushName: options.pushName ?? 'Anggota',
  });
  // proto.create drops the v7 extension fields of the key: put them back as Baileys does.
  Object.assign(info.key!, key);
  return info as WAMessage;
}

export { until } from '../helpers/until.ts';
