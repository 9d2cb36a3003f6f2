/**
 * The service with WHATSAPP_ENABLED: the channel starts with it, /health reports the WhatsApp
 * connection, the session written during one run is used by the next, and stopping the service
 * stops WhatsApp without logging the device out.
 */
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { DisconnectReason } from '@whiskeysockets/baileys';
import { expect, test } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { startService } from '../../src/service.ts';
import { captureLogs, tempDir } from '../helpers/app.ts';
import { freePort } from '../telegram/helpers.ts';
import { socketFactory, until, waMessage } from './helpers.ts';

test('WHATSAPP_ENABLED runs the WhatsApp channel in the service; its session carries over to the next start', async () => {
  const dir = tempDir('kopbot-wa-service-');
  const config = loadConfig({ DATABASE_URL: `file:${join(dir, 'kopbot.db')}`, WHATSAPP_ENABLED: 'true', PORT: String(await freePort()), LOG_LEVEL: 'info' });
  expect(config.WHATSAPP_SEND_INTERVAL_SECONDS).toBe(5);
  // A fresh connection each time (two services in turn listen on the same port).
  const get = (port: number) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      })
        .on('error', reject)
        .end();
    });
  const health = async (port: number) => (await get(port)).body;
  try {
    const firstRun = socketFactory();
    const { logger, logs } = captureLogs();
    const service = await startService(config, logger, { whatsapp: { makeSocket: firstRun.make, showPairing: () => undefined, typingMs: () => 0 } });
    await seedDemo(service.app.db);
    expect(await health(service.port)).toMatchObject({ status: 'ok', whatsapp: 'connecting' });
    // Linking: the QR is scanned, WhatsApp pairs the device and asks for a restart.
    firstRun.last.showQr();
    await until(() => service.whatsapp!.status === 'waiting_for_pairing', 2_000, 'the QR');
    expect(await health(service.port)).toMatchObject({ whatsapp: 'waiting_for_pairing' });
    const creds = firstRun.last.config.auth.creds;
    creds.me = { id: '6281200000000:5@s.whatsapp.net' };
    creds.account = { details: Buffer.from([7]) };
    firstRun.last.ev.emit('creds.update', { me: creds.me, account: creds.account });
    firstRun.last.close(DisconnectReason.restartRequired);
    await until(() => firstRun.sockets.length === 2, 2_000, 'the restart');
    firstRun.last.connect();
    expect(await health(service.port)).toMatchObject({ whatsapp: 'open' });

    firstRun.last.receive(waMessage({ from: '6281234567801@s.whatsapp.net', text: 'saldo' }));
    await service.whatsapp!.settled();
    expect(firstRun.last.sent.map((m) => m.text).join('\n')).toContain('Simpanan Siti Aminah');
    await service.stop();
    expect(firstRun.last.ended).toBe(true);
    expect(logs.join('\n')).toContain('WhatsApp channel stopped');

    // The next start uses the stored session: same device keys, no pairing.
    const secondRun = socketFactory();
    const again = await startService(config, captureLogs().logger, { whatsapp: { makeSocket: secondRun.make, showPairing: () => undefined } });
    try {
      const resumed = secondRun.last.config.auth.creds;
      expect(resumed.me).toEqual({ id: '6281200000000:5@s.whatsapp.net' });
      expect(Buffer.from(resumed.noiseKey.private).equals(Buffer.from(creds.noiseKey.private))).toBe(true);
      // Unlinked on the phone: the health check says a person is needed.
      secondRun.last.connect();
      secondRun.last.close(DisconnectReason.loggedOut);
      await until(() => again.whatsapp!.status === 'logged_out', 2_000, 'logged out');
      const response = await get(again.port);
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ status: 'degraded', whatsapp: 'logged_out' });
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
