/**
 * The WhatsApp session store on SQLite (credentials and Signal keys round-trip, survive a
 * restart, change atomically), the reading of real Baileys message objects, rendering, and a
 * real Baileys socket whose server cannot be reached (the reconnect path).
 */
import makeWASocket, { BufferJSON, proto } from '@whiskeysockets/baileys';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createApp } from '../../src/app.ts';
import { openWhatsAppAuthStore } from '../../src/channels/whatsapp/auth-store.ts';
import { openWhatsAppSessionStore } from '../../src/persistence/whatsapp-session-store.ts';
import { closeAction, WhatsAppChannel, type WhatsAppSocket } from '../../src/channels/whatsapp/whatsapp-channel.ts';
import { protectLiterals, renderWhatsAppReply } from '../../src/channels/whatsapp/whatsapp-format.ts';
import { identifySender, phoneFromVcard, phoneOfJid, readWhatsAppMessage } from '../../src/channels/whatsapp/whatsapp-messages.ts';
import { captureLogs, createTestApp, type TestApp } from '../helpers/app.ts';
import { socketFactory, until, waMessage } from './helpers.ts';

/** A started channel on the socket stand-in, and the settings each socket was made with. */
async function channelOnStandIn(t: TestApp, logger: ReturnType<typeof captureLogs>['logger']) {
  const factory = socketFactory();
  const channel = new WhatsAppChannel({ engine: t.engine, catalogue: t.catalogue, logger, openAuthStore: () => openWhatsAppAuthStore(openWhatsAppSessionStore(t.db)), makeSocket: factory.make });
  await channel.start();
  return { channel, configs: factory.sockets.map((socket) => socket.config) };
}

describe('WhatsApp session in the database', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp(new Date());
  });
  afterEach(async () => t.dispose());

  test('credentials and keys round-trip through SQLite, Buffers and protobufs included, and survive a restart', async () => {
    const store = await openWhatsAppAuthStore(openWhatsAppSessionStore(t.db));
    expect(store.paired).toBe(false);
    const creds = store.state.creds;
    creds.me = { id: '6281200000000:7@s.whatsapp.net', lid: '190000000000077:7@lid', name: 'Koperasi' };
    creds.account = proto.ADVSignedDeviceIdentity.create({ details: Buffer.from([1, 2, 3]), accountSignature: Buffer.from([4, 5]) });
    creds.registered = true;
    await store.saveCreds();
    const preKey = { public: Buffer.from('a'.repeat(32)), private: Buffer.from('b'.repeat(32)) };
    const appStateKey = proto.Message.AppStateSyncKeyData.create({ keyData: Buffer.from('k'.repeat(32)), timestamp: 1_700_000_000 });
    await store.state.keys.set({
      'pre-key': { '1': preKey, '2': preKey },
      session: { '6281234567801.0': Buffer.from('signal-session') },
      'app-state-sync-key': { AAAA: appStateKey },
      'lid-mapping': { '6281234567801': '190000000000001', '190000000000001_reverse': '6281234567801' },
      'device-list': { '6281234567801': ['0', '3'] },
    });
    await store.state.keys.set({ 'pre-key': { '2': null } }); // used up: deleted

    // A restart: a new process, a new client on the same file.
    await t.close();
    const reopened = await createApp({ ...t.env, LOG_LEVEL: 'silent' });
    try {
      const again = await openWhatsAppAuthStore(openWhatsAppSessionStore(reopened.db));
      expect(again.paired).toBe(true);
      const c = again.state.creds;
      expect(c.me).toEqual(creds.me);
      expect(Buffer.from(c.noiseKey.private).equals(Buffer.from(creds.noiseKey.private))).toBe(true);
      expect(Buffer.from(c.signedIdentityKey.public).equals(Buffer.from(creds.signedIdentityKey.public))).toBe(true);
      expect(c.registrationId).toBe(creds.registrationId);
      expect(c.advSecretKey).toBe(creds.advSecretKey);
      // Baileys re-encodes the account to sign in: the stored form must encode to the same bytes.
      const encoded = (account: proto.IADVSignedDeviceIdentity) => Buffer.from(proto.ADVSignedDeviceIdentity.encode(account).finish());
      expect(encoded(c.account!).equals(encoded(creds.account))).toBe(true);

      const keys = again.state.keys;
      const preKeys = await keys.get('pre-key', ['1', '2', '3']);
      expect(Object.keys(preKeys)).toEqual(['1']);
      expect(Buffer.isBuffer(preKeys['1']!.public)).toBe(true);
      expect(Buffer.from(preKeys['1']!.private).toString()).toBe('b'.repeat(32));
      const sessions = await keys.get('session', ['6281234567801.0']);
      expect(Buffer.from(sessions['6281234567801.0']!).toString()).toBe('signal-session');
      const appState = await keys.get('app-state-sync-key', ['AAAA']);
      expect(appState.AAAA).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
      expect(Buffer.from(appState.AAAA!.keyData!).toString()).toBe('k'.repeat(32));
      expect(await keys.get('lid-mapping', ['6281234567801'])).toEqual({ '6281234567801': '190000000000001' });
      expect(await keys.get('device-list', ['6281234567801'])).toEqual({ '6281234567801': ['0', '3'] });
      expect(await again.purgeDeleted()).toBe(1);
    } finally {
      await reopened.close();
      Object.assign(t, { close: async () => undefined }); // already closed
    }
  });

  test('a key change is one atomic statement: a set that fails writes none of its rows', async () => {
    const store = await openWhatsAppAuthStore(openWhatsAppSessionStore(t.db));
    await store.state.keys.set({ session: { a: Buffer.from('old') } });
    // A value JSON cannot write (a BigInt) makes the whole set fail before anything is written.
    await expect(store.state.keys.set({ session: { a: Buffer.from('new'), b: Buffer.from('x') }, 'sender-key': { c: 1n as never } })).rejects.toThrow();
    const rows = await t.db.whatsAppKey.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((r) => [r.id, JSON.parse(r.value!, BufferJSON.reviver).toString()])).toEqual([['a', 'old']]);
    // Concurrent sets from Baileys' transactions land whole, last one wins per key.
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.state.keys.set({ session: { a: Buffer.from(`v${i}`), [`k${i}`]: Buffer.from('y') } })));
    expect(await t.db.whatsAppKey.count()).toBe(21);
  });

  test('credential saves are written in order, and clear() forgets the session completely', async () => {
    const store = await openWhatsAppAuthStore(openWhatsAppSessionStore(t.db));
    for (let i = 0; i < 20; i++) {
      store.state.creds.nextPreKeyId = i;
      void store.saveCreds();
    }
    await store.saveCreds();
    const row = await t.db.whatsAppCreds.findUniqueOrThrow({ where: { session: 'default' } });
    expect(JSON.parse(row.data, BufferJSON.reviver).nextPreKeyId).toBe(19);
    await store.state.keys.set({ 'pre-key': { '5': { public: Buffer.from('p'), private: Buffer.from('q') } } });
    const oldNoise = Buffer.from(store.state.creds.noiseKey.public);
    await store.clear();
    expect(await t.db.whatsAppCreds.count()).toBe(0);
    expect(await t.db.whatsAppKey.count()).toBe(0);
    expect(Buffer.from(store.state.creds.noiseKey.public).equals(oldNoise)).toBe(false);
    expect(store.paired).toBe(false);
  });

  test('the service resumes a stored session: the socket gets the saved credentials, no new pairing', async () => {
    const first = await openWhatsAppAuthStore(openWhatsAppSessionStore(t.db));
    first.state.creds.me = { id: '6281200000000:7@s.whatsapp.net' };
    first.state.creds.account = proto.ADVSignedDeviceIdentity.create({ details: Buffer.from([9]) });
    await first.saveCreds();
    const { logger, logs } = captureLogs();
    const { channel, configs } = await channelOnStandIn(t, logger);
    expect(configs).toHaveLength(1);
    expect(configs[0]!.auth.creds.me).toEqual({ id: '6281200000000:7@s.whatsapp.net' });
    expect(Buffer.from(configs[0]!.auth.creds.noiseKey.public).equals(Buffer.from(first.state.creds.noiseKey.public))).toBe(true);
    expect(configs[0]!.markOnlineOnConnect).toBe(false);
    expect(configs[0]!.shouldSyncHistoryMessage!({} as never)).toBe(false);
    expect(logs.join('\n')).not.toContain('no WhatsApp session yet');
    await channel.stop(100);
  });

  test('an unfinished pairing-code attempt is not mistaken for a session', async () => {
    const store = await openWhatsAppAuthStore(openWhatsAppSessionStore(t.db));
    store.state.creds.me = { id: '6281200000000@s.whatsapp.net', name: '~' }; // set by requestPairingCode
    store.state.creds.pairingCode = 'ABCD1234';
    await store.saveCreds();
    const { channel, configs } = await channelOnStandIn(t, captureLogs().logger);
    // Without `me` Baileys registers afresh (a new QR or code) instead of a login that would fail.
    expect(configs[0]!.auth.creds.me).toBeUndefined();
    await channel.stop(100);
  });
});

describe('reading Baileys messages', () => {
  const SITI = '6281234567801@s.whatsapp.net';

  test('text in its many wrappers, and what is ignored', () => {
    const read = (message: proto.IMessage, extra: Parameters<typeof waMessage>[0] = { from: SITI }) =>
      readWhatsAppMessage(waMessage({ ...extra, message }));
    expect(read({ conversation: 'saldo' })).toMatchObject({ ok: true, message: { text: 'saldo', chatType: 'private', senderJid: SITI } });
    expect(read({ viewOnceMessage: { message: { imageMessage: { caption: 'cek saldo' } } } })).toMatchObject({ ok: true, message: { text: 'cek saldo' } });
    expect(read({ documentWithCaptionMessage: { message: { documentMessage: { caption: 'bukti bayar' } } } })).toMatchObject({ ok: true, message: { text: 'bukti bayar' } });
    expect(read({ templateButtonReplyMessage: { selectedId: 't1', selectedDisplayText: 'Hadir' } })).toMatchObject({ ok: true, message: { text: 'Hadir' } });
    expect(
      read({ interactiveResponseMessage: { nativeFlowResponseMessage: { name: 'quick_reply', paramsJson: '{"id":"saldo"}' }, body: { text: 'Cek saldo' } } }),
    ).toMatchObject({ ok: true, message: { text: 'saldo' } });
    expect(read({ interactiveResponseMessage: { nativeFlowResponseMessage: { paramsJson: 'not json' }, body: { text: 'Cek saldo' } } })).toMatchObject({
      ok: true,
      message: { text: 'Cek saldo' },
    });
    expect(read({ locationMessage: { degreesLatitude: -7.75, degreesLongitude: 113.2 } })).toMatchObject({ ok: true, message: { unsupported: true } });
    expect(read({ contactMessage: { displayName: 'Bu Siti', vcard: 'BEGIN:VCARD\nTEL;type=CELL;waid=6281234567801:+62 812-3456-7801\nEND:VCARD' } })).toMatchObject({
      ok: true,
      message: { contact: { phone: '6281234567801' } },
    });
    expect(read({ pollUpdateMessage: {} })).toEqual({ ok: false, reason: 'poll_vote' });
    expect(read({ editedMessage: { message: { conversation: 'saldo' } } })).toEqual({ ok: false, reason: 'edit' });
    expect(read({ senderKeyDistributionMessage: { groupId: 'x' } })).toEqual({ ok: false, reason: 'protocol' });
    expect(read({ conversation: 'x' }, { from: SITI, fromMe: true })).toEqual({ ok: false, reason: 'own' });
    const stub = waMessage({ from: SITI });
    stub.message = null;
    stub.messageStubType = proto.WebMessageInfo.StubType.E2E_ENCRYPTED;
    expect(readWhatsAppMessage(stub)).toEqual({ ok: false, reason: 'system' });
  });

  test('the sender: a phone JID is a phone, a LID never is; device suffixes are dropped', async () => {
    expect(phoneOfJid('6281234567801:12@s.whatsapp.net')).toBe('6281234567801');
    expect(phoneOfJid('6281234567801@lid')).toBeUndefined();
    expect(phoneOfJid('120363000000000001@g.us')).toBeUndefined();
    expect(phoneOfJid('60123456789@s.whatsapp.net')).toBe('60123456789'); // abroad: digits, matching no member
    expect(await identifySender({ senderJid: SITI })).toEqual({ externalUserId: SITI, phone: '6281234567801' });
    expect(await identifySender({ senderJid: SITI, senderAltJid: '190000000000001@lid' })).toEqual({
      externalUserId: '190000000000001@lid',
      phone: '6281234567801',
      lid: '190000000000001@lid',
    });
    expect(await identifySender({ senderJid: '190000000000001@lid' }, { lidToPhone: async () => null })).toEqual({ externalUserId: '190000000000001@lid', lid: '190000000000001@lid' });
    // A lookup that answers with something other than a phone JID (or fails) gives no phone.
    expect(await identifySender({ senderJid: '190000000000001@lid' }, { lidToPhone: async () => '190000000000002@lid' })).not.toHaveProperty('phone');
    expect(await identifySender({ senderJid: '190000000000001@lid' }, { lidToPhone: async () => Promise.reject(new Error('db')) })).not.toHaveProperty('phone');
    expect(await identifySender({ senderJid: '190000000000001@lid' }, { lidToPhone: async () => '6281234567801:3@s.whatsapp.net' })).toMatchObject({ phone: '6281234567801' });
    // A phone-addressed message without its LID is still keyed by the LID Baileys has stored.
    expect(await identifySender({ senderJid: SITI }, { phoneToLid: async () => '190000000000001@lid' })).toEqual({
      externalUserId: '190000000000001@lid',
      phone: '6281234567801',
      lid: '190000000000001@lid',
    });
    expect(await identifySender({ senderJid: SITI }, { phoneToLid: async () => SITI })).toEqual({ externalUserId: SITI, phone: '6281234567801' });
    expect(phoneFromVcard('BEGIN:VCARD\nTEL:+62 812-3456-7801\nEND:VCARD')).toBe('6281234567801');
  });

  test('a group message is read with its participant, and its alternate address', () => {
    const read = readWhatsAppMessage(waMessage({ from: '190000000000001@lid', alt: SITI, group: '120363000000000001@g.us', text: 'saldo' }));
    expect(read).toMatchObject({ ok: true, message: { chatType: 'group', chatJid: '120363000000000001@g.us', senderJid: '190000000000001@lid', senderAltJid: SITI } });
  });
});

describe('rendering for WhatsApp', () => {
  test('menus are numbered lines, data that would turn bold stays as written, long texts are split', () => {
    expect(renderWhatsAppReply({ text: '*Menu*', options: [{ key: '1', label: 'Cek simpanan' }, { key: '2', label: 'Jadwal RAT' }] })).toEqual([
      '*Menu*\n1. Cek simpanan\n2. Jadwal RAT',
    ]);
    const name = 'Siti *Bu* Aminah_a_';
    const [text] = renderWhatsAppReply({ text: `Simpanan ${name}\n*Total: Rp1.000*`, literals: [name] });
    expect(text).toBe('Simpanan Siti \u2217Bu\u2217 Aminah\u02cda\u02cd\n*Total: Rp1.000*');
    expect(protectLiterals('Bu R*ni', ['Bu R*ni'])).toBe('Bu R*ni'); // a lone star cannot format
    const long = Array.from({ length: 400 }, (_, i) => `Baris ${i}: setoran wajib Rp100.000 😀`).join('\n');
    const pieces = renderWhatsAppReply({ text: long });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((p) => p.length <= 3000)).toBe(true);
    expect(pieces.join('\n')).toBe(long);
    expect(renderWhatsAppReply({ text: '   ' })).toEqual([]);
  });

  test('every close reason has its action', () => {
    expect([401, 411, 440, 403, 515, 408, 428, 500, 503, undefined].map(closeAction)).toEqual([
      'logged_out',
      'logged_out',
      'replaced',
      'banned',
      'restart_now',
      'backoff',
      'backoff',
      'backoff',
      'backoff',
      'backoff',
    ]);
  });
});

describe('a real Baileys socket', () => {
  test('a WhatsApp server that cannot be reached leads to reconnects with pauses, and stop ends them', async () => {
    const t = await createTestApp(new Date());
    const sockets: WhatsAppSocket[] = [];
    const { logger, logs } = captureLogs();
    const channel = new WhatsAppChannel({
      engine: t.engine,
      catalogue: t.catalogue,
      logger,
      openAuthStore: () => openWhatsAppAuthStore(openWhatsAppSessionStore(t.db)),
      makeSocket: (config) => {
        const socket = makeWASocket(config);
        sockets.push(socket);
        return socket;
      },
      // Nothing listens on port 9 of this machine: the connection closes at once.
      socketConfig: { waWebSocketUrl: 'ws://127.0.0.1:9/ws/chat', connectTimeoutMs: 2_000 },
      reconnect: { firstMs: 50, capMs: 200, stableMs: 60_000 },
      showPairing: () => undefined,
    });
    try {
      await channel.start();
      await until(() => sockets.length >= 3, 10_000, 'three attempts');
      expect(['reconnecting', 'connecting']).toContain(channel.status);
      expect(logs.join('\n')).toContain('WhatsApp connection closed');
      await channel.stop(1_000);
      const count = sockets.length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(sockets.length).toBe(count);
      expect(channel.status).toBe('stopped');
    } finally {
      await channel.stop(100);
      await t.dispose();
    }
  });
});
