/**
 * Officers by chat, through the real engine on SQLite (terminal channel: the phone counts as
 * verified, as WhatsApp's sender number does): announcements, the RAT tally and date, Dinas
 * announcements to boards, and bimtek invitations with capacity and a waiting list.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import pino from 'pino';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { queueBimtekInvitations, queueBimtekReminders } from '../../src/jobs/bimtek.ts';
import { queueRatReminders } from '../../src/jobs/run-due.ts';
import { OutboxDispatcher, type OutboundChannel } from '../../src/outbox/dispatcher.ts';
import { captureLogs, createTestApp, telegramMessage, TEST_ACTIVATION_CODE_SECRET, type TestApp } from '../helpers/app.ts';
import type { InboundMessage } from '../../src/core/message.ts';
import { createApp } from '../../src/app.ts';
import { terminalMessage } from '../../src/channels/terminal/terminal-channel.ts';
import { issueActivationCode } from '../../src/domain/activation-codes.ts';

const BOARD = '6281234567890'; // Drs. Sugeng Riyadi, PENGURUS of KPRI Sejahtera (demo)
const DINAS = '6281234567899';
const SITI = '6281234567801';
const quiet = pino({ level: 'silent' });

// The desk calls the domain's services only: the same suite on SQLite and on PostgreSQL.
describe.each([
  { name: 'SQLite', postgres: false },
  { name: 'PostgreSQL', postgres: true },
])('officer desk on $name', ({ postgres }) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp(new Date('2026-11-23T03:00:00Z'), { postgres });
    await seedDemo(t.db, t.clock.now);
  });
  afterEach(async () => t.dispose());

  test('a board member composes an announcement, sees the preview with the recipient count, confirms, and it is queued and audited', async () => {
    const menu = await t.say(BOARD, 'pengurus');
    expect(menu).toContain('Menu petugas');
    expect(menu).toContain('1. Buat pengumuman untuk anggota');
    expect(await t.say(BOARD, '1')).toContain('Tulis pengumuman');
    const preview = await t.say(BOARD, 'Kantor tutup tanggal 25 Desember. Selamat Natal bagi yang merayakan.');
    const active = await t.db.member.count({ where: { koperasi: { code: 'KPRI-SEJAHTERA' }, status: 'AKTIF' } });
    expect(preview).toContain(`*${active} anggota aktif*`);
    expect(preview).toContain('Kantor tutup tanggal 25 Desember.');
    expect(await t.db.outboxMessage.count()).toBe(0); // nothing before the confirmation
    expect(await t.say(BOARD, 'ya')).toContain(`diantrekan untuk ${active} anggota`);
    expect(await t.db.outboxMessage.count({ where: { purpose: 'announcement' } })).toBe(active);
    const officer = await t.db.officer.findFirstOrThrow({ where: { phone: BOARD } });
    const audit = await t.db.auditLog.findFirstOrThrow({ where: { action: 'broadcast.queue' } });
    expect(audit.actor).toBe(`officer:${officer.id}`);

    // Cancelling at the preview queues nothing.
    await t.say(BOARD, 'pengurus');
    await t.say(BOARD, '1');
    await t.say(BOARD, 'Pengumuman yang batal');
    expect(await t.say(BOARD, 'batal')).toContain('dibatalkan');
    expect(await t.db.broadcast.count()).toBe(1);
  });

  test('on Telegram an officer proves the number with a shared contact; a remembered number alone opens nothing', async () => {
    const telegram = (extra: Partial<InboundMessage>) => telegramMessage('900', extra);
    await t.send(telegram({ contact: { phone: BOARD, own: true }, verifiedPhone: BOARD, phoneVerifiedBy: 'contact' }));
    expect(await t.send(telegram({ text: 'pengurus' }))).toContain('Menu petugas');
    // Later (the session has lapsed): Telegram only remembers the number; the contact is asked again.
    await t.db.conversationSession.updateMany({ data: { expiresAt: new Date(0) } });
    const asked = await t.engine.handle(telegram({ text: 'pengurus' }));
    expect(asked.replies[0]!.text).toContain('bagikan dulu nomor Anda');
    expect(asked.replies[0]!.requestContact).toBeDefined();
    await t.send(telegram({ contact: { phone: BOARD, own: true }, verifiedPhone: BOARD, phoneVerifiedBy: 'contact' }));
    expect(await t.send(telegram({ text: 'pengurus' }))).toContain('Menu petugas');
  });

  test('on Telegram the desk needs the officer\'s contact in this session: not a code link, not a member link that still matches', async () => {
    const telegram = (extra: Partial<InboundMessage>, user = '901') => telegramMessage(user, extra);
    const kpri = await t.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    const expire = () => t.db.conversationSession.updateMany({ data: { expiresAt: new Date(0) } });
    // Siti, a member, is also PENGAWAS: her contact link to her membership still matches the file.
    await t.db.officer.create({ data: { koperasiId: kpri.id, name: 'Siti Aminah', phone: SITI, role: 'PENGAWAS' } });
    t.officers.refresh();
    await t.send(telegram({ contact: { phone: SITI, own: true }, verifiedPhone: SITI, phoneVerifiedBy: 'contact' }));
    expect(await t.send(telegram({ text: 'pengurus' }))).toContain('Menu petugas');
    await expire();
    expect(await t.send(telegram({ text: 'saldo' }))).toContain('Simpanan Siti Aminah'); // the link still proves her data
    expect(await t.send(telegram({ text: 'pengurus' }))).toContain('bagikan dulu nomor Anda');

    // Account 902 once shared the board member's number; the number then went to someone else
    // on file, and the account linked its own membership (Nur Hayati, 004) with a code.
    await t.send(telegram({ contact: { phone: BOARD, own: true }, verifiedPhone: BOARD, phoneVerifiedBy: 'contact' }, '902'));
    await expire();
    const { code } = await issueActivationCode(t.domain, { koperasiCode: 'KPRI-SEJAHTERA', memberNumber: '004', actor: 'test', now: t.clock.now });
    await t.send(telegram({ text: 'saldo' }, '902'));
    await t.send(telegram({ text: '004' }, '902'));
    expect(await t.send(telegram({ text: code }, '902'))).toContain('Nur Hayati');
    expect(await t.send(telegram({ text: 'saldo' }, '902'))).toContain('Simpanan Nur Hayati');
    const asked = await t.send(telegram({ text: 'pengurus' }, '902'));
    expect(asked).not.toContain('Menu petugas');
    expect(asked).toContain('bagikan dulu nomor Anda');
    await t.send(telegram({ text: '1' }, '902'));
    await t.send(telegram({ text: 'Setoran simpanan mulai hari ini ke rekening 123-456-789.' }, '902'));
    await t.send(telegram({ text: 'ya' }, '902'));
    expect(await t.db.broadcast.count()).toBe(0);
    expect(await t.db.auditLog.count({ where: { actor: { startsWith: 'officer:' } } })).toBe(0);
  });

  test('on Telegram a bimtek answer is taken from an account whose link by the phone still holds, and the audit says so', async () => {
    const kpri = await t.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    await t.db.officer.create({ data: { koperasiId: kpri.id, name: 'Siti Aminah', phone: SITI, role: 'PENGAWAS' } });
    t.officers.refresh();
    await t.send(telegramMessage('905', { contact: { phone: SITI, own: true }, verifiedPhone: SITI, phoneVerifiedBy: 'contact' }));
    await t.db.conversationSession.updateMany({ data: { expiresAt: new Date(0) } });
    await queueBimtekInvitations({ domain: t.domain, now: t.clock.now });
    expect(await t.send(telegramMessage('905', { text: 'bimtek ya' }))).toContain('terdaftar sebagai peserta');
    const identity = await t.db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: '905' } });
    const rsvp = JSON.parse((await t.db.auditLog.findFirstOrThrow({ where: { action: 'bimtek.rsvp' } })).detail);
    expect(rsvp.via).toEqual({ identityId: identity.id, channel: 'telegram', externalId: '905', proof: 'link' });
    // The officer menu still needs the contact in this session.
    expect(await t.send(telegramMessage('905', { text: 'pengurus' }))).toContain('bagikan dulu nomor Anda');
  });

  test('on Telegram "bimtek ya" from a number only remembered asks for the contact (never "no invitation waits"), then is taken', async () => {
    const telegram = (extra: Partial<InboundMessage>) => telegramMessage('906', extra);
    await t.send(telegram({ contact: { phone: BOARD, own: true }, verifiedPhone: BOARD, phoneVerifiedBy: 'contact' }));
    await t.db.conversationSession.updateMany({ data: { expiresAt: new Date(0) } });
    await queueBimtekInvitations({ domain: t.domain, now: t.clock.now });
    const asked = await t.engine.handle(telegram({ text: 'bimtek ya' }));
    const text = asked.replies.map((r) => r.text).join('\n');
    expect(text).not.toContain('Tidak ada undangan bimtek');
    expect(text).toContain('Bagikan nomor Anda');
    expect(asked.replies.some((r) => r.requestContact)).toBe(true);
    expect(await t.db.eventInvitation.count({ where: { status: 'accepted' } })).toBe(0);
    await t.send(telegram({ contact: { phone: BOARD, own: true }, verifiedPhone: BOARD, phoneVerifiedBy: 'contact' }));
    expect(await t.send(telegram({ text: 'bimtek ya' }))).toContain('terdaftar sebagai peserta');
  });

  test('the audit names the channel identity that acted and how its phone was proven', async () => {
    await t.say(BOARD, 'pengurus');
    await t.say(BOARD, '1');
    await t.say(BOARD, 'Kantor tutup tanggal 25 Desember.');
    await t.say(BOARD, 'ya');
    const terminal = await t.db.channelIdentity.findFirstOrThrow({ where: { channel: 'terminal', externalId: BOARD } });
    const queued = JSON.parse((await t.db.auditLog.findFirstOrThrow({ where: { action: 'broadcast.queue' } })).detail);
    expect(queued.via).toEqual({ identityId: terminal.id, channel: 'terminal', externalId: '6281******890', proof: 'sender' });

    // On Telegram: the contact shared in this session. It proves the phone for 15 minutes from
    // the share, however busy the desk: a step after that waits for the contact again.
    const telegram = (extra: Partial<InboundMessage>) => telegramMessage('900', extra);
    const shareBoard = () => t.send(telegram({ contact: { phone: BOARD, own: true }, verifiedPhone: BOARD, phoneVerifiedBy: 'contact' }));
    await shareBoard();
    for (const text of ['pengurus', '3', '20/02/2027 09.30']) {
      t.clock.now = new Date(t.clock.now.getTime() + 4 * 60_000);
      expect(await t.send(telegram({ text }))).not.toContain('bagikan dulu nomor Anda');
    }
    t.clock.now = new Date(t.clock.now.getTime() + 4 * 60_000);
    expect(await t.send(telegram({ text: '1' }))).toContain('Nomor Anda perlu dipastikan lagi');
    expect(await t.db.auditLog.count({ where: { action: 'rat.move' } })).toBe(0);
    await shareBoard();
    t.clock.now = new Date(t.clock.now.getTime() + 60_000);
    expect(await t.send(telegram({ text: '1' }))).toContain('Jadwal RAT sudah diubah');
    const identity = await t.db.channelIdentity.findFirstOrThrow({ where: { channel: 'telegram', externalId: '900' } });
    const moved = JSON.parse((await t.db.auditLog.findFirstOrThrow({ where: { action: 'rat.move' } })).detail);
    expect(moved.via).toEqual({ identityId: identity.id, channel: 'telegram', externalId: '900', proof: 'session' });
    const notice = JSON.parse((await t.db.auditLog.findFirstOrThrow({ where: { action: 'broadcast.queue' }, orderBy: { id: 'desc' } })).detail);
    expect(notice.via).toMatchObject({ identityId: identity.id, proof: 'session' });

    // The Dinas on the terminal: the sender number.
    await t.say(DINAS, 'dinas');
    await t.say(DINAS, '1');
    await t.say(DINAS, 'semua');
    await t.say(DINAS, 'Rapat koordinasi Senin 09.00 di Dinas.');
    await t.say(DINAS, 'ya');
    const dinas = JSON.parse((await t.db.auditLog.findFirstOrThrow({ where: { action: 'broadcast.queue_boards' } })).detail);
    expect(dinas.via).toMatchObject({ channel: 'terminal', proof: 'sender' });
  });

  test('members are not officers: "pengurus" from a member is the member flow, and a typed officer number proves nothing', async () => {
    const reply = await t.say(SITI, 'pengurus');
    expect(reply).not.toContain('Menu petugas');
    const typed = await t.say(SITI, BOARD);
    expect(typed).not.toContain('Menu petugas');
    await t.say(SITI, '1');
    expect(await t.db.broadcast.count()).toBe(0);
  });

  test('an announcement may take half an hour to write (its steps wait 30 minutes, not a member’s 15)', async () => {
    await t.say(BOARD, 'pengurus');
    await t.say(BOARD, '1');
    t.clock.now = new Date(t.clock.now.getTime() + 25 * 60_000); // longer than a member's 15 idle minutes
    expect(await t.say(BOARD, 'Kantor tutup tanggal 25 Desember, buka lagi tanggal 26.')).toContain('Pratinjau');
    t.clock.now = new Date(t.clock.now.getTime() + 29 * 60_000);
    expect(await t.say(BOARD, 'batal')).toContain('dibatalkan');
    expect(await t.db.broadcast.count()).toBe(0);
  });

  test('an officer with two roles who loses one while the menu is open: the numbers still mean what was shown', async () => {
    const board = await t.db.officer.findFirstOrThrow({ where: { phone: BOARD } });
    await t.db.officer.create({ data: { koperasiId: null, name: board.name, phone: BOARD, role: 'DINAS' } });
    t.officers.refresh();
    const menu = await t.say(BOARD, 'pengurus');
    expect(menu).toContain('1. Buat pengumuman untuk anggota');
    expect(menu).toContain('4. Pengumuman untuk pengurus koperasi');
    await t.db.officer.delete({ where: { id: board.id } });
    t.officers.refresh();
    expect(await t.say(BOARD, '1')).toContain('perannya tidak punya menu'); // the members' announcement, refused: not the Dinas one
    expect(await t.say(BOARD, 'pengurus')).toContain('1. Pengumuman untuk pengurus koperasi');
    expect(await t.say(BOARD, '1')).toContain('Pengumuman untuk pengurus koperasi mana?');
    expect(await t.db.broadcast.count()).toBe(0);
  });

  test('the RAT tally counts confirmations against the cooperative\'s quorum', async () => {
    await t.say(SITI, 'kapan rat');
    await t.say(SITI, 'hadir');
    await t.say('6281234567802', 'rat');
    await t.say('6281234567802', 'tidak hadir');
    await t.db.koperasi.update({ where: { code: 'KPRI-SEJAHTERA' }, data: { quorumPercent: 60 } });
    t.officers.refresh();
    await t.say(BOARD, 'pengurus');
    const tally = await t.say(BOARD, '2');
    const active = await t.db.member.count({ where: { koperasi: { code: 'KPRI-SEJAHTERA' }, status: 'AKTIF' } });
    expect(tally).toContain('Hadir: 1');
    expect(tally).toContain('Tidak hadir: 1');
    expect(tally).toContain(`Belum menjawab: ${active - 2}`);
    const needed = Math.ceil(active * 0.6);
    expect(tally).toContain(`Kuorum 60% = ${needed} anggota: kurang ${needed - 1} konfirmasi hadir.`);
  });

  test('a member who said "hadir" and then left counts neither in the board\'s reminder nor in the desk\'s tally: both say the same', async () => {
    await t.say(SITI, 'kapan rat');
    await t.say(SITI, 'hadir');
    await t.say('6281234567802', 'rat');
    await t.say('6281234567802', 'hadir');
    await t.db.member.updateMany({ where: { phone: SITI }, data: { status: 'KELUAR' } });
    const active = await t.db.member.count({ where: { koperasi: { code: 'KPRI-SEJAHTERA' }, status: 'AKTIF' } });
    await queueRatReminders({ domain: t.domain, now: new Date('2027-01-08T01:00:00Z') });
    const reminder = await t.db.outboxMessage.findFirstOrThrow({ where: { purpose: 'rat_board_reminder' } });
    expect(reminder.text).toContain(`Konfirmasi hadir sejauh ini: 1 dari ${active} anggota aktif`);
    await t.say(BOARD, 'pengurus');
    const tally = await t.say(BOARD, '2');
    expect(tally).toContain('Hadir: 1');
    expect(tally).toContain(`Anggota aktif: ${active}`);
  });

  test('a RAT moved past six months after the books close is allowed, with the legal limit named in the preview', async () => {
    await t.say(BOARD, 'pengurus');
    await t.say(BOARD, '3');
    const preview = await t.say(BOARD, '01/08/2027 09.00');
    expect(preview).toContain('melewati batas RAT tahun buku 2026');
    expect(preview).toContain('30 Juni 2027');
    expect(await t.say(BOARD, '1')).toContain('Jadwal RAT sudah diubah ke Minggu, 1 Agustus 2027');
    // Within the limit, no such note.
    await t.say(BOARD, 'pengurus');
    await t.say(BOARD, '3');
    expect(await t.say(BOARD, '20/02/2027 09.30')).not.toContain('melewati batas');
  });

  test('a RAT removed between the preview and the confirmation: the operation\'s refusal is the one sentence the board reads, nothing is sent', async () => {
    await t.say(BOARD, 'pengurus');
    await t.say(BOARD, '3');
    expect(await t.say(BOARD, '20/02/2027 09.30')).toContain('RAT dipindah dari');
    await t.db.meeting.deleteMany({ where: { kind: 'RAT', koperasi: { code: 'KPRI-SEJAHTERA' } } });
    expect(await t.say(BOARD, '1')).toMatch(/^Jadwal RAT itu tidak ada lagi\.\n/);
    expect(await t.db.broadcast.count()).toBe(0);
    expect(await t.say(BOARD, 'pengurus')).toContain('Menu petugas'); // the step is closed, the desk goes on
  });

  test('moving the RAT date: wrong and past dates get a sentence; a confirmed move updates the meeting and tells the members', async () => {
    await t.say(BOARD, 'pengurus');
    expect(await t.say(BOARD, '3')).toContain('Ketik tanggal dan jam baru');
    expect(await t.say(BOARD, '31/02/2027 09.00')).toContain('tidak terbaca');
    expect(await t.say(BOARD, '01/01/2020 09.00')).toContain('sudah lewat');
    const preview = await t.say(BOARD, '20/02/2027 09.30');
    expect(preview).toContain('RAT dipindah dari');
    expect(preview).toContain('*Sabtu, 20 Februari 2027, 09.30 WIB*');
    expect(preview).toContain('1. Ya, ubah dan beri tahu anggota');
    expect(await t.say(BOARD, '1')).toContain('Jadwal RAT sudah diubah ke Sabtu, 20 Februari 2027, 09.30 WIB');
    const meeting = await t.db.meeting.findFirstOrThrow({ where: { kind: 'RAT', koperasi: { code: 'KPRI-SEJAHTERA' } } });
    expect(meeting.startsAt.toISOString()).toBe('2027-02-20T02:30:00.000Z');
    const notice = await t.db.broadcast.findFirstOrThrow();
    expect(notice.text).toContain('jadwal RAT berubah');
    expect(notice.text).toContain('Sabtu, 20 Februari 2027, 09.30 WIB');
    expect(await t.db.auditLog.count({ where: { action: 'rat.move' } })).toBe(1);
    // The member sees the new date.
    expect(await t.say(SITI, 'kapan rat')).toContain('20 Februari 2027');
  });

  test('with no RAT scheduled, a board member sets one (date, place); members are told and reminders follow', async () => {
    await t.db.meeting.deleteMany({ where: { kind: 'RAT' } });
    await t.say(BOARD, 'pengurus');
    expect(await t.say(BOARD, '3')).toContain('Belum ada jadwal RAT');
    expect(await t.say(BOARD, '13/03/2027 09.00')).toContain('Di mana RAT diadakan?');
    const preview = await t.say(BOARD, 'Aula Kantor Koperasi, Jl. Raya Kraksaan 12');
    expect(preview).toContain('*Sabtu, 13 Maret 2027, 09.00 WIB* di Aula Kantor Koperasi');
    expect(await t.say(BOARD, 'ya')).toContain('Jadwal RAT tersimpan');
    const meeting = await t.db.meeting.findFirstOrThrow({ where: { kind: 'RAT' } });
    expect(meeting).toMatchObject({ key: 'RAT:2026', bookYear: 2026, place: 'Aula Kantor Koperasi, Jl. Raya Kraksaan 12' });
    expect((await t.db.broadcast.findFirstOrThrow()).text).toContain('tahun buku 2026 diadakan *Sabtu, 13 Maret 2027, 09.00 WIB*');
    expect(await t.db.auditLog.count({ where: { action: 'rat.set' } })).toBe(1);
    expect(await t.say(SITI, 'kapan rat')).toContain('13 Maret 2027');
  });

  test('the Dinas addresses the boards of all cooperatives, of one type or one district; they are reached on their phone', async () => {
    await t.say(DINAS, 'dinas');
    expect(await t.say(DINAS, '1')).toContain('Ketik *semua*');
    expect(await t.say(DINAS, 'KSP')).toContain('Belum ada pengurus');
    expect(await t.say(DINAS, 'kecamatan entah')).toContain('Tidak dikenali');
    expect(await t.say(DINAS, 'KPRI')).toContain('(1 pengurus)');
    expect(await t.say(DINAS, 'Rapat koordinasi Gempur Koperasi, Senin 09.00 di Dinas.')).toContain('*1 pengurus*');
    expect(await t.say(DINAS, 'ya')).toContain('1 pengurus sudah diantrekan');
    const sent: string[] = [];
    const whatsapp: OutboundChannel = {
      channel: 'whatsapp',
      reaches: 'phone',
      target: (r) => r.phone,
      send: async (target, text) => {
        sent.push(`${target}: ${text}`);
        return { ok: true };
      },
    };
    await new OutboxDispatcher({ store: t.outbox, channels: [whatsapp], logger: quiet, clock: () => t.clock.now }).drain();
    expect(sent).toEqual([`${BOARD}: Rapat koordinasi Gempur Koperasi, Senin 09.00 di Dinas.`]);
  });

  test('officer mail goes by Telegram only to an account whose proof of the phone still holds, else by WhatsApp', async () => {
    const kpri = await t.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    // Account 903 once shared the number that is now the board member's: then it was Dewi's.
    const dewi = await t.db.member.create({ data: { koperasiId: kpri.id, memberNumber: '006', name: 'Dewi Lestari', phone: BOARD } });
    await t.send(telegramMessage('903', { contact: { phone: BOARD, own: true }, verifiedPhone: BOARD, phoneVerifiedBy: 'contact' }));
    expect(await t.db.channelIdentity.findFirstOrThrow({ where: { externalId: '903' } })).toMatchObject({ memberId: dewi.id, verifiedBy: 'contact' });
    await t.db.member.update({ where: { id: dewi.id }, data: { phone: '6281277770006' } });
    // Siti, a member and PENGAWAS, verified on Telegram with her own contact: her link still holds.
    await t.db.officer.create({ data: { koperasiId: kpri.id, name: 'Siti Aminah', phone: SITI, role: 'PENGAWAS' } });
    t.officers.refresh();
    await t.send(telegramMessage('904', { contact: { phone: SITI, own: true }, verifiedPhone: SITI, phoneVerifiedBy: 'contact' }));

    await t.say(DINAS, 'dinas');
    await t.say(DINAS, '1');
    await t.say(DINAS, 'semua');
    await t.say(DINAS, 'Rapat koordinasi Senin 09.00 di Dinas.');
    expect(await t.say(DINAS, 'ya')).toContain('2 pengurus sudah diantrekan');
    const sent: string[] = [];
    const channel = (name: string, reaches: 'identity' | 'phone', target: OutboundChannel['target']): OutboundChannel => ({
      channel: name,
      reaches,
      target,
      send: async (to) => {
        sent.push(`${name}:${to}`);
        return { ok: true };
      },
    });
    const telegramOut = channel('telegram', 'identity', (r) => r.identities.find((i) => i.channel === 'telegram')?.externalId ?? null);
    const whatsappOut = channel('whatsapp', 'phone', (r) => r.phone);
    await new OutboxDispatcher({ store: t.outbox, channels: [telegramOut, whatsappOut], logger: quiet, clock: () => t.clock.now }).drain();
    expect(sent.sort()).toEqual([`telegram:904`, `whatsapp:${BOARD}`]);
  });

  test('a bimtek fills up to capacity, later acceptances wait, a decline moves the first waiting up and tells them', async () => {
    const kpri = await t.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    const phones = ['6281255500001', '6281255500002', '6281255500003'];
    for (const [i, phone] of phones.entries()) {
      await t.db.officer.create({ data: { koperasiId: kpri.id, name: `Pengawas ${i + 1}`, phone, role: 'PENGAWAS' } });
    }
    t.officers.refresh();
    const event = await t.db.event.findFirstOrThrow({ where: { forMembers: false } });
    await t.db.event.update({ where: { id: event.id }, data: { capacity: 2 } });
    const ctx = { domain: t.domain, now: t.clock.now };
    const invited = await queueBimtekInvitations(ctx);
    expect(invited.queued).toBe(4); // the demo's PENGURUS and three PENGAWAS
    expect((await queueBimtekInvitations(ctx)).queued).toBe(0);
    const invitation = await t.db.outboxMessage.findFirstOrThrow({ where: { purpose: 'bimtek_invite' } });
    expect(invitation.text).toContain('Balas *ya* untuk ikut');

    // Four answer "ya" at the same moment: two seats.
    const answers = await Promise.all([BOARD, ...phones].map((phone) => t.say(phone, 'ya')));
    expect(answers.filter((a) => a.includes('terdaftar sebagai peserta'))).toHaveLength(2);
    const waiting = answers.filter((a) => a.includes('daftar tunggu nomor'));
    expect(waiting).toHaveLength(2);
    expect(waiting.map((a) => /nomor (\d)/.exec(a)![1]).sort()).toEqual(['1', '2']);

    // One with a seat cannot come after all: the first on the waiting list gets it and is told.
    const accepted = await t.db.eventInvitation.findFirstOrThrow({ where: { status: 'accepted' } });
    const acceptedOfficer = await t.db.officer.findUniqueOrThrow({ where: { id: accepted.officerId } });
    expect(await t.say(acceptedOfficer.phone, 'bimtek tidak')).toContain('tidak ikut');
    const statuses = await t.db.eventInvitation.groupBy({ by: ['status'], _count: true });
    expect(Object.fromEntries(statuses.map((s) => [s.status, s._count]))).toEqual({ accepted: 2, waitlisted: 1, declined: 1 });
    const promoted = await t.db.outboxMessage.findFirstOrThrow({ where: { purpose: 'bimtek_promoted' } });
    expect(promoted.text).toContain('ada kursi kosong');

    // A bare "ya" with nothing waiting is not taken as a bimtek answer.
    expect(await t.say(acceptedOfficer.phone, 'ya')).not.toContain('bimtek');

    // The organiser's list.
    await t.say(DINAS, 'dinas');
    const list = await t.say(DINAS, '2');
    expect(list).toContain('Peserta: 2/2 · daftar tunggu 1 · tidak ikut 1 · belum menjawab 0');

    // The day before, 08.00 WIB, those with a seat are reminded; no one else.
    const dayBefore = new Date(event.startsAt.getTime() - 86_400_000);
    const eightAm = new Date(Date.UTC(dayBefore.getUTCFullYear(), dayBefore.getUTCMonth(), dayBefore.getUTCDate(), 1, 0));
    expect((await queueBimtekReminders({ ...ctx, now: new Date(eightAm.getTime() - 60_000) })).queued).toBe(0);
    expect((await queueBimtekReminders({ ...ctx, now: eightAm })).queued).toBe(2);
    expect((await queueBimtekReminders({ ...ctx, now: new Date(eightAm.getTime() + 3_600_000) })).queued).toBe(0);
  });

  test('twelve "bimtek ya" at the same moment through two service instances for five seats: five seats, seven waiting', async () => {
    const kpri = await t.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    const phones = Array.from({ length: 12 }, (_, i) => `6281255500${String(i).padStart(2, '0')}`);
    for (const [i, phone] of phones.entries()) await t.db.officer.create({ data: { koperasiId: kpri.id, name: `Pengurus ${i}`, phone, role: 'PENGURUS' } });
    const event = await t.db.event.findFirstOrThrow({ where: { forMembers: false } });
    await t.db.event.update({ where: { id: event.id }, data: { capacity: 5 } });
    await queueBimtekInvitations({ domain: t.domain, now: t.clock.now });
    // A second app on the same file: its own Prisma client and SQLite connections, as a second instance.
    const otherLogs = captureLogs();
    const other = await createApp({ DATABASE_URL: t.url, LOG_LEVEL: 'silent', ...(postgres ? { ACTIVATION_CODE_SECRET: TEST_ACTIVATION_CODE_SECRET } : {}) }, { clock: () => t.clock.now, logger: otherLogs.logger });
    try {
      const answers = await Promise.all(
        phones.map((phone, i) => ((i % 2 === 0 ? t.engine : other.engine).handle(terminalMessage(phone, 'bimtek ya')))),
      );
      const texts = answers.map((a) => a.replies.map((r) => r.text).join('\n'));
      expect(texts.filter((x) => x.includes('terdaftar sebagai peserta'))).toHaveLength(5);
      expect(texts.filter((x) => x.includes('daftar tunggu nomor'))).toHaveLength(7);
      expect(await t.db.eventInvitation.count({ where: { eventId: event.id, status: 'accepted' } })).toBe(5);
      expect(otherLogs.logs.join('')).not.toContain('"level":50'); // no one was told "gangguan"
    } finally {
      await other.close();
    }
  });

  test('two instances answering the same "ya" at a preview at once: the announcement is queued once, the other turn answers afresh', async () => {
    await t.say(BOARD, 'pengurus');
    await t.say(BOARD, '1');
    await t.say(BOARD, 'Kantor tutup tanggal 25 Desember. Selamat Natal bagi yang merayakan.');
    const active = await t.db.member.count({ where: { koperasi: { code: 'KPRI-SEJAHTERA' }, status: 'AKTIF' } });
    const other = await createApp({ DATABASE_URL: t.url, LOG_LEVEL: 'silent', ...(postgres ? { ACTIVATION_CODE_SECRET: TEST_ACTIVATION_CODE_SECRET } : {}) }, { clock: () => t.clock.now, logger: quiet });
    try {
      // The officer taps "Kirim" twice; the two presses reach two instances.
      const answers = await Promise.all([t.engine.handle(terminalMessage(BOARD, 'ya')), other.engine.handle(terminalMessage(BOARD, 'ya'))]);
      const texts = answers.map((a) => a.replies.map((r) => r.text).join('\n'));
      expect(await t.db.broadcast.count()).toBe(1);
      expect(await t.db.outboxMessage.count({ where: { purpose: 'announcement' } })).toBe(active);
      expect(texts.filter((x) => x.includes('diantrekan'))).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  test('an officer who is also a member answers the RAT question with "ya" without it being taken as a bimtek answer', async () => {
    const kpri = await t.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    await t.db.officer.create({ data: { koperasiId: kpri.id, name: 'Siti Aminah', phone: SITI, role: 'PENGAWAS' } });
    t.officers.refresh();
    await queueBimtekInvitations({ domain: t.domain, now: t.clock.now });
    expect(await t.say(SITI, 'kapan rat')).toContain('Apakah Anda akan hadir?');
    expect(await t.say(SITI, 'ya')).toContain('sudah kami catat');
    expect(await t.db.meetingAttendance.count({ where: { attending: true } })).toBe(1);
    const siti = await t.db.officer.findFirstOrThrow({ where: { phone: SITI } });
    expect(await t.db.eventInvitation.findFirstOrThrow({ where: { officerId: siti.id } })).toMatchObject({ status: 'invited' });
    // With nothing else asked, "ya" answers the invitation; "bimtek ya" always does.
    expect(await t.say(SITI, 'ya')).toContain('terdaftar sebagai peserta');
  });

  test('RAT reminders reach members, not the desk: an officer who is also a member keeps both conversations', async () => {
    const kpri = await t.db.koperasi.findUniqueOrThrow({ where: { code: 'KPRI-SEJAHTERA' } });
    await t.db.officer.create({ data: { koperasiId: kpri.id, name: 'Siti Aminah', phone: SITI, role: 'PENGAWAS' } });
    t.officers.refresh();
    expect(await t.say(SITI, 'saldo')).toContain('Simpanan Siti Aminah');
    expect(await t.say(SITI, 'pengurus')).toContain('Menu petugas');
    expect(await t.say(SITI, 'menu')).toContain('Silakan pilih layanan');
    const queued = await queueRatReminders({ domain: t.domain, now: new Date('2027-01-08T01:00:00Z') });
    expect(queued.queued).toBeGreaterThan(0);
  });
});
