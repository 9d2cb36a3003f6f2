/**
 * One chat cannot starve the others, with a real `kopbot start` polling the local Bot API:
 * one member sends 10,000 messages while 100 others write normally. The flooding chat gets
 * one "pelan-pelan" notice and its excess is dropped; the others are all answered; SIGTERM
 * still ends the process within seconds.
 */
import { expect, test } from 'vitest';
import type { FakeUser } from '../helpers/fake-bot-api.ts';
import { useKopbotProcesses } from './helpers.ts';

const kopbot = useKopbotProcesses('kopbot-tg-flood-');

const OTHERS = 100;
const EACH = 2;
const FLOOD = 10_000;

test('a chat sending 10,000 messages gets one slow-down notice, the 100 others are all answered, and SIGTERM exits within 10 s', async () => {
  const api = kopbot.api;
  const members = await kopbot.seedMembers(OTHERS + 1, 80_000);
  const flooder: FakeUser = members.pop()!;
  const others = members;
  const service = await kopbot.start();

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
  expect(exit.code, exit.stderr).toBe(0);
  expect(exitMs).toBeLessThan(10_000);
  expect(api.floodRefusals).toBe(0);
  if (process.env.SHOW_FIGURES) console.log({ toFlooder: toFlooder.length, exitMs, polls: api.calls.filter((c) => c.method === 'getUpdates').length });
}, 60_000);
