/**
 * One chat cannot starve the others, with a real `kopbot start` polling the local Bot API:
 * one member sends 10,000 messages while 100 others write normally. The flooding chat gets
 * one "pelan-pelan" notice and its excess is dropped; the others are all answered; SIGTERM
 * still ends the process within seconds.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createApp } from '../../src/app.ts';
import { seedDemo } from '../../src/domain/seed-demo.ts';
import { tempDir } from '../helpers/app.ts';
import { spawnKopbot, type KopbotProcess } from '../helpers/cli.ts';
import { addTelegramMembers, FakeBotApi, type FakeUser } from '../helpers/fake-bot-api.ts';
import { freePort } from './helpers.ts';

let api: FakeBotApi;
let dir: string;
let service: KopbotProcess | undefined;

beforeEach(async () => {
  api = await new FakeBotApi().start();
  dir = tempDir('kopbot-tg-flood-');
});
afterEach(async () => {
  service?.child.kill('SIGKILL');
  await service?.exited;
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

const OTHERS = 100;
const EACH = 2;
const FLOOD = 10_000;

test('a chat sending 10,000 messages gets one slow-down notice, the 100 others are all answered, and SIGTERM exits within 10 s', async () => {
  const url = `file:${join(dir, 'kopbot.db')}`;
  const app = await createApp({ DATABASE_URL: url, LOG_LEVEL: 'silent' });
  await seedDemo(app.db);
  await addTelegramMembers(app.db, api, { koperasiCode: 'KPRI-SEJAHTERA', count: OTHERS + 1, firstChatId: 80_000 });
  await app.close();
  const flooder: FakeUser = { id: 80_000 + OTHERS, first_name: 'Banjir' };
  const others: FakeUser[] = Array.from({ length: OTHERS }, (_, i) => ({ id: 80_000 + i, first_name: `Anggota ${i}` }));

  service = spawnKopbot(['start'], { DATABASE_URL: url, TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.url, PORT: String(await freePort()), LOG_LEVEL: 'warn', QUIET_HOURS: 'off', WHATSAPP_ENABLED: 'false' });
  await service.saysOnStderr('Layanan koperasi berjalan');

  // The flood, with the others' messages spread through it.
  const spread = Math.floor(FLOOD / (OTHERS * EACH));
  let next = 0;
  for (let i = 0; i < FLOOD; i++) {
    api.sendText(flooder, `spam ${i}`);
    if (i % spread === 0 && next < OTHERS * EACH) {
      api.sendText(others[next % OTHERS]!, 'ok');
      next++;
    }
  }
  while (next < OTHERS * EACH) api.sendText(others[next++ % OTHERS]!, 'ok');

  await api.waitUntil(() => others.every((m) => api.messagesTo(m.id).length >= EACH), { timeoutMs: 25_000, what: 'every other member answered' });
  for (const member of others) expect(api.messagesTo(member.id)).toHaveLength(EACH);
  // The whole flood was taken from Telegram (dropped, not left piling up).
  await api.waitUntil(() => api.pendingUpdates === 0, { what: 'the flood confirmed' });

  const toFlooder = api.messagesTo(flooder.id);
  const notices = toFlooder.filter((m) => m.text.includes('Pelan-pelan'));
  expect(notices).toHaveLength(1);
  // What was answered before the flood was seen: the one under way and the few waiting behind it.
  expect(toFlooder.length).toBeLessThanOrEqual(1 + 5 + 1);

  const began = Date.now();
  service.child.kill('SIGTERM');
  const exit = await service.exited;
  const exitMs = Date.now() - began;
  service = undefined;
  expect(exit.code, exit.stderr).toBe(0);
  expect(exitMs).toBeLessThan(10_000);
  expect(api.floodRefusals).toBe(0);
  if (process.env.SHOW_FIGURES) console.log({ toFlooder: toFlooder.length, exitMs, polls: api.calls.filter((c) => c.method === 'getUpdates').length });
}, 60_000);
