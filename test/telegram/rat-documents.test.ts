/**
 * RAT documents on Telegram, through the real service and telegraf against the local Bot API
 * stand-in: a verified member asking "laporan rat" makes the bot call sendDocument (multipart,
 * the PDF's bytes and name, the caption as HTML); a board member's document is fetched with
 * getFile and the Bot API's file URL and attached; a number only remembered attaches nothing.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { attachRatDocument } from '../../src/domain/rat-documents.ts';
import { DEMO_KOPERASI } from '../../src/persistence/seed-demo.ts';
import type { FakeUser } from '../helpers/fake-bot-api.ts';
import { invitationPhotoJpeg, ratReportPdf } from '../fixtures/rat-documents.ts';
import { ask, expireSessions, settle, share, startTelegramService, type TelegramTestService } from './helpers.ts';

const SITI: FakeUser = { id: 501, first_name: 'Siti' }; // 6281234567801 on file
const BOARD: FakeUser = { id: 601, first_name: 'Sugeng' }; // 6281234567890, PENGURUS of KPRI Sejahtera

describe('RAT documents on Telegram', () => {
  let t: TelegramTestService;
  beforeEach(async () => {
    t = await startTelegramService();
  });
  afterEach(async () => {
    await t.dispose();
  });

  test('a verified member asking for the report gets sendDocument with the PDF; the invitation too; nothing before verification', async () => {
    const pdf = ratReportPdf({ pages: 40, padKb: 20 });
    const { domain } = t.service.app;
    await attachRatDocument(domain, { koperasiCode: DEMO_KOPERASI, kind: 'REPORT', bytes: pdf, fileName: 'Laporan RAT 2025.pdf', actor: 'cli', now: new Date() });

    // Not verified yet: asked for the contact, no document.
    const first = await ask(t, SITI, 'laporan rat');
    expect(first.some((m) => m.document)).toBe(false);
    const shared = await share(t, SITI, { phone: '6281234567801' });
    // The question asked before verification is answered once the contact proves the member.
    const doc = shared.find((m) => m.document);
    expect(doc, JSON.stringify(shared.map((m) => m.text))).toBeDefined();
    expect(doc!.document!.fileName).toBe('Laporan RAT 2025.pdf');
    expect(doc!.document!.bytes.equals(pdf)).toBe(true);
    expect(doc!.text).toMatch(/^📄 Laporan RAT tahun buku \d{4} — KPRI Sejahtera Kraksaan\nRAT: /);
    expect(doc!.raw).toContain('<b>Laporan RAT tahun buku');
    const call = t.api.calls.find((c) => c.method === 'sendDocument');
    expect(call?.status).toBe(200);

    const photo = invitationPhotoJpeg(120);
    await attachRatDocument(domain, { koperasiCode: DEMO_KOPERASI, kind: 'INVITATION', bytes: photo, fileName: 'undangan.jpg', actor: 'cli', now: new Date() });
    const invitation = await ask(t, SITI, 'minta undangan rat');
    expect(invitation).toHaveLength(1);
    expect(invitation[0]!.document).toMatchObject({ fileName: 'undangan.jpg' });
    expect(invitation[0]!.document!.bytes.equals(photo)).toBe(true);
  });

  test('a board member sends the PDF as a document: getFile, the download, attached and confirmed; a member then receives it', async () => {
    await share(t, BOARD, { phone: '6281234567890' });
    const pdf = ratReportPdf({ pages: 25, padKb: 20 });
    const before = t.api.messagesTo(BOARD.id).length;
    t.api.sendDocument(BOARD, { fileName: 'LPJ Pengurus 2025.pdf', mimeType: 'application/pdf', bytes: pdf });
    const [confirmation] = await settle(t, BOARD.id, before);
    expect(confirmation!.text).toMatch(/^✅ Laporan RAT tahun buku \d{4} KPRI Sejahtera Kraksaan dilampirkan ke RAT .+: LPJ Pengurus 2025\.pdf/);
    expect(t.api.calls.filter((c) => c.method === 'getFile')).toHaveLength(1);
    expect(t.api.downloads).toHaveLength(1);
    const stored = await t.service.app.db.meetingDocument.findFirstOrThrow();
    expect(Buffer.from(stored.content).equals(pdf)).toBe(true);

    const photo = invitationPhotoJpeg(80);
    const next = t.api.messagesTo(BOARD.id).length;
    t.api.sendDocument(BOARD, { fileName: 'undangan.jpg', mimeType: 'image/jpeg', bytes: photo, caption: 'Undangan RAT' });
    expect((await settle(t, BOARD.id, next))[0]!.text).toContain('✅ Undangan RAT');

    await share(t, SITI, { phone: '6281234567801' });
    const got = await ask(t, SITI, 'laporan rat');
    expect(got[0]!.document!.bytes.equals(pdf)).toBe(true);
  });

  test('too big by its declared size: refused before getFile; a number only remembered is asked for the contact; a member\'s file is not read', async () => {
    await share(t, BOARD, { phone: '6281234567890' });
    let before = t.api.messagesTo(BOARD.id).length;
    t.api.sendDocument(BOARD, { fileName: 'scan.pdf', mimeType: 'application/pdf', bytes: Buffer.from('%PDF-1.4'), reportedSize: 30 * 1024 * 1024 });
    expect((await settle(t, BOARD.id, before))[0]!.text).toContain('Berkas itu 30 MB; paling besar 10 MB.');
    expect(t.api.calls.filter((c) => c.method === 'getFile')).toHaveLength(0);

    // Months later: the number is only remembered; the contact proves it again before anything is attached.
    await expireSessions(t);
    await t.service.app.db.conversationSession.deleteMany({});
    before = t.api.messagesTo(BOARD.id).length;
    t.api.sendDocument(BOARD, { fileName: 'lpj.pdf', mimeType: 'application/pdf', bytes: ratReportPdf({ pages: 1 }) });
    const [asked] = await settle(t, BOARD.id, before);
    expect(asked!.text).toContain('bagikan dulu nomor Anda');
    expect(asked!.reply_markup?.keyboard?.[0]?.[0]?.request_contact).toBe(true);
    expect(t.api.calls.filter((c) => c.method === 'getFile')).toHaveLength(0);

    await share(t, SITI, { phone: '6281234567801' });
    before = t.api.messagesTo(SITI.id).length;
    t.api.sendDocument(SITI, { fileName: 'bukti.pdf', mimeType: 'application/pdf', bytes: ratReportPdf({ pages: 1 }) });
    expect((await settle(t, SITI.id, before))[0]!.text).toContain('hanya bisa membaca pesan teks');
    // With a caption, the caption is the member's question.
    before = t.api.messagesTo(SITI.id).length;
    t.api.sendDocument(SITI, { fileName: 'bukti.pdf', mimeType: 'application/pdf', bytes: ratReportPdf({ pages: 1 }), caption: 'laporan rat' });
    expect((await settle(t, SITI.id, before))[0]!.text).toContain('belum mengunggah laporan RAT');
    expect(t.api.downloads).toEqual([]);
    expect(await t.service.app.db.meetingDocument.count()).toBe(0);
  });
});
