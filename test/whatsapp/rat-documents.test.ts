/**
 * RAT documents on WhatsApp, with real Baileys message objects: a member asking "laporan rat"
 * receives a `document` message (the PDF's bytes, its mimetype and file name, the caption); a
 * board member's documentMessage (plain, or wrapped with a caption as WhatsApp sends it) is
 * downloaded and attached; a member's document is not read; a recycled number gets nothing.
 */
import { proto, type WAMessage } from '@whiskeysockets/baileys';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openWhatsAppAuthStore } from '../../src/channels/whatsapp/auth-store.ts';
import { WhatsAppChannel } from '../../src/channels/whatsapp/whatsapp-channel.ts';
import { attachRatDocument } from '../../src/domain/rat-documents.ts';
import { openWhatsAppSessionStore } from '../../src/persistence/whatsapp-session-store.ts';
import { DEMO_KOPERASI, seedDemo } from '../../src/persistence/seed-demo.ts';
import { captureLogs, createTestApp, type TestApp } from '../helpers/app.ts';
import { invitationPhotoJpeg, ratReportPdf, wordFileNamedPdf } from '../fixtures/rat-documents.ts';
import { socketFactory, waMessage } from './helpers.ts';

const SITI = '6281234567801@s.whatsapp.net';
const BOARD = '6281234567890@s.whatsapp.net';

/** A documentMessage as WhatsApp delivers it (media keys and paths of its servers). */
function documentMessage(options: { fileName: string; mimetype: string; size: number; caption?: string; wrapped?: boolean }): proto.IMessage {
  const document: proto.Message.IDocumentMessage = {
    url: 'https://mmg.whatsapp.net/v/t62.7119-24/12345678_1234567890_n.enc?ccb=11-4',
    mimetype: options.mimetype,
    title: options.fileName.replace(/\.[^.]+$/, ''),
    fileSha256: Buffer.alloc(32, 1),
    fileLength: options.size,
    pageCount: 12,
    mediaKey: Buffer.alloc(32, 2),
    fileName: options.fileName,
    fileEncSha256: Buffer.alloc(32, 3),
    directPath: '/v/t62.7119-24/12345678_1234567890_n.enc?ccb=11-4',
    mediaKeyTimestamp: Math.floor(Date.now() / 1000),
    ...(options.caption ? { caption: options.caption } : {}),
  };
  // With a caption, WhatsApp wraps the document (documentWithCaptionMessage).
  return options.wrapped ? { documentWithCaptionMessage: { message: { documentMessage: document } } } : { documentMessage: document };
}

describe('RAT documents on WhatsApp', () => {
  let t: TestApp;
  let channel: WhatsAppChannel;
  let factory: ReturnType<typeof socketFactory>;
  /** What the media servers hold, by the message id: the stand-in for downloadMediaMessage. */
  const media = new Map<string, Buffer>();
  const downloads: string[] = [];

  beforeEach(async () => {
    t = await createTestApp(new Date());
    await seedDemo(t.db, t.clock.now);
    factory = socketFactory();
    channel = new WhatsAppChannel({
      engine: t.engine,
      catalogue: t.catalogue,
      logger: captureLogs().logger,
      openAuthStore: () => openWhatsAppAuthStore(openWhatsAppSessionStore(t.db)),
      makeSocket: factory.make,
      showPairing: () => undefined,
      typingMs: () => 0,
      random: () => 1,
      replyWaitMs: 2_000,
      downloadMedia: async (message: WAMessage) => {
        downloads.push(message.key.id!);
        const bytes = media.get(message.key.id!);
        if (!bytes) throw new Error('media not found');
        return bytes;
      },
    });
    await channel.start();
    factory.last.connect();
  });
  afterEach(async () => {
    await channel.stop(1_000);
    await t.dispose();
    media.clear();
    downloads.length = 0;
  });

  async function say(message: WAMessage) {
    const before = factory.last.sent.length;
    factory.last.receive(message);
    await channel.settled();
    return factory.last.sent.slice(before);
  }

  test('a member asking for the report receives a document message with the PDF, its mimetype, name and caption', async () => {
    const pdf = ratReportPdf({ pages: 40, padKb: 20 });
    await attachRatDocument(t.domain, { koperasiCode: DEMO_KOPERASI, kind: 'REPORT', bytes: pdf, fileName: 'Laporan RAT 2025.pdf', actor: 'cli', now: t.clock.now });
    const sent = await say(waMessage({ from: SITI, text: 'laporan rat' }));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.jid).toBe(SITI);
    expect(sent[0]!.document?.mimetype).toBe('application/pdf');
    expect(sent[0]!.document?.fileName).toBe('Laporan RAT 2025.pdf');
    expect(sent[0]!.document?.bytes.equals(pdf)).toBe(true);
    expect(sent[0]!.text).toMatch(/^📄 \*Laporan RAT tahun buku \d{4}\* — KPRI Sejahtera Kraksaan\nRAT: /);

    const photo = invitationPhotoJpeg(100);
    await attachRatDocument(t.domain, { koperasiCode: DEMO_KOPERASI, kind: 'INVITATION', bytes: photo, fileName: 'undangan.jpg', actor: 'cli', now: t.clock.now });
    const invitation = await say(waMessage({ from: SITI, text: 'nyuwun undangane rat' }));
    expect(invitation[0]!.document).toMatchObject({ mimetype: 'image/jpeg', fileName: 'undangan.jpg' });

    // Without a document: a sentence, no document message.
    await t.db.meetingDocument.deleteMany({});
    const none = await say(waMessage({ from: SITI, text: 'laporan rat' }));
    expect(none.map((m) => m.document)).toEqual([undefined]);
    expect(none[0]!.text).toContain('belum mengunggah laporan RAT');
  });

  test('a recycled number gets no document', async () => {
    await attachRatDocument(t.domain, { koperasiCode: DEMO_KOPERASI, kind: 'REPORT', bytes: ratReportPdf({ pages: 2 }), fileName: 'laporan.pdf', actor: 'cli', now: t.clock.now });
    await t.db.member.updateMany({ where: { phone: '6281234567801' }, data: { phone: '6281299998888' } });
    const sent = await say(waMessage({ from: SITI, text: 'laporan rat' }));
    expect(sent.some((m) => m.document)).toBe(false);
    expect(sent.map((m) => m.text).join('\n')).toContain('belum tercatat di data anggota');
  });

  test('a board member sends the report as a documentMessage: downloaded, attached, confirmed; with a caption "undangan" it is the invitation', async () => {
    const pdf = ratReportPdf({ pages: 30, padKb: 20 });
    const report = waMessage({ from: BOARD, message: documentMessage({ fileName: 'LPJ 2025.pdf', mimetype: 'application/pdf', size: pdf.length }) });
    media.set(report.key.id!, pdf);
    const confirmed = await say(report);
    expect(confirmed.map((m) => m.text).join('\n')).toMatch(/^✅ Laporan RAT tahun buku \d{4} KPRI Sejahtera Kraksaan dilampirkan ke RAT/);
    expect(Buffer.from((await t.db.meetingDocument.findFirstOrThrow()).content).equals(pdf)).toBe(true);

    const photo = invitationPhotoJpeg(150);
    const invitation = waMessage({ from: BOARD, message: documentMessage({ fileName: 'IMG-20261201-WA0007.jpg', mimetype: 'image/jpeg', size: photo.length, caption: 'undangan rat', wrapped: true }) });
    media.set(invitation.key.id!, photo);
    expect((await say(invitation)).map((m) => m.text).join('\n')).toContain('✅ Undangan RAT');
    expect(await t.db.meetingDocument.count({ where: { kind: 'INVITATION' } })).toBe(1);

    // A member asking now receives what the board sent.
    const got = await say(waMessage({ from: SITI, text: 'laporan rat' }));
    expect(got[0]!.document?.bytes.equals(pdf)).toBe(true);
  });

  test('too big by its declared size is refused without a download; a Word file named .pdf is refused; a member\'s document is not read', async () => {
    const big = waMessage({ from: BOARD, message: documentMessage({ fileName: 'scan.pdf', mimetype: 'application/pdf', size: 40 * 1024 * 1024 }) });
    expect((await say(big)).map((m) => m.text).join('\n')).toContain('Berkas itu 40 MB; paling besar 10 MB.');
    expect(downloads).toEqual([]);

    const word = wordFileNamedPdf();
    const fake = waMessage({ from: BOARD, message: documentMessage({ fileName: 'laporan.pdf', mimetype: 'application/pdf', size: word.length }) });
    media.set(fake.key.id!, word);
    expect((await say(fake)).map((m) => m.text).join('\n')).toContain('isinya bukan PDF');

    // A member's file is not read: without a caption, a sentence; with one, the caption is the question.
    const memberFile = waMessage({ from: SITI, message: documentMessage({ fileName: 'bukti.pdf', mimetype: 'application/pdf', size: 1000 }) });
    media.set(memberFile.key.id!, ratReportPdf({ pages: 1 }));
    expect((await say(memberFile)).map((m) => m.text).join('\n')).toContain('hanya bisa membaca pesan teks');
    const captioned = waMessage({ from: SITI, message: documentMessage({ fileName: 'bukti.pdf', mimetype: 'application/pdf', size: 1000, caption: 'laporan rat', wrapped: true }) });
    media.set(captioned.key.id!, ratReportPdf({ pages: 1 }));
    expect((await say(captioned)).map((m) => m.text).join('\n')).toContain('belum mengunggah laporan RAT');
    expect(downloads).toEqual([fake.key.id]);
    expect(await t.db.meetingDocument.count()).toBe(0);
  });
});
