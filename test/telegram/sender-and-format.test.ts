/**
 * The pieces under the Telegram channel: the flood-limited sender against the local Bot API
 * server, and the rendering of replies (HTML safety, the 4,096-character limit, keyboards).
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Telegram } from 'telegraf';
import { renderReply, splitText, toTelegramHtml } from '../../src/channels/telegram/telegram-format.ts';
import { TelegramSendError, TelegramSender } from '../../src/channels/telegram/telegram-sender.ts';
import { commandText, parseUpdate } from '../../src/channels/telegram/telegram-updates.ts';
import { createLogger } from '../../src/logger.ts';
import { FakeBotApi, parseTelegramHtml } from '../helpers/fake-bot-api.ts';
import { freePort } from './helpers.ts';

const quiet = createLogger('silent');

describe('sending within Telegram\'s limits', () => {
  let api: FakeBotApi;
  beforeEach(async () => {
    api = await new FakeBotApi().start();
  });
  afterEach(async () => {
    await api.close();
  });

  const senderFor = (options: ConstructorParameters<typeof TelegramSender>[2] = {}) => {
    const telegram = new Telegram(api.token, { apiRoot: api.url });
    return new TelegramSender((method, payload) => telegram.callApi(method as never, payload as never), quiet, options);
  };

  test('90 messages to 90 chats go out at about 30 a second with no 429', async () => {
    for (let id = 1; id <= 90; id++) api.addChat(10_000 + id);
    const sender = senderFor();
    const started = Date.now();
    await Promise.all(Array.from({ length: 90 }, (_, i) => sender.send(10_001 + i, 'sendMessage', { text: `Pengumuman ${i + 1}` })));
    const seconds = (Date.now() - started) / 1000;
    expect(api.sent).toHaveLength(90);
    expect(api.floodRefusals).toBe(0);
    // Three windows of 30: at least two full seconds of waiting, and not much more.
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThan(4);
  });

  test('one chat gets a burst, then is paced, in order, with no 429', async () => {
    api.addChat(42);
    const limits = { privateChat: { count: 3, ms: 600 } };
    await api.close();
    api = await new FakeBotApi(limits).start();
    api.addChat(42);
    const sender = senderFor(limits);
    await Promise.all(Array.from({ length: 9 }, (_, i) => sender.send(42, 'sendMessage', { text: `Pesan ${i + 1}` })));
    expect(api.floodRefusals).toBe(0);
    expect(api.messagesTo(42).map((m) => m.text)).toEqual(Array.from({ length: 9 }, (_, i) => `Pesan ${i + 1}`));
    const times = api.messagesTo(42).map((m) => m.at);
    expect(times[8]! - times[0]!).toBeGreaterThanOrEqual(1200);
  });

  test('a 429 holds that chat for retry_after seconds, then the message goes', async () => {
    api.addChat(42);
    api.failNext('sendMessage', { code: 429, description: 'Too Many Requests: retry after 2', retryAfter: 2 });
    const sender = senderFor();
    const started = Date.now();
    await sender.send(42, 'sendMessage', { text: 'Pengingat RAT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(api.messagesTo(42).map((m) => m.text)).toEqual(['Pengingat RAT']);
    expect(sender.stats.retried429).toBe(1);
  });

  test('permanent refusals are reported once and not retried', async () => {
    api.addChat(42);
    api.blockBot(42);
    const sender = senderFor();
    const blocked = await sender.send(42, 'sendMessage', { text: 'x' }).catch((error: unknown) => error);
    expect(blocked).toBeInstanceOf(TelegramSendError);
    expect(blocked).toMatchObject({ reason: 'blocked', permanent: true });
    const missing = await sender.send(43, 'sendMessage', { text: 'x' }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ reason: 'chat_not_found', permanent: true });
    expect(api.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(2);
  });

  test('a server that cannot be reached is retried with backoff, then given up on', async () => {
    const telegram = new Telegram(api.token, { apiRoot: `http://127.0.0.1:${await freePort()}` });
    let attempts = 0;
    const delays: number[] = [];
    const sender = new TelegramSender(
      (method, payload) => {
        attempts++;
        return telegram.callApi(method as never, payload as never);
      },
      quiet,
      { maxRetries: 3, backoffMs: { first: 100, cap: 250 }, random: () => 1, sleep: async (ms) => void delays.push(ms) },
    );
    const error = await sender.send(42, 'sendMessage', { text: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'gave_up', permanent: false });
    expect(attempts).toBe(4);
    expect(delays).toEqual([100, 200, 250]);
  });
});

describe('rendering replies for Telegram', () => {
  test('text is escaped and *bold* becomes <b>; anything else stays as written', () => {
    expect(toTelegramHtml('*Total: Rp6.150.000*\nKetik *menu* <ya> & "tidak"')).toBe('<b>Total: Rp6.150.000</b>\nKetik <b>menu</b> &lt;ya&gt; &amp; "tidak"');
    expect(toTelegramHtml('2*3 = 6, a * b, 5 * 4 *')).toBe('2*3 = 6, a * b, 5 * 4 *');
    expect(toTelegramHtml('*Simpanan Siti *Bu**', ['Siti *Bu*'])).toBe('<b>Simpanan Siti *Bu*</b>');
    for (const text of ['*a _b* c_', '**', '*<b>*', '* x *', '*a\nb*', '&amp; *&lt;*']) {
      expect(() => parseTelegramHtml(toTelegramHtml(text))).not.toThrow();
    }
  });

  test('long texts are split under 4,096 characters, at paragraph breaks, without cutting an emoji', () => {
    const paragraph = `${'Transaksi simpanan wajib Rp50.000 '.repeat(20)}💰`;
    const text = Array.from({ length: 12 }, () => paragraph).join('\n\n');
    const pieces = splitText(text, 4000);
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(4000);
      expect(piece.endsWith('💰')).toBe(true);
    }
    expect(pieces.join('\n\n')).toBe(text);
    // No spaces or breaks at all: a hard cut that keeps surrogate pairs whole.
    const emoji = '😀'.repeat(3000);
    const hard = splitText(emoji, 4000);
    expect(hard.join('')).toBe(emoji);
    for (const piece of hard) expect(piece).toMatch(/^(?:😀)+$/u);
  });

  test('a menu becomes buttons on the last piece; without a menu name it stays numbered text', () => {
    const long = 'Pengumuman panjang. '.repeat(400);
    const pieces = renderReply({ text: long, options: [{ key: '1', label: 'Hadir' }, { key: '2', label: 'Tidak hadir' }], menu: 'rat' });
    expect(pieces.length).toBe(2);
    expect(pieces[0]!.reply_markup).toBeUndefined();
    expect(pieces[1]!.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Hadir', callback_data: 'rat|1' }], [{ text: 'Tidak hadir', callback_data: 'rat|2' }]] });
    for (const piece of pieces) expect(parseTelegramHtml(piece.text).length).toBeLessThanOrEqual(4096);
    const plain = renderReply({ text: 'Pilih:', options: [{ key: '1', label: 'Satu' }] });
    expect(plain).toEqual([{ text: 'Pilih:\n1. Satu', parse_mode: 'HTML' }]);
  });

  test('a long reply is accepted by the server piece by piece', async () => {
    const api = await new FakeBotApi().start();
    try {
      api.addChat(42);
      const telegram = new Telegram(api.token, { apiRoot: api.url });
      const sender = new TelegramSender((method, payload) => telegram.callApi(method as never, payload as never), quiet);
      const text = Array.from({ length: 300 }, (_, i) => `${i + 1}. Angsuran <${i}> & *lunas*`).join('\n');
      for (const piece of renderReply({ text })) await sender.send(42, 'sendMessage', piece);
      expect(api.messagesTo(42).length).toBeGreaterThan(1);
      expect(api.messagesTo(42).map((m) => m.text).join('\n')).toBe(text.replaceAll('*lunas*', 'lunas'));
    } finally {
      await api.close();
    }
  });
});

describe('reading Telegram updates', () => {
  const from = { id: 5, is_bot: false, first_name: 'Budi' };
  test('commands lose their slash and the bot\'s own mention; another bot\'s command is not ours', () => {
    expect(commandText('/saldo', 'KopBot')).toBe('saldo');
    expect(commandText('/saldo@KopBot', 'kopbot')).toBe('saldo');
    expect(commandText('/start abc123', 'KopBot')).toBe('start');
    expect(commandText('/rat@OtherBot', 'KopBot')).toBeNull();
    expect(commandText('saldo', 'KopBot')).toBe('saldo');
  });

  test('only the sender\'s own, unforwarded contact carries a verified phone', () => {
    const contact = (extra: Record<string, unknown>) =>
      parseUpdate({ update_id: 1, message: { message_id: 1, from, chat: { id: 5, type: 'private' }, contact: { phone_number: '+62 812-3456-7801', ...extra } } });
    expect(contact({ user_id: 5 })?.message).toMatchObject({ verifiedPhone: '6281234567801', phoneVerifiedBy: 'contact', contact: { own: true } });
    expect(contact({ user_id: 6 })?.message.verifiedPhone).toBeUndefined();
    expect(contact({})?.message.verifiedPhone).toBeUndefined();
    const forwarded = parseUpdate({ update_id: 2, message: { message_id: 2, from, chat: { id: 5, type: 'private' }, forward_date: 1, contact: { phone_number: '6281234567801', user_id: 5 } } });
    expect(forwarded?.message.verifiedPhone).toBeUndefined();
    // In a group, a contact is nobody's verification and gets no answer.
    expect(parseUpdate({ update_id: 3, message: { message_id: 3, from, chat: { id: -5, type: 'group' }, contact: { phone_number: '6281234567801', user_id: 5 } } })).toBeNull();
  });

  test('what a service bot ignores yields nothing', () => {
    expect(parseUpdate({ update_id: 1, edited_message: { message_id: 1, from, chat: { id: 5, type: 'private' }, text: 'x' } })).toBeNull();
    expect(parseUpdate({ update_id: 1, channel_post: { message_id: 1, chat: { id: -1, type: 'channel' }, text: 'x' } })).toBeNull();
    expect(parseUpdate({ update_id: 1, message: { message_id: 1, from: { ...from, is_bot: true }, chat: { id: 5, type: 'private' }, text: 'x' } })).toBeNull();
    expect(parseUpdate({ update_id: 1, message: { message_id: 1, from, chat: { id: -5, type: 'group' }, new_chat_members: [from] } })).toBeNull();
    expect(parseUpdate({ nonsense: true })).toBeNull();
  });
});
