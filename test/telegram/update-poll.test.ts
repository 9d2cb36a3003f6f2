/**
 * getUpdates on its own connection answers as telegraf's client would for what the poll loop
 * tells apart: the updates, Telegram's refusals as TelegramError with their code (401: the
 * token revoked; 409: a webhook or another poller), a stop's abort, and anything that is not a
 * list of updates refused.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TelegramError } from 'telegraf';
import { expect, test } from 'vitest';
import { UpdatePoller } from '../../src/channels/telegram/update-poll.ts';
import { FakeBotApi } from '../helpers/fake-bot-api.ts';

const ASK = { limit: 100, timeout: 0, allowed_updates: ['message', 'callback_query'] } as const;

test('updates, then only those from the offset on; 401 and 409 as TelegramError; an abort ends a long poll', async () => {
  const api = await new FakeBotApi().start();
  const poller = new UpdatePoller(api.token, api.url);
  try {
    const member = { id: 33_000, first_name: 'Anggota' };
    api.sendText(member, 'saldo');
    api.sendText(member, 'kapan rat');
    const updates = await poller.fetch(ASK, new AbortController().signal);
    expect(updates.map((u) => (u.message as { text: string }).text)).toEqual(['saldo', 'kapan rat']);
    const next = await poller.fetch({ ...ASK, offset: updates[1]!.update_id }, new AbortController().signal);
    expect(next.map((u) => u.update_id)).toEqual([updates[1]!.update_id]);
    expect(api.confirmedBelow).toBe(updates[1]!.update_id);

    const revoked = new UpdatePoller('7000001:revoked', api.url);
    await expect(revoked.fetch(ASK, new AbortController().signal)).rejects.toSatisfy((error) => error instanceof TelegramError && error.code === 401);
    revoked.close();

    // A webhook set meanwhile (another program using the token).
    const webhook = await fetch(`${api.url}/bot${api.token}/setWebhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'https://bot.example/hook' }) });
    expect(webhook.ok).toBe(true);
    await expect(poller.fetch(ASK, new AbortController().signal)).rejects.toSatisfy((error) => error instanceof TelegramError && error.code === 409);
    await fetch(`${api.url}/bot${api.token}/deleteWebhook`, { method: 'POST' });

    // A long poll with nothing to deliver ends when the channel stops.
    const stop = new AbortController();
    const waiting = poller.fetch({ ...ASK, offset: api.nextUpdateId, timeout: 25 }, stop.signal);
    stop.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  } finally {
    poller.close();
    await api.close();
  }
});

test('an answer that is not a list of updates is refused, and a 502 without a body is a TelegramError 502', async () => {
  const answers = [
    { status: 200, body: JSON.stringify({ ok: true, result: [{ update_id: 1 }, { update_id: -2 }] }) },
    { status: 200, body: JSON.stringify({ ok: true, result: { update_id: 1 } }) },
    { status: 502, body: '<html>Bad Gateway</html>' },
  ];
  const server = createServer((req, res) => {
    const answer = answers.shift()!;
    req.resume();
    req.on('end', () => res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const poller = new UpdatePoller('7000001:token', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    await expect(poller.fetch(ASK, new AbortController().signal)).rejects.toThrow('other than a list of updates');
    await expect(poller.fetch(ASK, new AbortController().signal)).rejects.toThrow('other than a list of updates');
    await expect(poller.fetch(ASK, new AbortController().signal)).rejects.toSatisfy((error) => error instanceof TelegramError && error.code === 502);
  } finally {
    poller.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
