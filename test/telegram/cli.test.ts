/** `kopbot start` (what `npm start` runs) with TELEGRAM_BOT_TOKEN set, as a real process. */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/app.ts';
import { FakeBotApi } from '../helpers/fake-bot-api.ts';
import { freePort } from './helpers.ts';

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
