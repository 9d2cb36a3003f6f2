/** Members' money data goes only to the verified member: the attempts that must fail. */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { answerLine } from '../../src/channels/terminal/terminal-channel.ts';
import { KEY_FILE } from '../../src/persistence/activation-code-key.ts';
import type { InboundMessage } from '../../src/core/message.ts';
import { createTestApp, STORES, telegramMessage, type TestApp } from '../helpers/app.ts';
import { DEMO_KOPERASI, DEMO_PHONES, seedDemo } from '../../src/persistence/seed-demo.ts';
import { issueActivationCode } from '../../src/domain/activation-codes.ts';
import { MAX_CODE_ATTEMPTS } from '../../src/domain/activation-codes.ts';
import { createTestPostgres } from '../helpers/postgres.ts';

describe.each(STORES)('with the $name store', ({ hotPath, postgres }) => {
  let app: TestApp;
  const STRANGER = '6289911112222';

  beforeEach(async () => {
    app = await createTestApp(undefined, { hotPath, postgres });
    await seedDemo(app.db, app.clock.now);
  });
  afterEach(async () => {
    await app.dispose();
  });

  const hasMoney = (text: string) => /Rp\d/.test(text);

  describe('an unverified phone', () => {
    it('sees no one’s SHU, nor any cooperative’s figures', async () => {
      for (const text of ['shu saya brp', 'shu 001', 'laporan koperasi', 'perkembangan koperasi', 'my shu']) {
        const reply = await app.say(STRANGER, text);
        expect(hasMoney(reply), text).toBe(false);
        expect(reply, text).not.toContain('Siti');
      }
    });

    it('sees no one’s savings, loans or RAT', async () => {
      for (const text of ['saldo', 'sisa utang brp', 'kapan rat', '1', '2', '3', 'pengaduan']) {
        const reply = await app.say(STRANGER, text);
        expect(hasMoney(reply), text).toBe(false);
        expect(reply).not.toContain('Siti');
      }
    });

    it('cannot read another member’s balance by typing their member number', async () => {
      await app.say(STRANGER, 'saldo');
      const reply = await app.say(STRANGER, '001');
      expect(reply).toContain('kode aktivasi');
      const wrong = await app.say(STRANGER, '123456');
      expect(wrong).toContain('tidak cocok');
      expect(hasMoney(wrong)).toBe(false);
    });

    it('gets the same answers whether or not the member number exists', async () => {
      const run = async (phone: string, memberNumber: string) => [
        await app.say(phone, 'saldo'),
        await app.say(phone, memberNumber),
        await app.say(phone, 'ABCD-2345'),
      ];
      const existing = await run('6289911110001', '001');
      const missing = await run('6289911110002', '999999');
      expect(existing).toEqual(missing);
    });

    it('is locked out after five wrong codes, even when the sixth is right', async () => {
      const { code } = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      await app.say(STRANGER, 'saldo');
      let last = '';
      for (let i = 0; i < 5; i++) {
        await app.say(STRANGER, '999');
        last = await app.say(STRANGER, `WRONG${i}`);
      }
      expect(last).toContain('Terlalu banyak percobaan');
      expect(await app.say(STRANGER, 'saldo')).toContain('Terlalu banyak percobaan');
      expect(hasMoney(await app.say(STRANGER, '004'))).toBe(false);
      expect(hasMoney(await app.say(STRANGER, code))).toBe(false);

      // After the lock-out the member can try again.
      app.clock.now = new Date(app.clock.now.getTime() + 31 * 60_000);
      await app.say(STRANGER, 'saldo');
      await app.say(STRANGER, '004');
      expect(await app.say(STRANGER, code)).toContain('Nur Hayati');
    });

    it('cannot brute-force one member’s code from many phones', async () => {
      const { code } = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      // 20 wrong guesses spread over five phones (each below its own lock-out) void the code.
      for (let p = 0; p < 5; p++) {
        const phone = `62899000000${p}`;
        await app.say(phone, 'saldo');
        for (let g = 0; g < 4; g++) {
          await app.say(phone, '004');
          expect(await app.say(phone, `GUESS-${p}${g}`)).toContain('tidak cocok');
        }
      }
      const phone = '6289900000099';
      await app.say(phone, 'saldo');
      await app.say(phone, '004');
      expect(await app.say(phone, code)).toContain('tidak cocok');
    });

    it('asks which cooperative before the code when the number waits for one in several, and counts a guess against that one only', async () => {
      const ksu = await app.db.koperasi.findUniqueOrThrow({ where: { code: 'KSU-MAJU-BERSAMA' } });
      // In KSU there is a member "4" and a member "004"; in KPRI only "004" (Nur Hayati).
      await app.db.member.create({ data: { koperasiId: ksu.id, memberNumber: '4', name: 'Budi Empat' } });
      await app.db.member.create({ data: { koperasiId: ksu.id, memberNumber: '004', name: 'Sri Nolnolempat' } });
      const codes = {
        kpri004: (await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now })).code,
        ksu4: (await issueActivationCode(app.domain, { koperasiCode: 'KSU-MAJU-BERSAMA', memberNumber: '4', actor: 'test', now: app.clock.now })).code,
        ksu004: (await issueActivationCode(app.domain, { koperasiCode: 'KSU-MAJU-BERSAMA', memberNumber: '004', actor: 'test', now: app.clock.now })).code,
      };
      // "4" names KSU's "4" and KPRI's "004" (the only member "4" can mean there): which one?
      await app.say('6289900000100', 'saldo');
      const asked = await app.say('6289900000100', '4');
      expect(asked).toContain('Kode aktivasi Anda dari koperasi yang mana?');
      expect(asked).toMatch(/1\. .+\n2\. .+/);
      // Four phones × five wrong guesses at "4", each for KSU: 20, KSU's "4" code is used up.
      for (let p = 0; p < 4; p++) {
        const phone = `62899000001${p}`;
        await app.say(phone, 'saldo');
        for (let g = 0; g < 5; g++) {
          await app.say(phone, '4');
          expect(await app.say(phone, 'yg ksu')).toContain('kode aktivasi');
          expect(await app.say(phone, `GUESS-${p}${g}`)).toMatch(/tidak cocok|Terlalu banyak percobaan/);
        }
      }
      const redeem = async (phone: string, memberNumber: string, koperasi: string | null, code: string) => {
        await app.say(phone, 'saldo');
        await app.say(phone, memberNumber);
        if (koperasi) await app.say(phone, koperasi);
        return app.say(phone, code);
      };
      const attempts = async (memberNumber: string, koperasiId: number) =>
        (await app.db.activationCode.findFirstOrThrow({ where: { member: { memberNumber, koperasiId } } })).attempts;
      const kpri = await app.db.koperasi.findUniqueOrThrow({ where: { code: DEMO_KOPERASI } });
      expect(await attempts('4', ksu.id)).toBe(MAX_CODE_ATTEMPTS);
      expect(await attempts('004', kpri.id)).toBe(0);
      // Used up: now only KPRI's "004" waits for "4", so no question, and KSU's code is not taken.
      expect(await redeem('6289900000201', '4', null, codes.ksu4)).toContain('tidak cocok');
      // The guesses were for KSU: KPRI's "004" was never guessed at, and works.
      expect(await redeem('6289900000202', '004', 'kpri', codes.kpri004)).toContain('Nur Hayati');
      // KSU's "004" was never named by "4": its code still works; now it alone waits, so no question.
      expect(await redeem('6289900000203', '004', null, codes.ksu004)).toContain('Sri Nolnolempat');
    });

    it('counts guesses sent at the same moment one by one: the cap holds, and a code past it does not work', async () => {
      const { code } = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      const phones = Array.from({ length: 30 }, (_, i) => `628990001${String(i).padStart(3, '0')}`);
      for (const phone of phones) {
        await app.say(phone, 'saldo');
        await app.say(phone, '004');
      }
      const answers = await Promise.all(phones.map((phone, i) => app.say(phone, `SALAH-${i}`)));
      expect(answers.every((a) => a.includes('tidak cocok'))).toBe(true);
      const row = await app.db.activationCode.findFirstOrThrow({ where: { member: { memberNumber: '004' } }, orderBy: { id: 'desc' } });
      expect(row.attempts).toBe(MAX_CODE_ATTEMPTS);
      await app.say(STRANGER, 'saldo');
      await app.say(STRANGER, '004');
      expect(await app.say(STRANGER, code)).toContain('tidak cocok');

      // The right code among a burst of wrong ones: never more tries counted than the cap.
      const second = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      const more = [...phones.slice(0, 25), STRANGER];
      app.clock.now = new Date(app.clock.now.getTime() + 31 * 60_000); // past every lock-out
      for (const phone of more) {
        await app.say(phone, 'saldo');
        await app.say(phone, '004');
      }
      await Promise.all(more.map((phone, i) => app.say(phone, i === more.length - 1 ? second.code : `SALAH-${i}`)));
      const after = await app.db.activationCode.findFirstOrThrow({ where: { member: { memberNumber: '004' } }, orderBy: { id: 'desc' } });
      expect(after.attempts).toBeLessThanOrEqual(MAX_CODE_ATTEMPTS);
    });

    it('loses a code-made link when the officer issues a new code (a lost phone)', async () => {
      const first = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      await app.say(STRANGER, 'saldo');
      await app.say(STRANGER, 'No. anggota: 4');
      expect(await app.say(STRANGER, first.code)).toContain('Nur Hayati');
      await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      const reply = await app.say(STRANGER, 'saldo');
      expect(hasMoney(reply)).toBe(false);
      expect(reply).toContain('kode aktivasi');
    });

    it('cannot use an expired code', async () => {
      const { code } = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now, validDays: 1 });
      app.clock.now = new Date(app.clock.now.getTime() + 2 * 86_400_000);
      await app.say(STRANGER, 'saldo');
      await app.say(STRANGER, '004');
      expect(await app.say(STRANGER, code)).toContain('tidak cocok');
    });
  });

  describe('a verified member', () => {
    it('sees only their own data, whatever number they type', async () => {
      const reply = await app.say(DEMO_PHONES.siti, 'saldo 002');
      expect(reply).toContain('Siti Aminah');
      expect(reply).not.toContain('Ahmad');
      expect(reply).not.toContain('Rp6.350.000'); // Ahmad's wajib
    });

    it('sees only their own SHU, whatever number they type, and none once the phone moves on', async () => {
      const siti = await app.say(DEMO_PHONES.siti, 'shu anggota 002 brp');
      expect(siti).toContain('Demi kerahasiaan');
      expect(siti).toContain('*Total: Rp699.250*');
      expect(siti).not.toContain('Ahmad');
      expect(siti).not.toContain('Rp940.850'); // Ahmad's SHU
      await app.db.member.updateMany({ where: { phone: DEMO_PHONES.siti }, data: { phone: '6281299998888' } });
      for (const text of ['shu saya brp', 'laporan koperasi']) {
        const reply = await app.say(DEMO_PHONES.siti, text);
        expect(hasMoney(reply), text).toBe(false);
      }
    });

    it('loses access when the cooperative changes the phone on file', async () => {
      expect(await app.say(DEMO_PHONES.siti, 'saldo')).toContain('Rp6.150.000');
      await app.db.member.updateMany({ where: { phone: DEMO_PHONES.siti }, data: { phone: '6281299998888' } });
      const reply = await app.say(DEMO_PHONES.siti, 'saldo');
      expect(hasMoney(reply)).toBe(false);
      expect(reply).toContain('belum terhubung');
    });

    it('drops an open question when verification lapses, instead of failing on every answer', async () => {
      await app.say(DEMO_PHONES.siti, 'kapan rat');
      await app.db.member.updateMany({ where: { phone: DEMO_PHONES.siti }, data: { phone: '6281299997777' } });
      const reply = await app.say(DEMO_PHONES.siti, '1');
      expect(reply).not.toContain('gangguan');
      expect(hasMoney(reply)).toBe(false);
      expect(await app.db.meetingAttendance.count()).toBe(0);
    });

    it('loses access when the channel no longer vouches for the phone', async () => {
      const base = { channel: 'whatsapp', externalUserId: 'abc@lid', chatId: 'abc@lid', chatType: 'private' as const };
      expect(await app.send({ ...base, text: 'saldo', verifiedPhone: DEMO_PHONES.siti })).toContain('Rp6.150.000');
      const reply = await app.send({ ...base, text: 'saldo' });
      expect(hasMoney(reply)).toBe(false);
    });

    it('who has left the cooperative sees nothing', async () => {
      const reply = await app.say(DEMO_PHONES.bambang, 'saldo');
      expect(hasMoney(reply)).toBe(false);
      expect(reply).not.toContain('Bambang');
    });

    it('who has left the cooperative sees neither its figures nor an SHU', async () => {
      for (const text of ['shu saya brp', 'laporan koperasi']) {
        const reply = await app.say(DEMO_PHONES.bambang, text);
        expect(hasMoney(reply), text).toBe(false);
      }
    });
  });

  describe('a Telegram account whose remembered number went to someone else', () => {
    const ACCOUNT = '7001';
    const telegram = (extra: Partial<InboundMessage>) => telegramMessage(ACCOUNT, extra);
    const HASAN = /Hasan|KSU-0117|Rp780\.000|Rp2\.400\.000/;

    it('never reaches the new holder\'s memberships, data or preferences, with or without a code', async () => {
      // Once, P was Siti's and the account shared it; then Siti changed numbers and P went to Hasan.
      await app.send(telegram({ contact: { phone: DEMO_PHONES.siti, own: true }, verifiedPhone: DEMO_PHONES.siti, phoneVerifiedBy: 'contact' }));
      await app.db.member.updateMany({ where: { memberNumber: '001' }, data: { phone: '6281299990001' } });
      await app.db.member.updateMany({ where: { name: 'Moh. Hasan' }, data: { phone: DEMO_PHONES.siti } });
      await app.db.conversationSession.updateMany({ data: { expiresAt: new Date(0) } });
      for (const text of ['ganti koperasi', 'stop', 'stop pengingat', 'saldo', 'saldo ksu']) {
        const reply = await app.send(telegram({ text }));
        expect(reply, text).not.toMatch(HASAN);
        expect(hasMoney(reply), text).toBe(false);
      }
      expect((await app.db.member.findMany({ where: { name: 'Moh. Hasan' } })).some((m) => m.optOutAnnouncements || m.optOutReminders)).toBe(false);

      // Siti links her own membership with a code: that proves her, not P.
      const first = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: app.clock.now });
      await app.send(telegram({ text: 'saldo' }));
      await app.send(telegram({ text: '001' }));
      expect(await app.send(telegram({ text: first.code }))).toContain('Rp6.150.000');
      for (const text of ['saldo', 'ganti koperasi', 'saldo ksu', '2']) expect(await app.send(telegram({ text })), text).not.toMatch(HASAN);
      await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: app.clock.now });
      for (const text of ['saldo', '1', '2', 'pinjaman']) {
        const reply = await app.send(telegram({ text }));
        expect(reply, text).not.toMatch(HASAN);
        expect(hasMoney(reply), text).toBe(false);
      }
      const identity = await app.db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: ACCOUNT } });
      expect(identity.memberId).toBeNull();
    });

    it('never shows the new holder\'s SHU, with or without a code', async () => {
      const HASAN_SHU = /Rp85\.950|Rp54\.200|Rp31\.750|KSU Maju Bersama/;
      await app.send(telegram({ contact: { phone: DEMO_PHONES.siti, own: true }, verifiedPhone: DEMO_PHONES.siti, phoneVerifiedBy: 'contact' }));
      await app.db.member.updateMany({ where: { memberNumber: '001' }, data: { phone: '6281299990001' } });
      await app.db.member.updateMany({ where: { name: 'Moh. Hasan' }, data: { phone: DEMO_PHONES.siti } });
      await app.db.conversationSession.updateMany({ data: { expiresAt: new Date(0) } });
      for (const text of ['shu saya brp', 'shu ksu', 'laporan koperasi', '2']) {
        const reply = await app.send(telegram({ text }));
        expect(reply, text).not.toMatch(HASAN);
        expect(reply, text).not.toMatch(HASAN_SHU);
        expect(hasMoney(reply), text).toBe(false);
      }
      const { code } = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: app.clock.now });
      await app.send(telegram({ text: 'shu saya' }));
      await app.send(telegram({ text: '001' }));
      expect(await app.send(telegram({ text: code }))).toContain('*Total: Rp699.250*');
      for (const text of ['shu ksu', 'ganti koperasi', '2', 'shu saya brp']) expect(await app.send(telegram({ text })), text).not.toMatch(HASAN_SHU);
    });

    const shareSiti = () => app.send(telegram({ contact: { phone: DEMO_PHONES.siti, own: true }, verifiedPhone: DEMO_PHONES.siti, phoneVerifiedBy: 'contact' }));

    it('a contact shared while P was Siti\'s proves nothing about Hasan once the file moves P to him in the same session, and links nothing that lasts', async () => {
      await shareSiti();
      expect(await app.send(telegram({ text: 'saldo' }))).toContain('Rp6.150.000');
      await app.db.member.updateMany({ where: { memberNumber: '001' }, data: { phone: '6281299990001' } });
      await app.db.member.updateMany({ where: { name: 'Moh. Hasan' }, data: { phone: DEMO_PHONES.siti } });
      for (const text of ['saldo', 'ganti koperasi', '1', 'saldo', 'saldo ksu', 'stop']) {
        const reply = await app.send(telegram({ text }));
        expect(reply, text).not.toMatch(HASAN);
        expect(hasMoney(reply), text).toBe(false);
      }
      app.clock.now = new Date(app.clock.now.getTime() + 40 * 24 * 3600_000);
      for (const text of ['saldo', 'ganti koperasi', '2', 'saldo']) expect(await app.send(telegram({ text })), text).not.toMatch(HASAN);
      const identity = await app.db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: ACCOUNT } });
      expect(identity.memberId).toBeNull();
      expect((await app.db.member.findMany({ where: { name: 'Moh. Hasan' } })).some((m) => m.optOutAnnouncements)).toBe(false);
    });

    it('a contact proves P for 15 minutes from the share, however busy the session; a link then covers its own member only', async () => {
      const HASAN_ACCOUNT = '7003';
      const hasan = (extra: Partial<InboundMessage>) => telegramMessage(HASAN_ACCOUNT, extra);
      await app.send(hasan({ contact: { phone: DEMO_PHONES.hasan, own: true }, verifiedPhone: DEMO_PHONES.hasan, phoneVerifiedBy: 'contact' }));
      expect(await app.send(hasan({ text: '1' }))).toContain('KPRI Sejahtera Kraksaan');
      for (let step = 1; step <= 3; step++) {
        app.clock.now = new Date(app.clock.now.getTime() + 4 * 60_000);
        expect(await app.send(hasan({ text: 'ganti koperasi' }))).toContain('KSU-0117');
        await app.send(hasan({ text: '1' }));
      }
      app.clock.now = new Date(app.clock.now.getTime() + 4 * 60_000);
      expect(await app.send(hasan({ text: 'saldo' }))).toContain('Rp2.400.000');
      const asked = await app.send(hasan({ text: 'ganti koperasi' }));
      expect(asked).toContain('masih milik Anda');
      expect(asked).not.toContain('KSU-0117');
      expect(await app.send(hasan({ text: 'saldo ksu' }))).not.toContain('Rp780.000');
    });

    it('a contact link to Siti does not reach a membership the file gives P later for Hasan', async () => {
      await shareSiti();
      await app.db.member.updateMany({ where: { memberNumber: 'KSU-0117' }, data: { phone: DEMO_PHONES.siti } });
      await app.db.member.updateMany({ where: { memberNumber: '003' }, data: { phone: '6281299990003' } });
      await app.db.conversationSession.updateMany({ data: { expiresAt: new Date(0) } });
      for (const text of ['ganti koperasi', '2', 'saldo', 'saldo ksu', 'paiton', 'stop']) {
        const reply = await app.send(telegram({ text }));
        expect(reply, text).not.toMatch(HASAN);
        expect(reply, text).not.toContain('KSU Maju Bersama');
      }
      expect((await app.db.member.findFirstOrThrow({ where: { memberNumber: 'KSU-0117' } })).optOutAnnouncements).toBe(false);
    });
  });

  describe('group chats', () => {
    const group = (text: string, phone = DEMO_PHONES.siti) => ({
      channel: 'whatsapp',
      externalUserId: phone,
      chatId: '120363000000000@g.us',
      chatType: 'group' as const,
      text,
      verifiedPhone: phone,
    });

    it('answer a service request with a pointer to a private chat and nothing more', async () => {
      // Verified in private first: a group must still show nothing.
      await app.say(DEMO_PHONES.siti, 'saldo');
      for (const text of ['saldo', 'cek sldo', 'sisa utang brp', 'kapan rat', '/menu', '/saldo@KopBot']) {
        const reply = await app.send(group(text));
        expect(reply).toContain('chat pribadi');
        expect(hasMoney(reply)).toBe(false);
        expect(reply).not.toContain('Siti');
      }
    });

    it('stay silent on ordinary chatter', async () => {
      for (const text of ['selamat pagi bapak ibu, jangan lupa kerja bakti besok', 'pagi', 'p', 'menu', 'mohon hadir di rapat besok', 'uangnya sudah saya transfer ya']) {
        expect(await app.send(group(text)), text).toBe('');
      }
    });
  });

  describe('logs', () => {
    it('mask phone numbers', async () => {
      app.services.ledger.savingsSummary = async () => {
        throw new Error('boom');
      };
      await app.say(DEMO_PHONES.siti, 'saldo');
      const logs = app.logs.join('');
      expect(logs).toContain('boom');
      expect(logs).not.toContain(DEMO_PHONES.siti);
      expect(logs).toContain('6281******801');
    });
  });

  describe('audit', () => {
    it('records each verification', async () => {
      await app.say(DEMO_PHONES.siti, 'saldo');
      const entries = await app.db.auditLog.findMany({ where: { action: 'member.verify' } });
      expect(entries).toHaveLength(1);
      const identity = await app.db.channelIdentity.findFirstOrThrow({ where: { externalId: DEMO_PHONES.siti } });
      // The channel identity linked, and how its phone was proven (the terminal's --as, as a sender number).
      expect(JSON.parse(entries[0]!.detail)).toEqual({ channel: 'terminal', identityId: identity.id, method: 'phone', proof: 'sender' });
    });
  });
});

describe('activation codes at rest', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await createTestApp();
    await seedDemo(app.db, app.clock.now);
  });
  afterEach(async () => {
    await app.dispose();
  });

  const redeem = async (on: { engine: TestApp['engine'] }, phone: string, code: string) => {
    for (const text of ['saldo', '004']) await answerLine(on.engine, phone, text);
    return (await answerLine(on.engine, phone, code)).join('\n');
  };
  const latestCode = () => app.db.activationCode.findFirstOrThrow({ orderBy: { id: 'desc' } });

  it('are stored under a keyed hash, with the key generated on first start next to the database', async () => {
    const { code } = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
    const stored = (await latestCode()).codeHash;
    const plain = createHash('sha256').update(code.replace('-', '')).digest('hex');
    expect(stored).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(stored).not.toContain(plain);
    const keyFile = join(app.dir, KEY_FILE);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8').trim().length).toBeGreaterThanOrEqual(32);
    // A second process on the same database uses the same key.
    const other = await createApp({ DATABASE_URL: app.url, LOG_LEVEL: 'silent' }, { clock: () => app.clock.now });
    try {
      expect(await redeem(other, '6289900000301', code)).toContain('Nur Hayati');
    } finally {
      await other.close();
    }
  });

  it('use ACTIVATION_CODE_SECRET when it is set: a code hashed under another key does not work', async () => {
    const secret = 'rahasia-kode-aktivasi-yang-panjang-sekali-0123';
    const configured = await createApp({ DATABASE_URL: app.url, LOG_LEVEL: 'silent', ACTIVATION_CODE_SECRET: secret }, { clock: () => app.clock.now });
    try {
      const { code } = await issueActivationCode(configured.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      expect((await latestCode()).codeHash).toMatch(/^hmac-sha256:/);
      // The app on the generated key cannot redeem it; the one with the secret can.
      expect(await app.say('6289900000302', 'saldo')).toContain('kode aktivasi');
      await app.say('6289900000302', '004');
      expect(await app.say('6289900000302', code)).toContain('tidak cocok');
      expect(await redeem(configured, '6289900000303', code)).toContain('Nur Hayati');
    } finally {
      await configured.close();
    }
  });

  it('refuse a short ACTIVATION_CODE_SECRET with one sentence', () => {
    expect(() => loadConfig({ ACTIVATION_CODE_SECRET: 'rahasia' })).toThrow(
      'ACTIVATION_CODE_SECRET paling sedikit 32 karakter acak (misalnya dari `openssl rand -base64 32`).',
    );
  });

  it('issued before the keyed hash (plain SHA-256) are voided when the database is upgraded, and do not work', async () => {
    const code = 'ABCD-EFGH';
    const member = await app.db.member.findFirstOrThrow({ where: { memberNumber: '004' } });
    await app.db.activationCode.create({
      data: { memberId: member.id, codeHash: createHash('sha256').update('ABCDEFGH').digest('hex'), expiresAt: new Date(app.clock.now.getTime() + 86_400_000), issuedBy: 'old' },
    });
    // As the database held it before the upgrade: the voiding migration not yet applied.
    const file = new Database(join(app.dir, 'test.db'));
    file.prepare(`DELETE FROM _prisma_migrations WHERE migration_name = '20261201140000_void_unkeyed_activation_codes'`).run();
    file.close();
    const upgraded = await createApp({ DATABASE_URL: app.url, LOG_LEVEL: 'silent' }, { clock: () => app.clock.now });
    try {
      const stored = await upgraded.db.activationCode.findFirstOrThrow({ where: { issuedBy: 'old' } });
      expect(stored.codeHash).toBe('void:unkeyed');
      expect(await redeem(upgraded, '6289900000304', code.toLowerCase())).not.toContain('Nur Hayati');
    } finally {
      await upgraded.close();
    }
  });
});

describe('activation codes on PostgreSQL', () => {
  it('need ACTIVATION_CODE_SECRET: there is no file beside the database, and a key inside it would be copied with it', async () => {
    const pg = await createTestPostgres();
    try {
      const error = (await createApp({ DATABASE_URL: pg.url, LOG_LEVEL: 'silent' }).then(() => undefined, (e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain('ACTIVATION_CODE_SECRET: wajib diisi bila DATABASE_URL=postgresql://');
    } finally {
      await pg.drop();
    }
  });
});
