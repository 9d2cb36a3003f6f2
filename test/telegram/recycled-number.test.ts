/**
 * Recycled numbers on Telegram, end to end (the real service, telegraf, a local Bot API): an
 * account once proved phone P with its own contact; the cooperative's file later gives P to
 * someone else. A code proves the member, never the phone; a remembered phone counts only while
 * Telegram vouched for it in this session, or while a link made by that phone still matches the
 * file. Whatever the account does, it never reaches P's new holder's data, reminders or roles.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { issueActivationCode } from '../../src/domain/activation-codes.ts';
import { DEMO_KOPERASI, DEMO_PHONES } from '../../src/domain/seed-demo.ts';
import type { FakeUser } from '../helpers/fake-bot-api.ts';
import { ask, expireSessions, share, startTelegramService, textOf, type TelegramTestService } from './helpers.ts';

const ACCOUNT: FakeUser = { id: 501, first_name: 'Siti' }; // once shared P, Siti's number then
const HASAN_TELEGRAM: FakeUser = { id: 503, first_name: 'Hasan' };
const P = DEMO_PHONES.siti;
const SITI_NEW = '6281299990001';
const RUPIAH = /Rp\s?\d/;
/** What would give Hasan away: his name, his KSU member number, his savings. */
const HASAN = /Hasan|KSU-0117|Rp780\.000|Rp2\.400\.000/;

describe('a Telegram account whose number went to someone else', () => {
  let t: TelegramTestService;
  beforeEach(async () => {
    t = await startTelegramService();
    // Years ago the account shared its own contact: P was Siti's, so it was linked to Siti.
    await share(t, ACCOUNT, { phone: P });
    // Then Siti changed numbers, and P went to Hasan, a member of two cooperatives.
    const db = t.service.app.db;
    await db.member.updateMany({ where: { memberNumber: '001' }, data: { phone: SITI_NEW } });
    await db.member.updateMany({ where: { name: 'Moh. Hasan' }, data: { phone: P } });
    await expireSessions(t);
  });
  afterEach(async () => {
    await t.dispose();
  });

  const lastAsksForContact = () => t.api.messagesTo(ACCOUNT.id).at(-1)!.reply_markup?.keyboard?.[0]?.[0]?.request_contact === true;

  async function linkWithCode(): Promise<string> {
    const { code } = await issueActivationCode(t.service.app.db, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: new Date() });
    await ask(t, ACCOUNT, 'saldo');
    await ask(t, ACCOUNT, '001');
    return textOf(await ask(t, ACCOUNT, code));
  }

  async function hasanIds(): Promise<number[]> {
    return (await t.service.app.db.member.findMany({ where: { name: 'Moh. Hasan' }, select: { id: true } })).map((m) => m.id);
  }

  test('linked with a code, then re-issued a code, "ganti koperasi" or naming a cooperative: never Hasan\'s savings, reminders or officer menu', async () => {
    const db = t.service.app.db;
    // As the bot and the README tell her, Siti links her own membership with a code.
    const welcome = await linkWithCode();
    expect(welcome).toContain('Siti Aminah');
    expect(welcome).toContain('Rp6.150.000');

    // "ganti koperasi": the remembered P is not proven, so Hasan's memberships are not listed;
    // Telegram is asked to vouch again, and Siti's own link stays.
    const switched = textOf(await ask(t, ACCOUNT, 'ganti koperasi'));
    expect(switched).not.toMatch(HASAN);
    expect(switched).toContain('masih milik Anda');
    expect(lastAsksForContact()).toBe(true);
    expect(textOf(await ask(t, ACCOUNT, 'saldo'))).toContain('Simpanan Siti Aminah');

    // Naming Hasan's other cooperative.
    for (const text of ['saldo ksu', 'saldo yg di paiton', 'rat ksu kapan']) {
      const reply = textOf(await ask(t, ACCOUNT, text));
      expect(reply, text).not.toMatch(HASAN);
      expect(reply, text).not.toContain('KSU Maju Bersama');
    }

    // The office re-issues Siti's code (a lost phone): the code's link ends, and with it
    // everything the account had; P proves nothing.
    await issueActivationCode(db, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: new Date() });
    for (const text of ['saldo', '1', '2', 'menu', 'pinjaman', 'saldo ksu', 'ganti koperasi', '1', 'kapan rat']) {
      const reply = textOf(await ask(t, ACCOUNT, text));
      expect(reply, text).not.toMatch(HASAN);
      expect(reply, text).not.toMatch(RUPIAH);
    }
    expect(lastAsksForContact()).toBe(true);
    const identity = await db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: String(ACCOUNT.id) } });
    expect(await hasanIds()).not.toContain(identity.memberId);

    // Hasan's reminders and announcements are never routed to the account.
    for (const id of await hasanIds()) {
      expect(t.service.app.outbox.recipient(id)!.identities).not.toContainEqual({ channel: 'telegram', externalId: String(ACCOUNT.id) });
    }

    // P becomes a board member's phone: linked again by code, the account still opens no officer menu.
    const kpri = await db.koperasi.findUniqueOrThrow({ where: { code: DEMO_KOPERASI } });
    const officer = await db.officer.create({ data: { koperasiId: kpri.id, name: 'Moh. Hasan', phone: P, role: 'PENGURUS' } });
    t.service.app.desk.refresh();
    expect(await linkWithCode()).toContain('Siti Aminah');
    const desk = textOf(await ask(t, ACCOUNT, 'pengurus'));
    expect(desk).not.toContain('Menu petugas');
    expect(desk).toContain('bagikan dulu nomor Anda');
    expect(await ask(t, ACCOUNT, '1').then(textOf)).not.toContain('Tulis pengumuman');
    expect(await db.auditLog.count({ where: { actor: `officer:${officer.id}` } })).toBe(0);
    expect(await db.broadcast.count()).toBe(0);
    expect(allTextOfAccount()).not.toMatch(HASAN);
  });

  test('linked with a code, a re-issued code ends the link and the remembered number links nothing', async () => {
    expect(await linkWithCode()).toContain('Siti Aminah');
    expect(textOf(await ask(t, ACCOUNT, 'saldo'))).toContain('Simpanan Siti Aminah');
    await issueActivationCode(t.service.app.db, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: new Date() });
    for (const text of ['saldo', '1', '2']) {
      const reply = textOf(await ask(t, ACCOUNT, text));
      expect(reply, text).not.toMatch(HASAN);
      expect(reply, text).not.toMatch(RUPIAH);
    }
    const identity = await t.service.app.db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: String(ACCOUNT.id) } });
    expect(identity.memberId).toBeNull();
  });

  test('linked with a code, it opens no officer menu when the remembered number becomes a Dinas phone', async () => {
    const db = t.service.app.db;
    await db.officer.create({ data: { koperasiId: null, name: 'Moh. Hasan', phone: P, role: 'DINAS' } });
    t.service.app.desk.refresh();
    expect(await linkWithCode()).toContain('Siti Aminah');
    expect(textOf(await ask(t, ACCOUNT, 'saldo'))).toContain('Simpanan Siti Aminah');
    const desk = textOf(await ask(t, ACCOUNT, 'dinas'));
    expect(desk).not.toContain('Menu petugas');
    expect(desk).toContain('bagikan dulu nomor Anda');
    expect(lastAsksForContact()).toBe(true);
  });

  test('without any code, it cannot list Hasan\'s memberships or switch his announcements off', async () => {
    const db = t.service.app.db;
    const listed = textOf(await ask(t, ACCOUNT, 'ganti koperasi'));
    expect(listed).not.toMatch(HASAN);
    expect(listed).not.toContain('KSU Maju Bersama');
    expect(lastAsksForContact()).toBe(true);
    for (const text of ['stop', 'stop pengingat', 'stop undangan']) {
      const reply = textOf(await ask(t, ACCOUNT, text));
      expect(reply, text).toContain('masih milik Anda');
      expect(lastAsksForContact()).toBe(true);
    }
    const hasan = await db.member.findMany({ where: { name: 'Moh. Hasan' } });
    expect(hasan.map((m) => [m.optOutAnnouncements, m.optOutReminders, m.optOutInvitations])).toEqual([
      [false, false, false],
      [false, false, false],
    ]);
    expect(allTextOfAccount()).not.toMatch(HASAN);
  });

  test('the real holder\'s own Telegram, whose contact link still matches the file, switches and stops as before', async () => {
    await share(t, HASAN_TELEGRAM, { phone: P });
    expect(textOf(await ask(t, HASAN_TELEGRAM, '1'))).toContain('KPRI Sejahtera Kraksaan');
    await expireSessions(t);
    // A later session: the link made by P still matches the file, so P is still proven.
    const list = textOf(await ask(t, HASAN_TELEGRAM, 'ganti koperasi'));
    expect(list).toContain('KSU Maju Bersama Paiton (No. anggota KSU-0117)');
    expect(textOf(await ask(t, HASAN_TELEGRAM, 'paiton'))).toContain('KSU Maju Bersama Paiton');
    expect(textOf(await ask(t, HASAN_TELEGRAM, 'stop'))).toContain('tidak akan menerima pengumuman');
    const hasan = await t.service.app.db.member.findMany({ where: { name: 'Moh. Hasan' } });
    expect(hasan.every((m) => m.optOutAnnouncements)).toBe(true);
  });

  function allTextOfAccount(): string {
    return textOf(t.api.messagesTo(ACCOUNT.id));
  }
});
