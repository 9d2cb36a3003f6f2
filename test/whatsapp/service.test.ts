/**
 * The service with WHATSAPP_ENABLED: the channel starts with it, /health reports the WhatsApp
 * connection, the session written during one run is used by the next, and stopping the service
 * stops WhatsApp without logging the device out.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DisconnectReason } from '@whiskeysockets/baileys';
import { expect, test } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { seedDemo } from '../../src/domain/seed-demo.ts';
import { startService } from '../../src/service.ts';
import { captureLogs, tempDir } from '../helpers/app.ts';
import { freePort } from '../telegram/helpers.ts';
import { socketFactory, waMessage } from './helpers.ts';

test('WHATSAPP_ENABLED runs the WhatsApp channel in the service; its session carries over to the next start', async () => {
  const dir = tempDir('kopbot-wa-service-');
  const config = loadConfig({ DATABASE_URL: `file:${join(dir, 'kopbot.db')}`, WHATSAPP_ENABLED: 'true', PORT: String(await freePort()), LOG_LEVEL: 'info' });
  expect(config.WHATSAPP_SEND_INTERVAL_SECONDS).toBe(5);
  const health = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health`)).json();
  try {
    const firstRun = socketFactory();
    const { logger, logs } = captureLogs();
    const service = await startService(config, logger, { whatsapp: { makeSocket: firstRun.make, showPairing: () => undefined, typingMs: () => 0 } });
    await seedDemo(service.app.db);
    expect(await health(service.port)).toMatchObject({ status: 'ok', whatsapp: 'connecting' });
    // Linking: the QR is scanned, WhatsApp pairs the device and asks for a restart.
    firstRun.last.showQr();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await health(service.port)).toMatchObject({ whatsapp: 'waiting_for_pairing' });
    const creds = firstRun.last.config.auth.creds;
    creds.me = { id: '6281200000000:5@s.whatsapp.net' };
    creds.account = { details: Buffer.from([7]) };
    firstRun.last.ev.emit('creds.update', { me: creds.me, account: creds.account });
    firstRun.last.close(DisconnectReason.restartRequired);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(firstRun.sockets).toHaveLength(2);
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
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
