/**
 * Stop means stop by webhook too: Telegram is answered 200 only once an update is answered,
 * dropped, or parked in the database while its reply waits; an update parked and still
 * waiting at the shutdown is answered after the restart, once.
 */
import { rmSync } from 'node:fs';
import { expect, test } from 'vitest';
import { tempDir } from '../helpers/app.ts';
import { addTelegramMembers } from '../helpers/fake-bot-api.ts';
import { startTelegramService } from './helpers.ts';
import { until } from '../helpers/until.ts';

test('by webhook, a reply still held by a 429 at the shutdown is parked, and answered once after the restart', async () => {
  const dir = tempDir('kopbot-tg-webhook-stop-');
  const options = { webhook: true, dir, telegram: { webhookHoldMs: 200, stopDeadlineMs: 300 } } as const;
  const first = await startTelegramService(options);
  const api = first.api;
  const member = { id: 31_000, first_name: 'Anggota' };
  try {
    await addTelegramMembers(first.service.app.db, first.api, { koperasiCode: 'KPRI-SEJAHTERA', count: 2, firstChatId: 31_000 });
    const other = { id: 31_001, first_name: 'Anggota Lain' };
    // Telegram tells this chat to wait 30 s: the reply is still waiting when the service stops.
    first.api.failNextFor(member.id, 'sendMessage', { code: 429, description: 'Too Many Requests: retry after 30', retryAfter: 30 });
    first.api.sendText(member, 'ok');
    await first.api.waitUntil(() => first.logs.some((line) => line.includes('Telegram asked to slow down')), { what: 'the 429' });
    // The webhook was answered (the update parked), so Telegram posts the next update.
    first.api.sendText(other, 'ok');
    await first.api.waitForMessages(other.id, 1);
    await first.service.stop();
    expect(first.logs.join('')).toContain('were cancelled');
    expect(api.messagesTo(member.id)).toHaveLength(0);
    // Same database and Bot API; Telegram posts nothing again: the parked update is answered from the database.
    const second = await startTelegramService({ ...options, seed: false, apiUrl: api.url });
    try {
      await api.waitForMessages(member.id, 1);
      await second.service.stop();
      expect(api.messagesTo(member.id)).toHaveLength(1);
      expect(second.logs.join('')).toContain('parked before the restart are answered now');
    } finally {
      await second.dispose();
    }
  } finally {
    await first.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('behind a webhook, what a stopped instance left parked is taken on by one still running, at its next renewal, and answered once', async () => {
  const dir = tempDir('kopbot-tg-webhook-renew-');
  const options = { webhook: true, dir, telegram: { webhookHoldMs: 200, stopDeadlineMs: 300, instanceId: 'host-a:3000' } } as const;
  const first = await startTelegramService(options);
  const api = first.api;
  const member = { id: 31_100, first_name: 'Anggota' };
  try {
    await addTelegramMembers(first.service.app.db, api, { koperasiCode: 'KPRI-SEJAHTERA', count: 1, firstChatId: member.id });
    first.api.failNextFor(member.id, 'sendMessage', { code: 429, description: 'Too Many Requests: retry after 30', retryAfter: 30 });
    first.api.sendText(member, 'ok');
    await first.api.waitUntil(() => first.logs.some((line) => line.includes('Telegram asked to slow down')), { what: 'the 429' });
    await until(async () => (await first.service.app.db.telegramParkedUpdate.count()) === 1, 5_000, 'the update parked');
    // A second instance starts while the first still answers its parked update: it leaves it alone.
    const second = await startTelegramService({ ...options, seed: false, apiUrl: api.url, telegram: { ...options.telegram, instanceId: 'host-b:3000' } });
    try {
      expect(second.logs.join('')).not.toContain('parked before the restart are answered now');
      // The first stops with the reply still held: the row is left for whoever renews next.
      await first.service.stop();
      expect(api.messagesTo(member.id)).toHaveLength(0);
      await second.service.telegram!.renewParked();
      await api.waitForMessages(member.id, 1);
      await second.service.stop();
      expect(api.messagesTo(member.id)).toHaveLength(1);
      expect(second.logs.join('')).toContain('parked before the restart are answered now');
      expect(await second.service.app.db.telegramParkedUpdate.count()).toBe(0);
    } finally {
      await second.dispose();
    }
  } finally {
    await first.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
