/** `kopbot start` (what `npm start` runs) with TELEGRAM_BOT_TOKEN set, as a real process. */
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.ts';
import { FakeBotApi } from '../helpers/fake-bot-api.ts';
import { freePort } from './helpers.ts';
import { spawnKopbot } from '../helpers/cli.ts';

/**
 * POST a raw body and resolve with the status, even when the server answers before the body is
 * all sent and then closes (as it does for one too large). Without a length: sent chunked.
 */
function postRaw(url: string, headers: Record<string, string>, body: string | Buffer[], length?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers, ...(length !== undefined ? { 'content-length': String(length) } : {}) } });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error) => reject(error)); // after a response, ignored (the promise is settled)
    if (typeof body === 'string') req.end(body);
    else {
      for (const piece of body) if (!req.write(piece)) break;
      req.end();
    }
  });
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/kopbot.js');

describe('kopbot start with Telegram', () => {
  let api: FakeBotApi;
  let env: Record<string, string>;
  beforeAll(async () => {
    api = await new FakeBotApi().start();
    env = { DATABASE_URL: `file:${join(tempDir('kopbot-tg-cli-'), 'koperasi.db')}`, TELEGRAM_API_ROOT: api.url, LOG_LEVEL: 'warn' };
    expect(spawnSync(process.execPath, [BIN, 'seed', '--demo'], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' }).status).toBe(0);
  });
  afterAll(async () => {
    await api.close();
  });

  it('stops with one sentence when Telegram refuses the token', async () => {
    // Not spawnSync: the Bot API server runs in this process and must keep answering.
    const child = spawn(process.execPath, [BIN, 'start'], {
      cwd: ROOT,
      env: { ...process.env, ...env, TELEGRAM_BOT_TOKEN: '123456:AAH-not-a-token-botfather-gave-out', PORT: String(await freePort()) },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(status).toBe(1);
    expect(stderr.trim()).toBe('TELEGRAM_BOT_TOKEN ditolak oleh server Telegram (token salah atau sudah dicabut); salin ulang token dari @BotFather.');
  }, 60_000);

  it('refuses a malformed token before starting anything', () => {
    const result = spawnSync(process.execPath, [BIN, 'start'], { cwd: ROOT, env: { ...process.env, ...env, TELEGRAM_BOT_TOKEN: 'token-saya' }, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('TELEGRAM_BOT_TOKEN bukan token bot Telegram yang sah');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('answers hostile webhook bodies with 4xx and keeps serving: null, not JSON, not an update, too large', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/telegram/webhook`;
    const secret = 'rahasia-webhook-uji_123';
    const service = spawnKopbot(['start'], { ...env, TELEGRAM_BOT_TOKEN: api.token, PORT: String(port), TELEGRAM_WEBHOOK_URL: url, TELEGRAM_WEBHOOK_SECRET: secret });
    try {
      await service.saysOnStderr('berjalan di port');
      const withSecret = { 'x-telegram-bot-api-secret-token': secret };
      expect(await postRaw(url, withSecret, 'null')).toBe(400);
      expect(await postRaw(url, withSecret, '{"update_id":')).toBe(400);
      expect(await postRaw(url, withSecret, '{"update_id":"1","message":{}}')).toBe(400);
      expect(await postRaw(url, withSecret, '[]')).toBe(400);
      // 20 MB, announced in the header, and again sent chunked without a length.
      const megabyte = Buffer.alloc(1024 * 1024, 0x20);
      expect(await postRaw(url, withSecret, Array.from({ length: 20 }, () => megabyte), 20 * megabyte.length)).toBe(413);
      expect(await postRaw(url, withSecret, Array.from({ length: 20 }, () => megabyte))).toBe(413);
      expect(await postRaw(url, {}, 'null')).toBe(403);
      // Still alive and serving: a real update posted by the Bot API is answered.
      const user = { id: 9002, first_name: 'Ahmad' };
      api.sendText(user, '/start');
      const [menu] = await api.waitForMessages(user.id, 1, { timeoutMs: 30_000 });
      expect(menu!.text).toContain('Silakan pilih layanan');
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      service.child.kill('SIGTERM');
    }
    const exit = await service.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain('Telegram webhook request refused');
  }, 60_000);

  it('serves members on Telegram and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'start'], { cwd: ROOT, env: { ...process.env, ...env, TELEGRAM_BOT_TOKEN: api.token, PORT: String(port) } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const user = { id: 9001, first_name: 'Siti' };
      api.sendText(user, '/start');
      const [menu] = await api.waitForMessages(user.id, 1, { timeoutMs: 30_000 });
      expect(menu!.text).toContain('Silakan pilih layanan');
      expect(menu!.reply_markup?.inline_keyboard?.length).toBeGreaterThan(3);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, stderr).toBe(0);
  }, 60_000);
});
