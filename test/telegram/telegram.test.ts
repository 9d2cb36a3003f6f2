/**
 * The Telegram channel end to end: the real service, real telegraf, and a Bot API server on
 * 127.0.0.1 that answers like Telegram's (including 429s, parse errors and blocked users).
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { issueActivationCode } from '../../src/domain/activation-codes.ts';
import { StartupError } from '../../src/service.ts';
import { FakeBotApi, type FakeUser, type SentMessage } from '../helpers/fake-bot-api.ts';
import { allText, ask, expireSessions, freePort, press, settle, share, startTelegramService, type TelegramTestService } from './helpers.ts';

const SITI: FakeUser = { id: 501, first_name: 'Siti' }; // 6281234567801 on file
const STRANGER: FakeUser = { id: 777, first_name: 'Orang Lain' }; // phone not on file
const GROUP = { id: -100123, type: 'supergroup' as const, title: 'Anggota KPRI Sejahtera' };

const RUPIAH = /Rp\s?\d/;

function buttonsOf(message: SentMessage): string[] {
  return (message.reply_markup?.inline_keyboard ?? []).flat().map((b) => b.text);
}

describe('Telegram, long polling', () => {
  let t: TelegramTestService;
  beforeEach(async () => {
    t = await startTelegramService();
  });
  afterEach(async () => {
    await t.dispose();
  });

  test('a member goes from /start through contact verification to savings, loans and the RAT with buttons', async () => {
    const [menu] = await ask(t, SITI, '/start');
    expect(menu!.text).toContain('Silakan pilih layanan');
    expect(menu!.text).not.toMatch(/mengetik angka/);
    expect(buttonsOf(menu!)).toEqual(expect.arrayContaining(['Cek simpanan', 'Cek pinjaman & angsuran', 'Jadwal RAT']));

    // Savings need a verified phone: the one-time "share my phone number" keyboard.
    const [request] = await press(t, SITI, menu!, 'Cek simpanan');
    expect(t.api.answeredCallbacks.length).toBe(1);
    expect(request!.text).toContain('Bagikan nomor saya');
    expect(request!.text).not.toMatch(RUPIAH);
    expect(request!.reply_markup?.keyboard?.[0]?.[0]).toEqual({ text: '📱 Bagikan nomor saya', request_contact: true });
    expect(request!.reply_markup?.one_time_keyboard).toBe(true);

    // Telegram sends the number with a plus, or without: both are the member's phone.
    const savings = await share(t, SITI, { phone: '+6281234567801' });
    const savingsText = savings.map((m) => m.text).join('\n');
    expect(savingsText).toContain('Simpanan Siti Aminah');
    expect(savingsText).toContain('Total: Rp6.150.000');
    // A short thanks of its own takes the contact keyboard away; the savings follow.
    expect(savings[0]!.text).toContain('nomor Anda sudah kami terima');
    expect(savings[0]!.reply_markup).toEqual({ remove_keyboard: true });
    // Bold comes through as HTML, never as stray asterisks.
    expect(savings[1]!.raw).toContain('<b>Total: Rp6.150.000</b>');
    expect(savingsText).not.toContain('*');

    // The main-menu buttons stay usable; loans need no second verification.
    const loans = await press(t, SITI, menu!, 'Cek pinjaman & angsuran');
    const loansText = loans.map((m) => m.text).join('\n');
    expect(loansText).toMatch(/Angsuran ke-\d+ dari \d+/);
    expect(loansText).not.toContain('Bagikan nomor');
    // Texts that actions compose from the catalogue keep their bold too.
    expect(loansText).not.toContain('*');
    expect(loans.map((m) => m.raw).join('\n')).toMatch(/<b>No\. PJ-/);

    // Free text works as on any channel; the attendance question comes with buttons.
    const rat = await ask(t, SITI, 'kapan rat nya?');
    const question = rat[rat.length - 1]!;
    expect(question.text).toContain('Rapat Anggota Tahunan');
    expect(question.text).toMatch(/Sabtu, \d{1,2} \w+ 2027, 09\.00 WIB/);
    expect(buttonsOf(question)).toEqual(['Hadir', 'Tidak hadir']);
    const [confirmed] = await press(t, SITI, question, 'Hadir');
    expect(confirmed!.text).toContain('kehadiran Anda di RAT');
    expect(confirmed!.text).toContain('sudah kami catat');
    expect(confirmed!.text).not.toContain('*');
    // The answered question's buttons are taken off.
    expect(t.api.messagesTo(SITI.id).find((m) => m.message_id === question.message_id)!.reply_markup).toEqual({ inline_keyboard: [] });

    const attendance = await t.service.app.db.meetingAttendance.findMany({ include: { member: true } });
    expect(attendance.map((a) => [a.member.memberNumber, a.attending, a.channel])).toEqual([['001', true, 'telegram']]);
    const identity = await t.service.app.db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: '501' } });
    expect(identity.verifiedBy).toBe('contact');
    expect(identity.phone).toBe('6281234567801');
    const audit = await t.service.app.db.auditLog.findMany({ where: { action: 'member.verify' } });
    expect(audit.map((a) => JSON.parse(a.detail ?? '{}').method)).toEqual(['contact']);
  });

  test('an old question\'s button is not taken as an answer to a question that has changed', async () => {
    await share(t, SITI, { phone: '6281234567801' });
    const rat = await ask(t, SITI, 'jadwal rat');
    const question = rat[rat.length - 1]!;
    await ask(t, SITI, 'menu');
    // A button whose keyboard survived (an old client), pressed after the member moved on.
    const again = await settleAfter(t, SITI.id, () => t.api.pressData(SITI, question, 'rat|2'));
    const text = again.map((m) => m.text).join('\n');
    expect(text).toContain('Tombol itu dari pesan sebelumnya');
    expect(text).toContain('Apakah Anda akan hadir?');
    expect(await t.service.app.db.meetingAttendance.count()).toBe(0);
  });

  test('someone else\'s contact, or a forwarded one, verifies nothing and is refused politely', async () => {
    await ask(t, STRANGER, 'saldo');
    // Siti's own number, but shared by another Telegram account.
    const [refused] = await share(t, STRANGER, { phone: '6281234567801', userId: SITI.id });
    expect(refused!.text).toContain('bukan nomor Telegram Anda sendiri');
    expect(refused!.text).not.toMatch(RUPIAH);
    expect(refused!.reply_markup?.keyboard?.[0]?.[0]?.request_contact).toBe(true);
    // A contact card without a Telegram account behind it.
    const [noAccount] = await share(t, STRANGER, { phone: '6281234567801', userId: null });
    expect(noAccount!.text).toContain('bukan nomor Telegram Anda sendiri');
    // Even one's "own" card, when forwarded from elsewhere.
    const [forwarded] = await share(t, STRANGER, { phone: '6281234567801', forwarded: true });
    expect(forwarded!.text).toContain('bukan nomor Telegram Anda sendiri');

    const after = await ask(t, STRANGER, 'cek saldo saya');
    expect(after.map((m) => m.text).join('\n')).not.toMatch(RUPIAH);
    expect(allText(t.api, STRANGER.id)).not.toContain('Siti');
    const identity = await t.service.app.db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: String(STRANGER.id) } });
    expect(identity.memberId).toBeNull();
    expect(identity.phone).toBeNull();
  });

  test('a verified member cannot read another member\'s balance, and a changed phone on file ends access', async () => {
    await share(t, SITI, { phone: '6281234567801' });
    const other = await ask(t, SITI, 'saldo anggota no 002');
    const text = other.map((m) => m.text).join('\n');
    expect(text).not.toContain('Ahmad');
    expect(text).toContain('Siti Aminah');

    // The cooperative records a new phone for Siti: the Telegram link no longer holds.
    await t.service.app.db.member.updateMany({ where: { memberNumber: '001' }, data: { phone: '6281299999999' } });
    const after = await ask(t, SITI, 'saldo');
    const afterText = after.map((m) => m.text).join('\n');
    expect(afterText).not.toMatch(RUPIAH);
    // Telegram still vouches for the number, but the cooperative no longer has it: the code route.
    expect(afterText).toContain('kode aktivasi');
  });

  test('a Telegram account whose number is later recycled to another member does not inherit that member', async () => {
    await share(t, SITI, { phone: '6281234567801' });
    const db = t.service.app.db;
    // Months later: Siti has a new number, and her old one now belongs to Ahmad on file.
    await db.member.updateMany({ where: { memberNumber: '001' }, data: { phone: '6281299990001' } });
    await db.member.updateMany({ where: { memberNumber: '002' }, data: { phone: '6281234567801' } });
    await expireSessions(t);
    for (const text of ['menu', 'saldo', 'pinjaman']) {
      const reply = (await ask(t, SITI, text)).map((m) => m.text).join('\n');
      expect(reply).not.toContain('Ahmad');
      expect(reply).not.toMatch(RUPIAH);
    }
    // The bot asks for the contact again: only Telegram's current number can verify.
    expect(t.api.messagesTo(SITI.id).at(-1)!.reply_markup?.keyboard?.[0]?.[0]?.request_contact).toBe(true);
    const identity = await db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: String(SITI.id) } });
    const ahmad = await db.member.findFirstOrThrow({ where: { memberNumber: '002', phone: '6281234567801' } });
    expect(identity.memberId).not.toBe(ahmad.id);
    expect(await db.auditLog.count({ where: { action: 'member.verify' } })).toBe(1);
  });

  test('a number from abroad whose digits follow a member\'s local number is not that member', async () => {
    // +81 (Japan) 234567801: typed, "81…" would read as Indonesian 0812…; from Telegram it is international.
    for (const phone of ['81234567801', '+81 234567801']) {
      await ask(t, STRANGER, 'saldo');
      const reply = (await share(t, STRANGER, { phone })).map((m) => m.text).join('\n');
      expect(reply).not.toContain('Siti');
      expect(reply).not.toMatch(RUPIAH);
      expect(reply).toContain('kode aktivasi');
    }
    const identity = await t.service.app.db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: String(STRANGER.id) } });
    expect(identity.memberId).toBeNull();
    expect(identity.phone).toBe('81234567801');
  });

  test('a contact whose number is not on file leads to the activation code, not to data', async () => {
    await ask(t, STRANGER, 'pinjaman');
    const reply = await share(t, STRANGER, { phone: '6281311112222' });
    const text = reply.map((m) => m.text).join('\n');
    expect(text).toContain('kode aktivasi');
    expect(text).not.toMatch(RUPIAH);
    expect(reply[0]!.reply_markup).toEqual({ remove_keyboard: true });
  });

  test('a member with no phone on file verifies with the officer\'s activation code instead', async () => {
    const { code } = await issueActivationCode(t.service.app.domain, { koperasiCode: 'KPRI-SEJAHTERA', memberNumber: '004', actor: 'test', now: new Date() });
    const [request] = await ask(t, STRANGER, 'cek simpanan');
    expect(request!.text).toContain('nomor anggota');
    const [askCode] = await ask(t, STRANGER, '004');
    expect(askCode!.text).toContain('kode aktivasi');
    const reply = await ask(t, STRANGER, code);
    const text = reply.map((m) => m.text).join('\n');
    expect(text).toContain('Nur Hayati');
    expect(text).toMatch(RUPIAH);
    // The code's link holds on later messages, without any phone.
    const loans = await ask(t, STRANGER, 'pinjaman');
    expect(loans.map((m) => m.text).join('\n')).not.toContain('Bagikan nomor');
  });

  test('a group chat gets only a pointer to a private chat, and chatter gets nothing', async () => {
    await share(t, SITI, { phone: '6281234567801' }); // verified in private: still nothing in the group
    const before = t.api.messagesTo(GROUP.id).length;
    const asked = t.api.sendText(SITI, '/saldo@KopbotTestBot', GROUP);
    const [pointer] = await t.api.waitForMessages(GROUP.id, 1, { after: before });
    expect(pointer!.text).toContain('chat pribadi');
    expect(pointer!.text).not.toMatch(RUPIAH);
    expect(pointer!.text).not.toContain('Siti');
    expect(pointer!.reply_to).toBe(asked);
    expect(pointer!.reply_markup?.inline_keyboard?.[0]?.[0]?.url).toBe('https://t.me/KopbotTestBot?start=menu');

    t.api.sendText(SITI, 'halo semua, besok arisan jam berapa ya', GROUP);
    t.api.sendText(SITI, '/saldo@AnotherBot', GROUP);
    t.api.shareContact(SITI, { phone: '6281234567801' }); // private: answered
    await t.api.waitForMessages(SITI.id, 1, { after: t.api.messagesTo(SITI.id).length });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(t.api.messagesTo(GROUP.id).length).toBe(before + 1);
    expect(t.api.messagesTo(GROUP.id).map((m) => m.text).join('\n')).not.toMatch(RUPIAH);
  });

  test('a 429 is waited out and the reply still arrives, once', async () => {
    t.api.failNext('sendMessage', { code: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
    const started = Date.now();
    const [menu] = await ask(t, SITI, 'menu');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(menu!.text).toContain('Silakan pilih layanan');
    const sends = t.api.calls.filter((c) => c.method === 'sendMessage').map((c) => c.status);
    expect(sends).toEqual([429, 200]);
    expect(t.api.messagesTo(SITI.id)).toHaveLength(1);
    expect(t.logs.join('')).toContain('Telegram asked to slow down (429)');
  });

  test('a chat held up by a 429 does not hold up anyone else', async () => {
    t.api.failNext('sendMessage', { code: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3 });
    t.api.sendText(STRANGER, 'menu'); // its reply waits three seconds
    await waitFor(() => t.api.calls.some((c) => c.method === 'sendMessage' && c.status === 429));
    const started = Date.now();
    const [menu] = await ask(t, SITI, 'menu');
    expect(menu!.text).toContain('Silakan pilih layanan');
    expect(Date.now() - started).toBeLessThan(2000);
    await t.api.waitForMessages(STRANGER.id, 1, { timeoutMs: 10_000 });
  });

  test('a button press and a message typed right after it are answered in that order', async () => {
    await share(t, SITI, { phone: '6281234567801' });
    const rat = await ask(t, SITI, 'rat');
    const question = rat[rat.length - 1]!;
    const before = t.api.messagesTo(SITI.id).length;
    t.api.press(SITI, question, 'Tidak hadir');
    t.api.sendText(SITI, 'saldo');
    const replies = await settle(t, SITI.id, before);
    expect(replies[0]!.text).toContain('Anda tercatat tidak hadir');
    expect(replies.map((m) => m.text).join('\n')).toContain('Total: Rp6.150.000');
    const attendance = await t.service.app.db.meetingAttendance.findMany();
    expect(attendance.map((a) => a.attending)).toEqual([false]);
  });

  test('a server error and a dropped connection are retried; a member who blocked the bot is not', async () => {
    t.api.failNext('sendMessage', { code: 502, description: 'Bad Gateway' }, 2);
    const [menu] = await ask(t, SITI, 'menu');
    expect(menu!.text).toContain('Silakan pilih layanan');

    t.api.blockBot(STRANGER.id);
    t.api.sendText(STRANGER, 'menu');
    await waitFor(() => t.api.calls.some((c) => c.method === 'sendMessage' && c.status === 403));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(t.api.calls.filter((c) => c.method === 'sendMessage' && c.status === 403)).toHaveLength(1);
    expect(t.logs.join('')).toContain('"reason":"blocked"');
    // The service is still up for everyone else.
    const [again] = await ask(t, SITI, 'bantuan');
    expect(again!.text.length).toBeGreaterThan(20);
  });

  test('names with _, * and < cannot break a message; stickers and voice notes get a plain answer', async () => {
    await t.service.app.db.member.updateMany({ where: { memberNumber: '001' }, data: { name: 'Siti_Aminah *Bu* <Sekar> & Co' } });
    await share(t, SITI, { phone: '6281234567801' });
    const reply = await ask(t, SITI, 'saldo');
    const text = reply.map((m) => m.text).join('\n');
    expect(reply[0]!.raw).toContain('&lt;Sekar&gt; &amp; Co');
    // Accepted by the server's HTML parser, and shown exactly as written.
    expect(text).toContain('Siti_Aminah *Bu* <Sekar> & Co');

    // A sticker is read as its emoji: the same answer as typing 👍.
    const typed = await ask(t, SITI, '👍');
    const sticker = await settleAfter(t, SITI.id, () => t.api.sendSticker(SITI, '👍'));
    expect(sticker.map((m) => m.text)).toEqual(typed.map((m) => m.text));
    expect(sticker[0]!.text).not.toContain('hanya bisa membaca pesan teks');
    const [voice] = await settleAfter(t, SITI.id, () => t.api.sendVoice(SITI));
    expect(voice!.text).toContain('hanya bisa membaca pesan teks');
  });

  test('English members get English buttons and texts', async () => {
    await ask(t, SITI, 'english');
    const [menu] = await ask(t, SITI, '/menu');
    expect(menu!.text).toContain('Please choose a service');
    expect(buttonsOf(menu!)[0]).toBe('Check savings');
    const [request] = await press(t, SITI, menu!, 'Check savings');
    expect(request!.reply_markup?.keyboard?.[0]?.[0]?.text).toBe('📱 Share my phone number');
  });

  test('stopping finishes the reply under way before the service ends', async () => {
    t.api.failNext('sendMessage', { code: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
    t.api.sendText(SITI, 'menu');
    await waitFor(() => t.api.calls.some((c) => c.method === 'sendMessage' && c.status === 429));
    await t.service.stop();
    expect(t.api.messagesTo(SITI.id)).toHaveLength(1);
    // dispose() stops again: that must be harmless
  });
});

describe('Telegram, webhook', () => {
  let t: TelegramTestService;
  beforeEach(async () => {
    t = await startTelegramService({ webhook: true });
  });
  afterEach(async () => {
    await t.dispose();
  });

  test('the webhook is registered with a secret; updates with it are answered, others refused', async () => {
    expect(t.api.webhook).toEqual({ url: `http://127.0.0.1:${t.service.port}/telegram/webhook`, secret: 'rahasia-webhook-uji_123' });
    expect(t.api.calls.some((c) => c.method === 'getUpdates')).toBe(false);

    // Telegram posts the update with the secret header: the member is answered.
    const [menu] = await ask(t, SITI, '/start');
    expect(menu!.text).toContain('Silakan pilih layanan');

    const update = {
      update_id: 999_001,
      message: { message_id: 1, from: { id: SITI.id, is_bot: false, first_name: 'Siti' }, chat: { id: SITI.id, type: 'private' }, date: 1, text: 'saldo' },
    };
    const post = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${t.service.port}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(update) });
    const sentBefore = t.api.messagesTo(SITI.id).length;
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'salah' })).status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(t.api.messagesTo(SITI.id)).toHaveLength(sentBefore);

    const accepted = await post({ 'x-telegram-bot-api-secret-token': 'rahasia-webhook-uji_123' });
    expect(accepted.status).toBe(200);
    await t.api.waitForMessages(SITI.id, 1, { after: sentBefore });
    // The same update delivered again (Telegram retries a slow answer) is answered once.
    expect((await post({ 'x-telegram-bot-api-secret-token': 'rahasia-webhook-uji_123' })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(t.api.messagesTo(SITI.id)).toHaveLength(sentBefore + 1);

    // The health check still answers on the same server.
    const health = await fetch(`http://127.0.0.1:${t.service.port}/health`);
    expect(health.status).toBe(200);
  });
});

describe('Telegram start-up', () => {
  test('a token Telegram refuses stops start-up with one clear sentence', async () => {
    const attempt = startTelegramService({ token: '7000001:AAH-a-token-that-botfather-never-issued' });
    await expect(attempt).rejects.toBeInstanceOf(StartupError);
    await expect(attempt).rejects.toThrow(/^TELEGRAM_BOT_TOKEN ditolak oleh server Telegram .*@BotFather\.$/);
  });

  test('a Telegram that cannot be reached at start is retried in the background', async () => {
    // Nothing listens on this port yet; the service starts anyway and connects once it can.
    const later = new FakeBotApi();
    const port = await freePort();
    const t = await startTelegramService({ apiUrl: `http://127.0.0.1:${port}`, token: later.token });
    try {
      expect(t.logs.join('')).toContain('Telegram cannot be reached');
      const health = await fetch(`http://127.0.0.1:${t.service.port}/health`);
      expect(health.status).toBe(200);
      await later.start(port);
      const before = later.messagesTo(SITI.id).length;
      later.sendText(SITI, 'menu');
      const [menu] = await later.waitForMessages(SITI.id, 1, { after: before, timeoutMs: 15_000 });
      expect(menu!.text).toContain('Silakan pilih layanan');
    } finally {
      await t.dispose();
      await later.close();
    }
  });
});

async function settleAfter(t: TelegramTestService, chatId: number, act: () => void): Promise<SentMessage[]> {
  const before = t.api.messagesTo(chatId).length;
  act();
  return settle(t, chatId, before);
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
