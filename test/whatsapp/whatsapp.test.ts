/**
 * The WhatsApp channel end to end: real Baileys message objects fed through the channel's
 * event handling (Baileys' own emitter), the real conversation core on SQLite, and a socket
 * stand-in that records what would be sent.
 */
import { DisconnectReason, proto } from '@whiskeysockets/baileys';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openWhatsAppAuthStore } from '../../src/channels/whatsapp/auth-store.ts';
import { openWhatsAppSessionStore } from '../../src/persistence/whatsapp-session-store.ts';
import { reconnectDelay, WhatsAppChannel, type PairingEvent, type WhatsAppChannelOptions } from '../../src/channels/whatsapp/whatsapp-channel.ts';
import type { InboundMessage } from '../../src/core/message.ts';
import { createApp } from '../../src/app.ts';
import { issueActivationCode } from '../../src/domain/activation-codes.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { captureLogs, createTestApp, type TestApp } from '../helpers/app.ts';
import { socketFactory, until, waMessage, type FakeSocket } from './helpers.ts';

const RUPIAH = /Rp\s?\d/;
const SITI = '6281234567801@s.whatsapp.net';
const AHMAD = '6281234567802@s.whatsapp.net';
const SITI_LID = '190000000000001@lid';
const STRANGER_LID = '190000000000099@lid';
const GROUP = '120363000000000001@g.us';

interface Harness {
  t: TestApp;
  channel: WhatsAppChannel;
  factory: ReturnType<typeof socketFactory>;
  logs: string[];
  pairings: PairingEvent[];
  readonly sock: FakeSocket;
  /** Deliver messages, wait until they are answered, return the texts sent for them. */
  say(...messages: ReturnType<typeof waMessage>[]): Promise<string[]>;
  /** Texts sent to one chat so far. */
  textsTo(jid: string): string[];
}

async function harness(t: TestApp, options: Partial<WhatsAppChannelOptions> = {}, connect = true): Promise<Harness> {
  const factory = socketFactory();
  const { logs, logger } = captureLogs();
  const pairings: PairingEvent[] = [];
  const channel = new WhatsAppChannel({
    engine: t.engine,
    catalogue: t.catalogue,
    logger,
    openAuthStore: () => openWhatsAppAuthStore(openWhatsAppSessionStore(t.db)),
    makeSocket: factory.make,
    showPairing: (event) => pairings.push(event),
    typingMs: () => 0,
    reconnect: { firstMs: 20, capMs: 160, stableMs: 1_000 },
    random: () => 1,
    replyWaitMs: 2_000,
    ...options,
  });
  await channel.start();
  if (connect) factory.last.connect();
  const h: Harness = {
    t,
    channel,
    factory,
    logs,
    pairings,
    get sock() {
      return factory.last;
    },
    async say(...messages) {
      const before = factory.last.sent.length;
      factory.last.receive(...messages);
      await channel.settled();
      return factory.last.sent.slice(before).map((m) => m.text);
    },
    textsTo(jid) {
      return factory.sockets.flatMap((s) => s.sent).filter((m) => m.jid === jid).map((m) => m.text);
    },
  };
  return h;
}

describe('WhatsApp channel: members', () => {
  let t: TestApp;
  let h: Harness;
  beforeEach(async () => {
    t = await createTestApp(new Date());
    await seedDemo(t.db, t.clock.now);
    h = await harness(t);
  });
  afterEach(async () => {
    await h.channel.stop(1_000);
    await t.dispose();
  });

  test('a member verified by her WhatsApp number checks savings, loans and the RAT, and confirms attendance', async () => {
    const menu = (await h.say(waMessage({ from: SITI, text: 'halo' }))).join('\n');
    expect(menu).toMatch(/1\. Cek simpanan/);
    expect(menu).not.toMatch(RUPIAH);

    const savings = (await h.say(waMessage({ from: SITI, text: 'cek sldo' }))).join('\n');
    expect(savings).toContain('Simpanan Siti Aminah');
    expect(savings).toContain('*Total: Rp6.150.000*'); // WhatsApp shows the catalogue's *bold* itself

    const loans = (await h.say(waMessage({ from: SITI, text: 'sisa utang brp' }))).join('\n');
    expect(loans).toMatch(/Angsuran ke-\d+ dari \d+/);

    const rat = (await h.say(waMessage({ from: SITI, text: 'kapan rat' }))).join('\n');
    expect(rat).toContain('Rapat Anggota Tahunan');
    expect(rat).toMatch(/Sabtu, \d{1,2} \w+ 20\d\d, 09\.00 WIB/);
    expect(rat).toMatch(/1\. Hadir\n2\. Tidak hadir/);
    const confirmed = (await h.say(waMessage({ from: SITI, text: '1' }))).join('\n');
    expect(confirmed).toContain('sudah kami catat');

    const attendance = await t.db.meetingAttendance.findMany({ include: { member: true } });
    expect(attendance.map((a) => [a.member.memberNumber, a.attending, a.channel])).toEqual([['001', true, 'whatsapp']]);
    const identity = await t.db.channelIdentity.findFirstOrThrow({ where: { channel: 'whatsapp' } });
    expect(identity).toMatchObject({ externalId: SITI, phone: '6281234567801', verifiedBy: 'phone' });
    // Every answer went back to the chat it came from, after a read receipt and "typing…".
    expect(h.textsTo(SITI).length).toBeGreaterThanOrEqual(5);
    const timeline = h.sock.timeline;
    const firstSend = timeline.findIndex((e) => e.startsWith('send'));
    expect(timeline.slice(0, firstSend)).toEqual([expect.stringMatching(/^read MSG/), `composing ${SITI}`]);
    expect(timeline).toContain(`paused ${SITI}`);
  });

  test('a member asking for another member\'s balance gets only her own data', async () => {
    const text = (await h.say(waMessage({ from: SITI, text: 'saldo anggota no 002' }))).join('\n');
    expect(text).toContain('Siti Aminah');
    expect(text).not.toContain('Ahmad');
    const ahmad = (await h.say(waMessage({ from: AHMAD, text: 'saldo 001' }))).join('\n');
    expect(ahmad).not.toContain('Siti');
    expect(ahmad).toContain('Ahmad');
  });

  test('numbers from abroad, contact cards and display names never pass as a member', async () => {
    // Japan +81 234567801, Korea +82 1234567801, Vietnam +84…: read as typed Indonesian numbers
    // ("81…" = 0812…) they would become members' phones.
    for (const jid of ['81234567801@s.whatsapp.net', '821234567801@s.whatsapp.net', '8412345678@s.whatsapp.net']) {
      const text = (await h.say(waMessage({ from: jid, text: 'saldo' }))).join('\n');
      expect(text).not.toMatch(RUPIAH);
      expect(text).not.toContain('Siti');
      expect(text).toContain('kode aktivasi');
    }
    const stranger = '6285700000001@s.whatsapp.net';
    const card = { contactMessage: { displayName: 'Siti Aminah', vcard: 'BEGIN:VCARD\nFN:Siti Aminah\nTEL;waid=6281234567801:+62 812-3456-7801\nEND:VCARD' } };
    const replies = [
      ...(await h.say(waMessage({ from: stranger, message: card, pushName: 'Siti Aminah' }))),
      ...(await h.say(waMessage({ from: stranger, text: '6281234567801', pushName: 'Siti Aminah' }))),
      ...(await h.say(waMessage({ from: stranger, text: 'saldo', pushName: 'Siti Aminah' }))),
      ...(await h.say(waMessage({ from: stranger, message: { extendedTextMessage: { text: 'saldo', contextInfo: { participant: SITI, quotedMessage: { conversation: 'saldo' } } } } }))),
    ].join('\n');
    expect(replies).not.toMatch(RUPIAH);
    expect(await t.db.channelIdentity.count({ where: { memberId: { not: null } } })).toBe(0);
  });

  test('a LID-addressed sender is known by the phone WhatsApp attaches, and keyed by the LID', async () => {
    const text = (await h.say(waMessage({ from: SITI_LID, alt: SITI, text: 'saldo' }))).join('\n');
    expect(text).toContain('Simpanan Siti Aminah');
    // The answer goes to the LID chat, exactly as received.
    expect(h.sock.sent.at(-1)!.jid).toBe(SITI_LID);
    const identity = await t.db.channelIdentity.findFirstOrThrow({ where: { channel: 'whatsapp' } });
    expect(identity.externalId).toBe(SITI_LID);
  });

  test('a LID without a phone is asked to verify, never matched by its digits, and can use an activation code', async () => {
    // A LID whose digits happen to be a member's phone is still not that phone.
    const lookalike = '6281234567801@lid';
    const text = (await h.say(waMessage({ from: lookalike, text: 'saldo' }))).join('\n');
    expect(text).not.toMatch(RUPIAH);
    expect(text).not.toContain('Siti');
    expect(text).toContain('kode aktivasi');

    const { code } = await issueActivationCode(t.domain, { koperasiCode: 'KPRI-SEJAHTERA', memberNumber: '004', actor: 'test' });
    await h.say(waMessage({ from: STRANGER_LID, text: 'cek simpanan' }));
    await h.say(waMessage({ from: STRANGER_LID, text: '004' }));
    const after = (await h.say(waMessage({ from: STRANGER_LID, text: code }))).join('\n');
    expect(after).toContain('Nur Hayati');
    expect(after).toMatch(RUPIAH);
    const identity = await t.db.channelIdentity.findFirstOrThrow({ where: { externalId: STRANGER_LID } });
    expect(identity.verifiedBy).toBe('code');
    expect(identity.phone).toBeNull();
  });

  test('a sender known only by phone number cannot take an activation code: the link would pass to the number\'s next holder', async () => {
    // No LID known: the identity is keyed by the number, which a recycled SIM hands on.
    const number = '6285700000077@s.whatsapp.net';
    const { code } = await issueActivationCode(t.domain, { koperasiCode: 'KPRI-SEJAHTERA', memberNumber: '004', actor: 'test' });
    const asked = (await h.say(waMessage({ from: number, text: 'cek simpanan' }))).join('\n');
    expect(asked).toContain('kode aktivasi tidak bisa dipakai lewat nomor ini');
    expect(asked).toContain('Minta pengurus koperasi mencatat nomor HP ini');
    for (const text of ['004', code, 'saldo']) {
      const reply = (await h.say(waMessage({ from: number, text }))).join('\n');
      expect(reply, text).not.toMatch(RUPIAH);
      expect(reply, text).not.toContain('Nur Hayati');
    }
    expect(await t.db.channelIdentity.count({ where: { memberId: { not: null } } })).toBe(0);
    // The code was not spent: the same member, from an account WhatsApp knows by LID, uses it.
    await h.say(waMessage({ from: STRANGER_LID, alt: number, text: 'cek simpanan' }));
    await h.say(waMessage({ from: STRANGER_LID, alt: number, text: '004' }));
    expect((await h.say(waMessage({ from: STRANGER_LID, alt: number, text: code }))).join('\n')).toContain('Nur Hayati');
  });

  test('a code link made earlier on a phone-number identity is undone when the database is upgraded', async () => {
    const member = await t.db.member.findFirstOrThrow({ where: { memberNumber: '004' } });
    const number = '6285700000078@s.whatsapp.net';
    await t.db.channelIdentity.create({ data: { channel: 'whatsapp', externalId: number, memberId: member.id, verifiedBy: 'code', verifiedAt: new Date() } });
    await t.db.channelIdentity.create({ data: { channel: 'whatsapp', externalId: STRANGER_LID, memberId: member.id, verifiedBy: 'code', verifiedAt: new Date() } });
    await t.db.$executeRawUnsafe(`DELETE FROM _prisma_migrations WHERE migration_name = '20261201160000_whatsapp_number_code_links'`);
    const upgraded = await createApp({ ...t.env, LOG_LEVEL: 'silent' });
    try {
      const byNumber = await upgraded.db.channelIdentity.findFirstOrThrow({ where: { externalId: number } });
      expect(byNumber).toMatchObject({ memberId: null, verifiedBy: null });
      const byLid = await upgraded.db.channelIdentity.findFirstOrThrow({ where: { externalId: STRANGER_LID } });
      expect(byLid).toMatchObject({ memberId: member.id, verifiedBy: 'code' });
    } finally {
      await upgraded.close();
    }
  });

  test('a LID that Baileys has mapped to a phone (its LID mapping store) is verified by that phone', async () => {
    await h.sock.signalRepository.lidMapping.storeLIDPNMappings([{ lid: SITI_LID, pn: SITI }]);
    // The mapping lives in the session's key rows, in the database.
    expect(await t.db.whatsAppKey.count({ where: { type: 'lid-mapping' } })).toBe(2);
    const text = (await h.say(waMessage({ from: SITI_LID, text: 'saldo' }))).join('\n');
    expect(text).toContain('Simpanan Siti Aminah');
  });

  test('a message addressed by phone, without its LID, is keyed by the LID Baileys has stored for that phone', async () => {
    await h.sock.signalRepository.lidMapping.storeLIDPNMappings([{ lid: SITI_LID, pn: SITI }]);
    const text = (await h.say(waMessage({ from: SITI, text: 'saldo' }))).join('\n');
    expect(text).toContain('Simpanan Siti Aminah');
    const identity = await t.db.channelIdentity.findFirstOrThrow({ where: { channel: 'whatsapp' } });
    expect(identity.externalId).toBe(SITI_LID);
  });

  test('group messages leak nothing: a request gets a pointer to the private chat, chatter gets silence', async () => {
    // Siti is verified in her private chat already; in the group her number must not reach the core.
    await h.say(waMessage({ from: SITI, text: 'saldo' }));
    const seen: InboundMessage[] = [];
    const handle = t.engine.handle.bind(t.engine);
    t.engine.handle = (message) => {
      seen.push(message);
      return handle(message);
    };
    const before = await t.db.channelIdentity.count();
    const viaLid = await h.say(waMessage({ from: SITI_LID, alt: SITI, group: GROUP, text: '/saldo' }));
    expect(viaLid.join('\n')).not.toMatch(RUPIAH);
    const pointer = await h.say(waMessage({ from: SITI, group: GROUP, text: 'saldo' }));
    expect(pointer).toHaveLength(1);
    expect(pointer[0]).toContain('chat pribadi');
    expect(pointer[0]).not.toMatch(RUPIAH);
    expect(h.sock.sent.at(-1)).toMatchObject({ jid: GROUP, quoted: true });
    const chatter = await h.say(
      waMessage({ from: AHMAD, group: GROUP, text: 'Bu Siti, besok arisan jam berapa ya? saya mau titip saldo wajib juga' }),
      waMessage({ from: SITI, group: GROUP, text: 'jam 4 sore pak' }),
    );
    expect(chatter).toEqual([]);
    expect(h.sock.timeline.filter((e) => e.startsWith('read')).length).toBe(1); // Siti's private message only
    expect(await t.db.channelIdentity.count()).toBe(before);
    expect(seen.length).toBe(4);
    for (const message of seen) {
      expect(message.chatType).toBe('group');
      expect(message).not.toHaveProperty('verifiedPhone');
    }
  });

  test('status updates, its own messages, reactions, protocol messages, broadcasts and old messages are ignored', async () => {
    const ignored = await h.say(
      waMessage({ from: 'status@broadcast', text: 'saldo' }),
      waMessage({ from: SITI, fromMe: true, text: 'saldo' }),
      waMessage({ from: SITI, message: { reactionMessage: { key: { remoteJid: SITI, id: 'X' }, text: '👍' } } }),
      waMessage({ from: SITI, message: { protocolMessage: { type: proto.Message.ProtocolMessage.Type.REVOKE } } }),
      waMessage({ from: '1234567890@broadcast', text: 'saldo' }),
      waMessage({ from: '120363000000000009@newsletter', text: 'saldo' }),
      waMessage({ from: SITI, text: 'saldo', at: new Date(Date.now() - 3 * 86_400_000) }),
    );
    expect(ignored).toEqual([]);
    // The cooperative's staff typing on the phone itself: arrives as 'append', fromMe.
    h.sock.append(waMessage({ from: SITI, fromMe: true, text: 'saldo' }), waMessage({ from: SITI, message: { pinInChatMessage: {} } }));
    await h.channel.settled();
    expect(h.sock.sent).toEqual([]);
  });

  test('what members wrote while the service was offline is answered after it reconnects; days-old messages are not', async () => {
    h.sock.append(
      waMessage({ from: SITI, text: 'saldo', at: new Date(Date.now() - 20 * 60_000) }),
      waMessage({ from: AHMAD, text: 'pinjaman', at: new Date(Date.now() - 5 * 86_400_000) }),
    );
    await h.channel.settled();
    expect(h.textsTo(SITI).join('\n')).toContain('Simpanan Siti Aminah');
    expect(h.textsTo(AHMAD)).toEqual([]);
  });

  test('a member who calls the number has the call rejected and is told to type', async () => {
    h.sock.ring(SITI, 'CALL1');
    await h.channel.settled();
    expect(h.sock.rejectedCalls).toEqual([`CALL1 ${SITI}`]);
    expect(h.textsTo(SITI)).toEqual([expect.stringContaining('tidak bisa menerima telepon')]);
  });

  test('the same message delivered twice is answered once', async () => {
    const message = waMessage({ from: SITI, text: 'saldo', id: 'DUPLICATE1' });
    const first = await h.say(message);
    const again = await h.say(waMessage({ from: SITI, text: 'saldo', id: 'DUPLICATE1' }));
    expect(first.length).toBeGreaterThan(0);
    expect(again).toEqual([]);
  });

  test('quoted replies, captions, button and list answers and disappearing messages are read as text', async () => {
    const quoted = await h.say(
      waMessage({ from: SITI, message: { extendedTextMessage: { text: 'saldo', contextInfo: { quotedMessage: { conversation: 'Silakan pilih layanan' } } } } }),
    );
    expect(quoted.join('\n')).toContain('Simpanan Siti Aminah');
    const ephemeral = await h.say(waMessage({ from: SITI, message: { ephemeralMessage: { message: { conversation: 'pinjaman' } } } }));
    expect(ephemeral.join('\n')).toMatch(/Angsuran ke-/);
    const caption = await h.say(waMessage({ from: SITI, message: { imageMessage: { caption: 'kapan rat', mimetype: 'image/jpeg' } } }));
    expect(caption.join('\n')).toContain('Rapat Anggota Tahunan');
    const button = await h.say(waMessage({ from: SITI, message: { buttonsResponseMessage: { selectedButtonId: 'b2', selectedDisplayText: 'Tidak hadir' } } }));
    expect(button.join('\n')).toContain('tercatat *tidak hadir*');
    const list = await h.say(waMessage({ from: SITI, message: { listResponseMessage: { title: 'Cek simpanan', singleSelectReply: { selectedRowId: 'r1' } } } }));
    expect(list.join('\n')).toContain('Simpanan Siti Aminah');
  });

  test('voice notes, stickers and photos without a caption get a plain sentence; emoji and long messages are fine', async () => {
    const voice = await h.say(waMessage({ from: SITI, message: { audioMessage: { ptt: true, seconds: 4 } } }));
    expect(voice.join('\n')).toContain('hanya bisa membaca pesan teks');
    const sticker = await h.say(waMessage({ from: SITI, message: { stickerMessage: { mimetype: 'image/webp' } } }));
    expect(sticker.join('\n')).toContain('hanya bisa membaca pesan teks');
    const emoji = await h.say(waMessage({ from: SITI, text: '💰💰 ??' }));
    expect(emoji.length).toBeGreaterThan(0);
    const huge = await h.say(waMessage({ from: SITI, text: 'saldo '.repeat(20_000) }));
    expect(huge.length).toBeGreaterThan(0);
    expect(huge.every((text) => text.length <= 3000)).toBe(true);
  });

  test('a member typing two messages quickly gets the answers in order', async () => {
    const texts = await h.say(waMessage({ from: SITI, text: 'saldo' }), waMessage({ from: SITI, text: 'pinjaman' }));
    const savingsAt = texts.findIndex((x) => x.includes('Simpanan Siti'));
    const loansAt = texts.findIndex((x) => /Angsuran ke-/.test(x));
    expect(savingsAt).toBeGreaterThanOrEqual(0);
    expect(loansAt).toBeGreaterThan(savingsAt);
  });

  test('a reply waits for a dropped connection to come back instead of being lost', async () => {
    h.sock.close(DisconnectReason.connectionLost, 'Connection Lost');
    h.sock.receive(waMessage({ from: SITI, text: 'saldo' })); // received just before the drop
    await until(() => h.factory.sockets.length === 2, 2_000, 'a reconnect');
    h.factory.last.connect();
    await h.channel.settled();
    expect(h.factory.last.sent.map((m) => m.text).join('\n')).toContain('Simpanan Siti Aminah');
  });
});

describe('WhatsApp channel: unsolicited messages are paced', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp(new Date());
  });
  afterEach(async () => t.dispose());

  test('one recipient every interval with jitter, numbers not on WhatsApp fail permanently, errors are given up', async () => {
    let r = 0;
    const randoms = [0, 1, 0.5, 0.25, 0.75];
    const h = await harness(t, { unsolicited: { intervalMs: 120, jitter: 0.5 }, random: () => randoms[r++ % randoms.length]! });
    h.sock.registered = new Set(['6281234567801', '6281234567802', '6281234567803', '6281234567804']);
    const reply = [{ text: 'Pengingat: RAT hari Sabtu, 09.00 WIB.' }];
    const results = await Promise.all(
      ['6281234567801', '6281234567802', '6281234567803', '6281234567809', '6281234567804'].map((phone) => h.channel.sendUnsolicited(phone, reply)),
    );
    expect(results.map((x) => x.status)).toEqual(['sent', 'sent', 'sent', 'failed', 'sent']);
    expect(results[3]).toMatchObject({ permanent: true, reason: 'not_on_whatsapp' });
    const times = h.sock.sent.map((m) => m.at);
    const gaps = times.slice(1).map((at, i) => at - times[i]!);
    // 120 ms ± 50%: never under 60 ms, whatever order the callers used.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(55);
    expect(h.sock.timeline.filter((e) => e.startsWith('composing'))).toEqual([]); // no "typing…" for a broadcast

    h.sock.failures.push(new Error('timed out'), new Error('timed out'), new Error('timed out'));
    const failed = await h.channel.sendUnsolicited('6281234567801', reply);
    expect(failed).toMatchObject({ status: 'failed', permanent: false, reason: 'gave_up' });

    // A lookup that gets no answer is not a "no": it can be tried again later.
    h.sock.lookupTimesOut = true;
    expect(await h.channel.sendUnsolicited('6281234567802', reply)).toMatchObject({ status: 'failed', permanent: false });
    h.sock.lookupTimesOut = false;

    // A slow network does not squeeze the pause: it runs from the end of the previous send.
    h.sock.lookupDelayMs = 150;
    const slowStart = h.sock.sent.length;
    await Promise.all(['6281234567801', '6281234567802'].map((phone) => h.channel.sendUnsolicited(phone, reply)));
    const [a, b] = h.sock.sent.slice(slowStart).map((m) => m.at);
    expect(b! - a!).toBeGreaterThanOrEqual(150 + 55);
    h.sock.lookupDelayMs = 0;

    // Not connected: given back at once for the outbox to try later, not queued behind a reconnect.
    h.sock.close(DisconnectReason.connectionLost);
    expect(await h.channel.sendUnsolicited('6281234567801', reply)).toMatchObject({ status: 'failed', permanent: false, reason: 'not_connected' });
    await until(() => h.factory.sockets.length === 2, 2_000, 'the reconnect');
    h.factory.last.connect();

    // A send whose answer was lost after it reached WhatsApp is retried with the same id: one copy.
    h.sock.failuresAfterDelivery.push(new Error('Timed Out'));
    expect(await h.channel.sendUnsolicited('6281234567803', reply)).toMatchObject({ status: 'sent' });
    expect(h.sock.sent.map((m) => m.jid)).toEqual(['6281234567803@s.whatsapp.net']);
    await h.channel.stop(1_000);
  });
});

describe('WhatsApp channel: pairing and the connection lifecycle', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp(new Date());
  });
  afterEach(async () => t.dispose());

  test('without a session a QR code is shown; with WHATSAPP_PAIRING_NUMBER a pairing code is requested once', async () => {
    const qr = await harness(t, {}, false);
    qr.sock.showQr('2@abc');
    await until(() => qr.pairings.length === 1, 1_000, 'the QR');
    expect(qr.pairings[0]).toEqual({ kind: 'qr', qr: '2@abc' });
    expect(qr.channel.status).toBe('waiting_for_pairing');
    expect(qr.channel.pairing).toEqual({ kind: 'qr', qr: '2@abc' });
    await qr.channel.stop(1_000);

    const code = await harness(t, { pairingNumber: '+62 812-0000-0000' }, false);
    code.sock.showQr('2@abc');
    code.sock.showQr('2@def'); // QR refreshes: the code is not asked for again
    await until(() => code.pairings.length === 1, 1_000, 'the code');
    expect(code.sock.pairingRequests).toEqual(['6281200000000']);
    expect(code.pairings[0]).toEqual({ kind: 'code', code: 'KOPB0T12', phone: '6281200000000' });
    await code.channel.stop(1_000);
  });

  test('transient closes reconnect after growing, capped, jittered pauses; a connection that held resets them', async () => {
    const h = await harness(t, { reconnect: { firstMs: 20, capMs: 400, stableMs: 150 } });
    const started = Date.now();
    for (let i = 1; i <= 5; i++) {
      h.sock.close(i % 2 ? DisconnectReason.connectionLost : DisconnectReason.unavailableService);
      await until(() => h.factory.sockets.length === i + 1, 3_000, `reconnect ${i}`);
    }
    // Pauses 20, 40, 80, 160, 320 ms (random() = 1): at least 620 ms in all, no storm.
    expect(Date.now() - started).toBeGreaterThanOrEqual(610);
    expect(h.channel.status).toBe('reconnecting');
    h.sock.connect();
    expect(h.channel.status).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = Date.now();
    h.sock.close(DisconnectReason.connectionClosed);
    await until(() => h.factory.sockets.length === 7, 3_000, 'reconnect after a stable connection');
    // Back to the first pause (20 ms), not the capped 400 ms it had grown to.
    expect(Date.now() - before).toBeLessThan(300);
    await h.channel.stop(1_000);
    const count = h.factory.sockets.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(h.factory.sockets.length).toBe(count); // no reconnect after stop
  });

  test('the reconnect pause doubles from the first to the cap, with jitter between half and all of it', () => {
    const limits = { firstMs: 2_000, capMs: 300_000 };
    expect([0, 1, 2, 3, 7, 8, 20, 1_000].map((n) => reconnectDelay(n, limits, 1))).toEqual([2_000, 4_000, 8_000, 16_000, 256_000, 300_000, 300_000, 300_000]);
    expect(reconnectDelay(3, limits, 0)).toBe(8_000);
    expect(reconnectDelay(3, limits, 0.5)).toBe(12_000);
  });

  test('"restart required" after pairing reconnects at once', async () => {
    const h = await harness(t, { reconnect: { firstMs: 5_000, capMs: 5_000, stableMs: 1_000 } });
    h.sock.close(DisconnectReason.restartRequired);
    await until(() => h.factory.sockets.length === 2, 500, 'an immediate reconnect');
    await h.channel.stop(1_000);
  });

  test('logged out: the session is cleared, the channel stops and says what to do', async () => {
    const h = await harness(t);
    // A paired session with keys, as it would be after linking.
    const store = await openWhatsAppAuthStore(openWhatsAppSessionStore(t.db));
    store.state.creds.account = proto.ADVSignedDeviceIdentity.create({ details: Buffer.from('x') });
    store.state.creds.me = { id: '6281200000000:3@s.whatsapp.net' };
    await store.saveCreds();
    await store.state.keys.set({ session: { '6281234567801.0': Buffer.from('session') } });
    h.sock.close(DisconnectReason.loggedOut, 'Intentional Logout');
    await until(() => h.channel.status === 'logged_out', 1_000, 'logged out');
    await until(() => h.logs.some((l) => l.includes('logged out')), 1_000, 'the log line');
    expect(await t.db.whatsAppCreds.count()).toBe(0);
    expect(await t.db.whatsAppKey.count()).toBe(0);
    const line = JSON.parse(h.logs.find((l) => l.includes('logged out'))!);
    expect(line.level).toBe(60);
    expect(line.msg).toContain('pindai QR baru');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.factory.sockets).toHaveLength(1);
    await h.channel.stop(1_000);
  });

  test('another instance on the same session ("replaced") and a ban stop the channel instead of fighting', async () => {
    const replaced = await harness(t);
    replaced.sock.close(DisconnectReason.connectionReplaced);
    await until(() => replaced.channel.status === 'replaced', 1_000, 'replaced');
    const banned = await harness(t);
    banned.sock.close(DisconnectReason.forbidden);
    await until(() => banned.channel.status === 'banned', 1_000, 'banned');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(replaced.factory.sockets).toHaveLength(1);
    expect(banned.factory.sockets).toHaveLength(1);
    expect(replaced.logs.join('\n')).toContain('instans lain');
    expect(banned.logs.join('\n')).toContain('diblokir');
    await replaced.channel.stop(1_000);
    await banned.channel.stop(1_000);
  });

  test('stop finishes the reply under way, then closes the socket without logging out', async () => {
    await seedDemo(t.db, t.clock.now);
    const h = await harness(t, { typingMs: () => 150 });
    h.sock.receive(waMessage({ from: SITI, text: 'saldo' }));
    await until(() => h.sock.timeline.some((e) => e.startsWith('composing')), 2_000, 'typing');
    await h.channel.stop(5_000);
    expect(h.sock.sent.map((m) => m.text).join('\n')).toContain('Simpanan Siti Aminah');
    expect(h.sock.ended).toBe(true);
    expect(h.channel.status).toBe('stopped');
    expect(h.factory.sockets).toHaveLength(1);
  });
});
