/**
 * The same bot against an independent Bot API implementation, the `telegram-test-api` package,
 * as a second opinion on the update and reply shapes (our own server in fake-bot-api.ts adds
 * the 429s, parse errors and webhooks that this one does not have).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TelegramServer } from 'telegram-test-api/lib/telegramServer.js';
import { freePort, startTelegramService, type TelegramTestService } from './helpers.ts';

const TOKEN = '1234567:AAH-a-token-for-telegram-test-api';
let server: TelegramServer;
let t: TelegramTestService;

beforeAll(async () => {
  const port = await freePort();
  server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 60 });
  await server.start();
  t = await startTelegramService({ token: TOKEN, apiUrl: `http://127.0.0.1:${port}` });
});
afterAll(async () => {
  await t.dispose();
  await server.stop();
});

interface BotMessage {
  message: { text: string; reply_markup?: { inline_keyboard?: { text: string; callback_data: string }[][]; keyboard?: { request_contact?: boolean }[][] } };
}

test('menu buttons, contact verification and savings, then a group that gets only a pointer', async () => {
  const client = server.getClient(TOKEN, { timeout: 5000, userId: 501, chatId: 501, firstName: 'Siti' });
  await client.sendCommand(client.makeCommand('/start'));
  const [menu] = (await client.getUpdates()).result as BotMessage[];
  const savingsButton = menu!.message.reply_markup!.inline_keyboard!.flat().find((b) => b.text === 'Cek simpanan')!;

  await client.sendCallback(client.makeCallbackQuery(savingsButton.callback_data));
  const [request] = (await client.getUpdates()).result as BotMessage[];
  expect(request!.message.reply_markup!.keyboard![0]![0]!.request_contact).toBe(true);
  expect(request!.message.text).not.toMatch(/Rp\d/);

  await client.sendMessage(client.makeMessage(undefined as unknown as string, { contact: { phone_number: '6281234567801', first_name: 'Siti', user_id: 501 } }));
  let savings = '';
  for (let i = 0; i < 20 && !savings.includes('Total'); i++) {
    savings += ((await client.getUpdates()).result as BotMessage[]).map((u) => u.message.text).join('\n');
  }
  expect(savings).toContain('nomor Anda sudah kami terima');
  expect(savings).toContain('Total: Rp6.150.000');

  const group = server.getClient(TOKEN, { timeout: 5000, userId: 501, chatId: -4001, type: 'group', chatTitle: 'Anggota' });
  await group.sendCommand(group.makeCommand('/saldo'));
  const [pointer] = (await group.getUpdates()).result as BotMessage[];
  expect(pointer!.message.text).toContain('chat pribadi');
  expect(pointer!.message.text).not.toMatch(/Rp\d/);
}, 30_000);
