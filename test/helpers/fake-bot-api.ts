/**
 * A Bot API server on 127.0.0.1 that behaves like Telegram's where the bot can tell: the same
 * URLs (/bot<token>/<method>), JSON answers {ok, result} or {ok: false, error_code,
 * description}, long-polled getUpdates with offsets, webhooks posted with the secret-token
 * header, HTML parse errors, the 4,096-character limit, blocked users, and flood limits
 * answered with 429 and retry_after. Tests play the members through it.
 *
 * Used by the Telegram tests and by bench/; never by the service itself.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from '../../src/persistence/database.ts';

export interface FakeUser {
  id: number;
  first_name: string;
  username?: string;
}

export interface SentMessage {
  message_id: number;
  chat_id: number;
  /** The text as the member sees it (tags gone, entities decoded). */
  text: string;
  /** The text as the bot sent it. */
  raw: string;
  parse_mode?: string;
  reply_markup?: {
    inline_keyboard?: { text: string; callback_data?: string; url?: string }[][];
    keyboard?: { text: string; request_contact?: boolean }[][];
    remove_keyboard?: boolean;
    one_time_keyboard?: boolean;
  };
  reply_to?: number;
  at: number;
  /** sendDocument: the file as uploaded (multipart, like the real Bot API takes it); `text` is its caption. */
  document?: { fileName: string; mimeType: string; bytes: Buffer };
}

export interface Call {
  method: string;
  body: Record<string, unknown>;
  status: number;
  at: number;
}

export interface FakeBotApiOptions {
  token?: string;
  username?: string;
  /** Flood limits: messages in any 1 s over all chats; in any window per chat. */
  globalPerSecond?: number;
  privateChat?: { count: number; ms: number };
  groupChat?: { count: number; ms: number };
  retryAfterSeconds?: number;
}

type Update = Record<string, unknown> & { update_id: number };

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
  ) {
    super(description);
  }
}

const ALLOWED_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'code', 'pre', 'a', 'tg-spoiler', 'span', 'blockquote']);

/** Parse Telegram-flavoured HTML as Telegram does: unknown tags, stray "<" or "&", bad nesting fail. */
export function parseTelegramHtml(html: string): string {
  const stack: string[] = [];
  let out = '';
  let i = 0;
  while (i < html.length) {
    const ch = html[i]!;
    if (ch === '<') {
      const end = html.indexOf('>', i);
      if (end < 0) throw new ApiError(400, `Bad Request: can't parse entities: Unclosed start tag at byte offset ${i}`);
      const tag = html.slice(i + 1, end).trim();
      const closing = tag.startsWith('/');
      const name = (closing ? tag.slice(1) : tag).split(/\s/)[0]!.toLowerCase();
      if (!ALLOWED_TAGS.has(name)) throw new ApiError(400, `Bad Request: can't parse entities: Unsupported start tag "${name}" at byte offset ${i}`);
      if (closing) {
        if (stack.pop() !== name) throw new ApiError(400, `Bad Request: can't parse entities: Unmatched end tag at byte offset ${i}, expected "</${stack[stack.length] ?? ''}>", found "</${name}>"`);
      } else stack.push(name);
      i = end + 1;
      continue;
    }
    if (ch === '&') {
      const match = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/i.exec(html.slice(i, i + 12));
      if (!match) throw new ApiError(400, `Bad Request: can't parse entities: Character entity expected at byte offset ${i}`);
      const entity = match[1]!.toLowerCase();
      out += entity === 'lt' ? '<' : entity === 'gt' ? '>' : entity === 'amp' ? '&' : entity === 'quot' ? '"' : String.fromCodePoint(Number(entity.startsWith('#x') ? `0x${entity.slice(2)}` : entity.slice(1)));
      i += match[0].length;
      continue;
    }
    out += ch;
    i++;
  }
  if (stack.length > 0) throw new ApiError(400, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "${stack[stack.length - 1]}"`);
  return out;
}

export class FakeBotApi {
  readonly token: string;
  readonly username: string;
  readonly botId = 7000001;
  readonly sent: SentMessage[] = [];
  readonly calls: Call[] = [];
  readonly answeredCallbacks: string[] = [];
  /** 429s answered because a flood limit was hit (not counting injected ones). */
  floodRefusals = 0;
  /** Every offset a getUpdates confirmed with, in order (each above the one before). */
  readonly confirmedOffsets: number[] = [];
  #server?: Server;
  #updates: Update[] = [];
  #nextUpdateId = 1;
  #nextMessageId = 1;
  #confirmed = 0;
  /** Index into #updates of the first one not confirmed (they are kept in update order). */
  #firstOpen = 0;
  #pollers: (() => void)[] = [];
  #webhook: { url: string; secret?: string } | null = null;
  #webhookBusy: Promise<void> = Promise.resolve();
  readonly #blocked = new Set<number>();
  readonly #chats = new Map<number, { type: string }>();
  readonly #failures: { method: string; code: number; description: string; retryAfter?: number; times: number; chatId?: number }[] = [];
  readonly #holds: { method: string; chatId: number; arrived: () => void; released: Promise<void> }[] = [];
  readonly #sendTimes: number[] = [];
  readonly #chatSendTimes = new Map<number, number[]>();
  readonly #waiters: (() => void)[] = [];
  /** Files members sent (sendDocument of a member), by file_id: what getFile and /file/ serve. */
  readonly #files = new Map<string, { path: string; bytes: Buffer; fileName: string; mimeType: string }>();
  /** Downloads of members' files the bot made (/file/bot<token>/<path>). */
  readonly downloads: string[] = [];
  readonly #options: Required<Omit<FakeBotApiOptions, 'token' | 'username'>>;
  url = '';

  constructor(options: FakeBotApiOptions = {}) {
    this.token = options.token ?? '7000001:AAH-test-token-for-the-local-bot-api';
    this.username = options.username ?? 'KopbotTestBot';
    this.#options = {
      globalPerSecond: options.globalPerSecond ?? 30,
      privateChat: options.privateChat ?? { count: 10, ms: 5000 },
      groupChat: options.groupChat ?? { count: 20, ms: 60_000 },
      retryAfterSeconds: options.retryAfterSeconds ?? 1,
    };
  }

  async start(port = 0): Promise<this> {
    this.#server = createServer((req, res) => void this.#serve(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const wake of this.#pollers.splice(0)) wake();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  // ── What members do ─────────────────────────────────────────────────────────────────────

  sendText(user: FakeUser, text: string, chat?: { id: number; type: 'group' | 'supergroup'; title?: string }): number {
    const message = this.#userMessage(user, chat, { text, ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0]!.length }] } : {}) });
    this.#push({ message });
    return message.message_id as number;
  }

  /** Share a contact; by default the sender's own, as the request-contact button does. */
  shareContact(user: FakeUser, contact: { phone: string; userId?: number | null; forwarded?: boolean } ): void {
    const userId = contact.userId === undefined ? user.id : contact.userId;
    this.#push({
      message: this.#userMessage(user, undefined, {
        contact: { phone_number: contact.phone, first_name: user.first_name, ...(userId !== null ? { user_id: userId } : {}) },
        ...(contact.forwarded ? { forward_origin: { type: 'user', date: 1, sender_user: { id: 99, is_bot: false, first_name: 'X' } } } : {}),
      }),
    });
  }

  /** A member sends a file as a document (a PDF), with a caption if given; its size as Telegram reports it. */
  sendDocument(user: FakeUser, file: { fileName: string; mimeType: string; bytes: Buffer; caption?: string; reportedSize?: number }): string {
    const fileId = `BQACAgUAAx${this.#files.size + 1}`;
    this.#files.set(fileId, { path: `documents/file_${this.#files.size + 1}.${file.fileName.split('.').pop() ?? 'dat'}`, bytes: file.bytes, fileName: file.fileName, mimeType: file.mimeType });
    this.#push({
      message: this.#userMessage(user, undefined, {
        document: { file_id: fileId, file_unique_id: `u${fileId}`, file_name: file.fileName, mime_type: file.mimeType, file_size: file.reportedSize ?? file.bytes.length },
        ...(file.caption ? { caption: file.caption } : {}),
      }),
    });
    return fileId;
  }

  sendSticker(user: FakeUser, emoji?: string): void {
    this.#push({ message: this.#userMessage(user, undefined, { sticker: { file_id: 'CAAC', file_unique_id: 'u', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false, ...(emoji ? { emoji } : {}) } }) });
  }

  sendVoice(user: FakeUser): void {
    this.#push({ message: this.#userMessage(user, undefined, { voice: { file_id: 'AwAC', file_unique_id: 'v', duration: 3 } }) });
  }

  /** Press an inline button of a message the bot sent. */
  press(user: FakeUser, message: SentMessage, buttonText: string): void {
    const button = message.reply_markup?.inline_keyboard?.flat().find((b) => b.text === buttonText);
    if (!button?.callback_data) throw new Error(`no button "${buttonText}" on message ${message.message_id}: ${JSON.stringify(message.reply_markup)}`);
    this.pressData(user, message, button.callback_data);
  }

  pressData(user: FakeUser, message: SentMessage, data: string): void {
    this.#push({
      callback_query: {
        id: String(Math.floor(Math.random() * 1e12)),
        from: { ...user, is_bot: false },
        message: { message_id: message.message_id, chat: { id: message.chat_id, type: 'private', first_name: user.first_name }, date: 1, text: message.text },
        chat_instance: '1',
        data,
      },
    });
  }

  /** A chat the bot may write to (a member who pressed Start long ago). */
  addChat(chatId: number, type: 'private' | 'group' | 'supergroup' = chatId < 0 ? 'supergroup' : 'private'): void {
    this.#chats.set(chatId, { type });
  }

  blockBot(chatId: number): void {
    this.#blocked.add(chatId);
  }

  /** The next `times` calls of `method` fail like this (a 429 with retry_after, a 500…). */
  failNext(method: string, failure: { code: number; description: string; retryAfter?: number }, times = 1): void {
    this.#failures.push({ method, ...failure, times });
  }

  /** The next `times` calls of `method` for this chat fail like this (other chats are served). */
  failNextFor(chatId: number, method: string, failure: { code: number; description: string; retryAfter?: number }, times = 1): void {
    this.#failures.push({ method, ...failure, times, chatId });
  }

  /**
   * The next call of `method` for this chat comes in and gets no answer until `release()`: a
   * request on its way when the bot stops. Served as usual once released (a message is sent
   * then, as Telegram would have sent it). `arrived` resolves when the request has come in.
   */
  holdNextFor(chatId: number, method: string): { arrived: Promise<void>; release: () => void } {
    let release!: () => void;
    let arrived!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const came = new Promise<void>((resolve) => (arrived = resolve));
    this.#holds.push({ method, chatId, arrived, released });
    return { arrived: came, release };
  }

  // ── What tests look at ──────────────────────────────────────────────────────────────────

  messagesTo(chatId: number): SentMessage[] {
    return this.sent.filter((m) => m.chat_id === chatId);
  }

  /** Wait until the chat has received at least `count` messages in all; returns the new ones after `after`. */
  async waitForMessages(chatId: number, count: number, options: { after?: number; timeoutMs?: number } = {}): Promise<SentMessage[]> {
    const after = options.after ?? 0;
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const got = this.messagesTo(chatId).slice(after);
      if (got.length >= count) return got;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`chat ${chatId}: expected ${count} messages after #${after}, got ${got.length}: ${JSON.stringify(got.map((m) => m.text))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  get pendingUpdates(): number {
    return this.#updates.length - this.#firstOpen;
  }

  /** Updates below this id were confirmed by the bot (Telegram will not deliver them again). */
  get confirmedBelow(): number {
    return this.#confirmed;
  }

  /** The id the next update will get. */
  get nextUpdateId(): number {
    return this.#nextUpdateId;
  }

  /** Wait until `check` holds, looked at whenever the bot sends or polls (no fixed sleeps). */
  async waitUntil(check: () => boolean, options: { timeoutMs?: number; what?: string } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${options.what ?? 'a condition'}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  get webhook(): { url: string; secret?: string } | null {
    return this.#webhook;
  }

  // ── The Bot API ─────────────────────────────────────────────────────────────────────────

  #userMessage(user: FakeUser, chat: { id: number; type: string; title?: string } | undefined, content: Record<string, unknown>): Record<string, unknown> {
    const theChat = chat ?? { id: user.id, type: 'private', first_name: user.first_name };
    this.#chats.set(theChat.id, { type: theChat.type });
    return { message_id: this.#nextMessageId++, from: { ...user, is_bot: false, language_code: 'id' }, chat: theChat, date: Math.floor(Date.now() / 1000), ...content };
  }

  /** The id of the latest update a member's action made (to await the bot's answer to it). */
  get lastUpdateId(): number {
    return this.#nextUpdateId - 1;
  }

  #push(content: Record<string, unknown>): void {
    const update = { update_id: this.#nextUpdateId++, ...content } as Update;
    this.#updates.push(update);
    if (this.#webhook) {
      const webhook = this.#webhook;
      // Telegram posts one update at a time per bot and retries one that was not answered 2xx.
      this.#webhookBusy = this.#webhookBusy.then(() => this.#deliver(webhook, update));
      return;
    }
    for (const wake of this.#pollers.splice(0)) wake();
  }

  async #deliver(webhook: { url: string; secret?: string }, update: Update): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const response = await fetch(webhook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(webhook.secret ? { 'x-telegram-bot-api-secret-token': webhook.secret } : {}) },
          body: JSON.stringify(update),
        });
        await response.arrayBuffer();
        if (response.ok) return;
      } catch {
        // the service is not listening (yet): try again
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** GET /file/bot<token>/<file_path>: a member's file, as the Bot API serves it after getFile. */
  #serveFile(req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/file\/bot([^/]+)\/(.+)$/.exec(req.url ?? '');
    const file = match && match[1] === this.token ? [...this.#files.values()].find((f) => f.path === match[2]) : undefined;
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    this.downloads.push(file.path);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.bytes.length) });
    res.end(file.bytes);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((req.url ?? '').startsWith('/file/')) return this.#serveFile(req, res);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)/.exec(req.url ?? '');
    let body: Record<string, unknown> = {};
    let method = '';
    let status = 200;
    let answer: unknown;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const contentType = req.headers['content-type'] ?? '';
      const rawBody = contentType.includes('multipart/form-data') ? '' : Buffer.concat(chunks).toString('utf8');
      if (contentType.includes('multipart/form-data')) body = await parseMultipart(Buffer.concat(chunks), contentType);
      else if (rawBody) body = contentType.includes('json') ? JSON.parse(rawBody) : Object.fromEntries(new URLSearchParams(rawBody));
      if (!match) throw new ApiError(404, 'Not Found');
      method = match[2]!;
      if (match[1] !== this.token) throw new ApiError(401, 'Unauthorized');
      const failure = this.#failures.find((f) => f.method === method && f.times > 0 && (f.chatId === undefined || f.chatId === Number(body.chat_id)));
      if (failure) {
        failure.times--;
        throw new ApiError(failure.code, failure.description, failure.retryAfter !== undefined ? { retry_after: failure.retryAfter } : undefined);
      }
      const held = this.#holds.findIndex((h) => h.method === method && h.chatId === Number(body.chat_id));
      if (held >= 0) {
        const [hold] = this.#holds.splice(held, 1);
        hold!.arrived();
        await hold!.released;
      }
      answer = await this.#call(method, body, res);
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(400, `Bad Request: ${(error as Error).message}`);
      status = e.code;
      answer = { ok: false, error_code: e.code, description: e.description, ...(e.parameters ? { parameters: e.parameters } : {}) };
    }
    this.calls.push({ method, body, status, at: Date.now() });
    const payload = status === 200 ? { ok: true, result: answer } : answer;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  }

  #checkFlood(chatId: number): void {
    const now = Date.now();
    const recent = this.#sendTimes.filter((t) => t > now - 1000);
    this.#sendTimes.splice(0, this.#sendTimes.length, ...recent);
    const type = this.#chats.get(chatId)?.type ?? (chatId < 0 ? 'group' : 'private');
    const limit = type === 'private' ? this.#options.privateChat : this.#options.groupChat;
    const chatTimes = (this.#chatSendTimes.get(chatId) ?? []).filter((t) => t > now - limit.ms);
    this.#chatSendTimes.set(chatId, chatTimes);
    if (recent.length >= this.#options.globalPerSecond || chatTimes.length >= limit.count) {
      this.floodRefusals++;
      const retryAfter = this.#options.retryAfterSeconds;
      throw new ApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    this.#sendTimes.push(now);
    chatTimes.push(now);
  }

  async #call(method: string, body: Record<string, unknown>, response?: ServerResponse): Promise<unknown> {
    switch (method) {
      case 'getMe':
        return { id: this.botId, is_bot: true, first_name: 'Kopbot Test', username: this.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };
      case 'getUpdates': {
        if (this.#webhook) throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
        const offset = Number(body.offset ?? 0);
        if (offset > this.#confirmed) {
          this.#confirmed = offset;
          this.confirmedOffsets.push(offset);
          while (this.#firstOpen < this.#updates.length && this.#updates[this.#firstOpen]!.update_id < offset) this.#firstOpen++;
          for (const wake of this.#waiters.splice(0)) wake();
        }
        const limit = Number(body.limit ?? 100);
        const timeout = Number(body.timeout ?? 0);
        const ready = () => this.#updates.slice(this.#firstOpen, this.#firstOpen + limit);
        if (ready().length === 0 && timeout > 0) {
          await new Promise<void>((resolve) => {
            const wake = () => {
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(wake, timeout * 1000);
            this.#pollers.push(wake);
            // The bot gave up the request (it is stopping): nobody is waiting for an answer.
            response?.once('close', wake);
          });
        }
        return ready();
      }
      case 'deleteWebhook':
        this.#webhook = null;
        return true;
      case 'setWebhook': {
        const url = String(body.url ?? '');
        if (!/^https:\/\//.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) throw new ApiError(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
        this.#webhook = { url, ...(body.secret_token ? { secret: String(body.secret_token) } : {}) };
        return true;
      }
      case 'getWebhookInfo':
        return { url: this.#webhook?.url ?? '', has_custom_certificate: false, pending_update_count: this.pendingUpdates };
      case 'setMyCommands':
      case 'sendChatAction':
        return true;
      case 'answerCallbackQuery':
        this.answeredCallbacks.push(String(body.callback_query_id));
        return true;
      case 'editMessageReplyMarkup': {
        const message = this.sent.find((m) => m.message_id === Number(body.message_id) && m.chat_id === Number(body.chat_id));
        if (!message) throw new ApiError(400, 'Bad Request: message to edit not found');
        const next = body.reply_markup as SentMessage['reply_markup'];
        if (JSON.stringify(next ?? {}) === JSON.stringify(message.reply_markup ?? {})) throw new ApiError(400, 'Bad Request: message is not modified');
        message.reply_markup = next;
        return { message_id: message.message_id, chat: { id: message.chat_id }, text: message.text };
      }
      case 'getFile': {
        const file = this.#files.get(String(body.file_id));
        if (!file) throw new ApiError(400, 'Bad Request: invalid file_id');
        return { file_id: String(body.file_id), file_unique_id: `u${String(body.file_id)}`, file_size: file.bytes.length, file_path: file.path };
      }
      case 'sendDocument': {
        const chatId = Number(body.chat_id);
        if (!this.#chats.has(chatId)) throw new ApiError(400, 'Bad Request: chat not found');
        if (this.#blocked.has(chatId)) throw new ApiError(403, 'Forbidden: bot was blocked by the user');
        const upload = body.document as { fileName: string; mimeType: string; bytes: Buffer } | undefined;
        if (!upload || typeof upload !== 'object' || !Buffer.isBuffer(upload.bytes)) throw new ApiError(400, 'Bad Request: there is no document in the request');
        const raw = String(body.caption ?? '');
        const text = body.parse_mode === 'HTML' ? parseTelegramHtml(raw) : raw;
        if (text.length > 1024) throw new ApiError(400, 'Bad Request: message caption is too long');
        this.#checkFlood(chatId);
        const markup = body.reply_markup as SentMessage['reply_markup'] | undefined;
        const message: SentMessage = { message_id: this.#nextMessageId++, chat_id: chatId, text, raw, ...(body.parse_mode ? { parse_mode: String(body.parse_mode) } : {}), ...(markup ? { reply_markup: markup } : {}), at: Date.now(), document: upload };
        this.sent.push(message);
        for (const wake of this.#waiters.splice(0)) wake();
        return { message_id: message.message_id, chat: { id: chatId, type: this.#chats.get(chatId)!.type }, date: Math.floor(Date.now() / 1000), document: { file_id: `sent${message.message_id}`, file_name: upload.fileName, mime_type: upload.mimeType, file_size: upload.bytes.length }, ...(text ? { caption: text } : {}) };
      }
      case 'sendMessage': {
        const chatId = Number(body.chat_id);
        if (!this.#chats.has(chatId)) throw new ApiError(400, 'Bad Request: chat not found');
        if (this.#blocked.has(chatId)) throw new ApiError(403, 'Forbidden: bot was blocked by the user');
        const raw = String(body.text ?? '');
        const text = body.parse_mode === 'HTML' ? parseTelegramHtml(raw) : raw;
        if (text.trim() === '') throw new ApiError(400, 'Bad Request: message text is empty');
        if (text.length > 4096) throw new ApiError(400, 'Bad Request: message is too long');
        const markup = body.reply_markup as SentMessage['reply_markup'] | undefined;
        for (const row of markup?.inline_keyboard ?? []) {
          for (const button of row) {
            if (button.callback_data !== undefined && Buffer.byteLength(button.callback_data) > 64) throw new ApiError(400, 'Bad Request: BUTTON_DATA_INVALID');
          }
        }
        this.#checkFlood(chatId);
        const replyTo = (body.reply_parameters as { message_id?: number } | undefined)?.message_id ?? (body.reply_to_message_id as number | undefined);
        const message: SentMessage = {
          message_id: this.#nextMessageId++,
          chat_id: chatId,
          text,
          raw,
          ...(body.parse_mode ? { parse_mode: String(body.parse_mode) } : {}),
          ...(markup ? { reply_markup: markup } : {}),
          ...(replyTo !== undefined ? { reply_to: replyTo } : {}),
          at: Date.now(),
        };
        this.sent.push(message);
        for (const wake of this.#waiters.splice(0)) wake();
        return { message_id: message.message_id, from: { id: this.botId, is_bot: true, first_name: 'Kopbot Test', username: this.username }, chat: { id: chatId, type: this.#chats.get(chatId)!.type }, date: Math.floor(Date.now() / 1000), text };
      }
      default:
        throw new ApiError(404, 'Not Found: method not found');
    }
  }
}

/** Fields of a multipart body as the Bot API reads them: JSON fields parsed, a file part as its bytes. */
async function parseMultipart(raw: Buffer, contentType: string): Promise<Record<string, unknown>> {
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  const body: Record<string, unknown> = {};
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') {
      body[name] = ['reply_markup', 'reply_parameters', 'entities', 'caption_entities'].includes(name) ? JSON.parse(value) : value;
    } else {
      const file = value as File;
      body[name] = { fileName: file.name, mimeType: file.type, bytes: Buffer.from(await file.arrayBuffer()) };
    }
  }
  return body;
}

/**
 * `count` members of a cooperative who shared their contact on Telegram (member numbers T0…,
 * chats firstChatId…), each a chat the fake Bot API knows. Returns their member ids.
 */
export async function addTelegramMembers(db: Db, api: FakeBotApi, options: { koperasiCode: string; count: number; firstChatId: number }): Promise<number[]> {
  const koperasi = await db.koperasi.findUniqueOrThrow({ where: { code: options.koperasiCode } });
  await db.member.createMany({
    data: Array.from({ length: options.count }, (_, i) => ({ koperasiId: koperasi.id, memberNumber: `T${i}`, name: `Anggota ${i}`, phone: `62813${String(10_000_000 + i)}` })),
  });
  const members = await db.member.findMany({ where: { koperasiId: koperasi.id, memberNumber: { startsWith: 'T' } }, orderBy: { id: 'asc' } });
  await db.channelIdentity.createMany({
    data: members.map((m, i) => ({ channel: 'telegram', externalId: String(options.firstChatId + i), memberId: m.id, verifiedBy: 'contact', phone: m.phone })),
  });
  members.forEach((_, i) => api.addChat(options.firstChatId + i));
  return members.map((m) => m.id);
}
