/**
 * Recycled numbers on Telegram, end to end (the real service, telegraf, a local Bot API): an
 * account once proved phone P with its own contact; the cooperative's file later gives P to
 * someone else. A code proves the member, never the phone; a remembered phone counts only while
 * Telegram vouched for it in this session, or while a link made by that phone still matches the
 * file. Whatever the account does, it never reaches P's new holder's data, reminders or roles.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { issueActivationCode } from '../../src/domain/activation-codes.ts';
import { DEMO_KOPERASI, DEMO_PHONES } from '../../src/persistence/seed-demo.ts';
import type { FakeUser } from '../helpers/fake-bot-api.ts';
import { ask, expireSessions, share, startTelegramService, textOf, type TelegramTestService } from './helpers.ts';

const ACCOUNT: FakeUser = { id: 501, first_name: 'Siti' }; // once shared P, Siti's number then
const HASAN_TELEGRAM: FakeUser = { id: 503, first_name: 'Hasan' };
const P = DEMO_PHONES.siti;
const SITI_NEW = '6281299990001';
const RUPIAH = /Rp\s?\d/;
/** What would give Hasan away: his name, his KSU member number, his savings. */
const HASAN = /Hasan|KSU-0117|Rp780\.000|Rp2\.400\.000/;

let t: TelegramTestService;
beforeEach(async () => {
  t = await startTelegramService();
});
afterEach(async () => {
  await t.dispose();
});
const lastAsksForContact = (user: FakeUser = ACCOUNT) => t.api.messagesTo(user.id).at(-1)!.reply_markup?.keyboard?.[0]?.[0]?.request_contact === true;

describe('a Telegram account whose number went to someone else', () => {
  beforeEach(async () => {
    // Years ago the account shared its own contact: P was Siti's, so it was linked to Siti.
    await share(t, ACCOUNT, { phone: P });
    // Then Siti changed numbers, and P went to Hasan, a member of two cooperatives.
    const db = t.service.app.db;
    await db.member.updateMany({ where: { memberNumber: '001' }, data: { phone: SITI_NEW } });
    await db.member.updateMany({ where: { name: 'Moh. Hasan' }, data: { phone: P } });
    await expireSessions(t);
  });


  async function linkWithCode(): Promise<string> {
    const { code } = await issueActivationCode(t.service.app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: new Date() });
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
    await issueActivationCode(t.service.app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: new Date() });
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
      expect((await t.service.app.outbox.recipient(id))!.identities).not.toContainEqual({ channel: 'telegram', externalId: String(ACCOUNT.id) });
    }

    // P becomes a board member's phone: linked again by code, the account still opens no officer menu.
    const kpri = await db.koperasi.findUniqueOrThrow({ where: { code: DEMO_KOPERASI } });
    const officer = await db.officer.create({ data: { koperasiId: kpri.id, name: 'Moh. Hasan', phone: P, role: 'PENGURUS' } });
    t.service.app.officers.refresh();
    expect(await linkWithCode()).toContain('Siti Aminah');
    const desk = textOf(await ask(t, ACCOUNT, 'pengurus'));
    expect(desk).not.toContain('Menu petugas');
    expect(desk).toContain('bagikan dulu nomor Anda');
    expect(await ask(t, ACCOUNT, '1').then(textOf)).not.toContain('Tulis pengumuman');
    expect(await db.auditLog.count({ where: { actor: `officer:${officer.id}` } })).toBe(0);
    expect(await db.broadcast.count()).toBe(0);
    expect(allTextOfAccount()).not.toMatch(HASAN);
  });

  test('asking for one\'s SHU or the cooperative\'s figures, with a code or without: never Hasan\'s SHU, nor his cooperatives\' figures', async () => {
    /** Hasan's SHU at KSU Maju Bersama (jasa modal, jasa usaha, total) and that cooperative. */
    const HASAN_SHU = /Rp85\.950|Rp54\.200|Rp31\.750|KSU Maju Bersama/;
    for (const text of ['shu saya brp', 'shu ksu', 'laporan koperasi', 'my shu']) {
      const reply = textOf(await ask(t, ACCOUNT, text));
      expect(reply, text).not.toMatch(HASAN);
      expect(reply, text).not.toMatch(HASAN_SHU);
      expect(reply, text).not.toMatch(RUPIAH);
    }
    // Linked with her own code, Siti sees her own SHU, and only hers.
    expect(await linkWithCode()).toContain('Siti Aminah');
    expect(textOf(await ask(t, ACCOUNT, 'shu saya brp'))).toContain('Total: Rp699.250');
    for (const text of ['shu ksu', 'laporan koperasi ksu', 'ganti koperasi', '2', 'shu saya']) {
      const reply = textOf(await ask(t, ACCOUNT, text));
      expect(reply, text).not.toMatch(HASAN);
      expect(reply, text).not.toMatch(HASAN_SHU);
    }
    // A re-issued code ends the link: no SHU and no figures at all.
    await issueActivationCode(t.service.app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: new Date() });
    for (const text of ['shu saya brp', '1', '2', 'laporan koperasi']) {
      const reply = textOf(await ask(t, ACCOUNT, text));
      expect(reply, text).not.toMatch(HASAN_SHU);
      expect(reply, text).not.toMatch(RUPIAH);
    }
    expect(allTextOfAccount()).not.toMatch(HASAN_SHU);
  });

  test('linked with a code, a re-issued code ends the link and the remembered number links nothing', async () => {
    expect(await linkWithCode()).toContain('Siti Aminah');
    expect(textOf(await ask(t, ACCOUNT, 'saldo'))).toContain('Simpanan Siti Aminah');
    await issueActivationCode(t.service.app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '001', actor: 'test', now: new Date() });
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
    t.service.app.officers.refresh();
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

  test('the real holder\'s own Telegram, whose contact link still matches the file, sees its member; switching needs its contact again, then works as before', async () => {
    await share(t, HASAN_TELEGRAM, { phone: P });
    expect(textOf(await ask(t, HASAN_TELEGRAM, '1'))).toContain('KPRI Sejahtera Kraksaan');
    await expireSessions(t);
    // A later session: the link made by P still matches the file, so P is still proven, for the
    // linked membership only. The others of P need Telegram to vouch again.
    expect(textOf(await ask(t, HASAN_TELEGRAM, 'saldo'))).toContain('Simpanan Moh. Hasan');
    expect(textOf(await ask(t, HASAN_TELEGRAM, 'ganti koperasi'))).toContain('masih milik Anda');
    expect(lastAsksForContact(HASAN_TELEGRAM)).toBe(true);
    const list = textOf(await share(t, HASAN_TELEGRAM, { phone: P }));
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

/**
 * A contact proof is for the phone and for the members that phone was on file for when Telegram
 * vouched, for 15 minutes from the share; a link proves the phone for the linked member only.
 * Issue 11, second review.
 */
describe('a Telegram contact proves its phone for whom the file gave it to then', () => {
  const accountId = { channel: 'telegram', externalId: String(ACCOUNT.id) };

  async function hasan(): Promise<{ id: number; memberNumber: string; optOutAnnouncements: boolean }[]> {
    return t.service.app.db.member.findMany({ where: { name: 'Moh. Hasan' }, select: { id: true, memberNumber: true, optOutAnnouncements: true } });
  }

  test('the file moves P from Siti to Hasan (and makes it an officer\'s phone) during the session that proved P: no Hasan data, memberships or officer menu, then or later, and none of his mail', async () => {
    const db = t.service.app.db;
    await share(t, ACCOUNT, { phone: P });
    expect(textOf(await ask(t, ACCOUNT, 'saldo'))).toContain('Simpanan Siti Aminah');
    await db.member.updateMany({ where: { memberNumber: '001' }, data: { phone: SITI_NEW } });
    await db.member.updateMany({ where: { name: 'Moh. Hasan' }, data: { phone: P } });
    const kpri = await db.koperasi.findUniqueOrThrow({ where: { code: DEMO_KOPERASI } });
    const officer = await db.officer.create({ data: { koperasiId: kpri.id, name: 'Moh. Hasan', phone: P, role: 'PENGURUS' } });
    t.service.app.officers.refresh();

    const now: string[] = [];
    for (const text of ['saldo', 'ganti koperasi', '1', 'saldo', 'saldo ksu', 'pengurus', '1']) now.push(textOf(await ask(t, ACCOUNT, text)));
    expect(now.join('\n')).not.toMatch(HASAN);
    expect(now.join('\n')).not.toContain('Menu petugas');
    expect(now.join('\n')).not.toContain('KSU Maju Bersama');
    expect(now[5]).toContain('bagikan dulu nomor Anda');

    // A month later.
    await expireSessions(t);
    const later: string[] = [];
    for (const text of ['saldo', 'ganti koperasi', '2', 'saldo', 'stop', 'pengurus']) later.push(textOf(await ask(t, ACCOUNT, text)));
    expect(later.join('\n')).not.toMatch(HASAN);
    expect(later.join('\n')).not.toContain('Menu petugas');

    const identity = await db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: String(ACCOUNT.id) } });
    const hasanIds = (await hasan()).map((m) => m.id);
    expect(hasanIds).not.toContain(identity.memberId);
    for (const id of hasanIds) expect((await t.service.app.outbox.recipient(id))!.identities).not.toContainEqual(accountId);
    expect((await t.service.app.outbox.officerRecipient(officer.id))!.identities).not.toContainEqual(accountId);
    expect((await hasan()).every((m) => !m.optOutAnnouncements)).toBe(true);
    expect(await db.broadcast.count()).toBe(0);
    expect(await db.auditLog.count({ where: { actor: `officer:${officer.id}` } })).toBe(0);
  });

  test('a contact for a phone on file for no one links nothing the file gives that phone to later in the session, and opens no officer menu given to it since', async () => {
    const db = t.service.app.db;
    const X = '6281299990077';
    await share(t, ACCOUNT, { phone: X });
    await db.member.updateMany({ where: { memberNumber: 'KSU-0117' }, data: { phone: X } });
    const ksu = await db.member.findFirstOrThrow({ where: { memberNumber: 'KSU-0117' } });
    await db.officer.create({ data: { koperasiId: ksu.koperasiId, name: 'Moh. Hasan', phone: X, role: 'PENGURUS' } });
    t.service.app.officers.refresh();
    const out: string[] = [];
    for (const text of ['saldo', 'ganti koperasi', '1', 'stop', 'pengurus']) out.push(textOf(await ask(t, ACCOUNT, text)));
    expect(out.join('\n')).not.toMatch(HASAN);
    expect(out.join('\n')).not.toContain('Menu petugas');
    expect(lastAsksForContact()).toBe(true);
    expect((await db.channelIdentity.findFirstOrThrow({ where: { externalId: String(ACCOUNT.id) } })).memberId).toBeNull();
    expect((await db.member.findUniqueOrThrow({ where: { id: ksu.id } })).optOutAnnouncements).toBe(false);
  });

  test('a contact proof lasts 15 minutes from the share, however busy the session; the link that remains covers its own membership only', async () => {
    const db = t.service.app.db;
    await share(t, HASAN_TELEGRAM, { phone: DEMO_PHONES.hasan });
    expect(textOf(await ask(t, HASAN_TELEGRAM, '1'))).toContain('KPRI Sejahtera Kraksaan');
    expect(textOf(await ask(t, HASAN_TELEGRAM, 'ganti koperasi'))).toContain('KSU Maju Bersama Paiton');
    expect(textOf(await ask(t, HASAN_TELEGRAM, '1'))).toContain('KPRI Sejahtera Kraksaan');
    // Sixteen minutes after the share, the session still open (it was busy all along).
    const session = await db.conversationSession.findFirstOrThrow({ where: { chatId: String(HASAN_TELEGRAM.id) } });
    const data = JSON.parse(session.data) as { provenAt?: string };
    expect(data.provenAt).toBeDefined();
    await db.conversationSession.update({
      where: { channel_chatId: { channel: session.channel, chatId: session.chatId } },
      data: { data: JSON.stringify({ ...data, provenAt: new Date(Date.now() - 16 * 60_000).toISOString() }), expiresAt: new Date(Date.now() + 10 * 60_000) },
    });
    expect(textOf(await ask(t, HASAN_TELEGRAM, 'saldo'))).toContain('Simpanan Moh. Hasan');
    expect(textOf(await ask(t, HASAN_TELEGRAM, 'ganti koperasi'))).toContain('masih milik Anda');
    expect(lastAsksForContact(HASAN_TELEGRAM)).toBe(true);
    expect(textOf(await ask(t, HASAN_TELEGRAM, 'saldo ksu'))).not.toContain('KSU-0117');
    // Telegram vouches again: both memberships.
    await share(t, HASAN_TELEGRAM, { phone: DEMO_PHONES.hasan });
    expect(textOf(await ask(t, HASAN_TELEGRAM, 'ganti koperasi'))).toContain('KSU Maju Bersama Paiton (No. anggota KSU-0117)');
  });

  test('a contact link to Siti does not reach a membership the file later gives P for Hasan: not listed, switched to, read, opted out, nor his or his officer mail', async () => {
    const db = t.service.app.db;
    await share(t, ACCOUNT, { phone: P });
    await db.member.updateMany({ where: { memberNumber: 'KSU-0117' }, data: { phone: P } });
    await db.member.updateMany({ where: { memberNumber: '003' }, data: { phone: '6281299990003' } });
    const kpri = await db.koperasi.findUniqueOrThrow({ where: { code: DEMO_KOPERASI } });
    const officer = await db.officer.create({ data: { koperasiId: kpri.id, name: 'Moh. Hasan', phone: P, role: 'PENGURUS' } });
    t.service.app.officers.refresh();
    await expireSessions(t);
    const out: string[] = [];
    for (const text of ['ganti koperasi', '2', 'saldo', 'saldo ksu', 'paiton', 'stop', 'langganan', 'stop pengingat', 'pengurus']) out.push(textOf(await ask(t, ACCOUNT, text)));
    expect(out.join('\n')).not.toMatch(HASAN);
    expect(out.join('\n')).not.toContain('KSU Maju Bersama');
    expect(out.join('\n')).not.toContain('Menu petugas');
    expect(out[2]).toContain('Simpanan Siti Aminah');
    const ksu = await db.member.findFirstOrThrow({ where: { memberNumber: 'KSU-0117' } });
    expect([ksu.optOutAnnouncements, ksu.optOutReminders]).toEqual([false, false]);
    expect((await t.service.app.outbox.recipient(ksu.id))!.identities).not.toContainEqual(accountId);
    expect((await t.service.app.outbox.officerRecipient(officer.id))!.identities).not.toContainEqual(accountId);
    // Siti's own mail still reaches her account: its link names her.
    const siti = await db.member.findFirstOrThrow({ where: { memberNumber: '001', koperasiId: kpri.id } });
    expect((await t.service.app.outbox.recipient(siti.id))!.identities).toContainEqual(accountId);
  });
});
