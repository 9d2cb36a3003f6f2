/**
 * A board member sends the RAT report or invitation to the bot (officer chat): attached to the
 * cooperative's RAT, the caption choosing the kind, the declared size checked before any
 * download, every refusal one sentence; members then receive it. Only a board member with a
 * phone proven in this session attaches anything.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { InboundDocument, InboundMessage } from '../../src/core/message.ts';
import { seedDemo } from '../../src/persistence/seed-demo.ts';
import { createTestApp, telegramMessage, type TestApp } from '../helpers/app.ts';
import { invitationPhotoJpeg, ratReportPdf, wordFileNamedPdf } from '../fixtures/rat-documents.ts';

const BOARD = '6281234567890'; // Drs. Sugeng Riyadi, PENGURUS of KPRI Sejahtera (demo)
const DINAS = '6281234567899';
const SITI = '6281234567801';

/** A document as a channel hands it over, counting its downloads. */
function file(bytes: Buffer, fileName: string, extra: Partial<InboundDocument> = {}): InboundDocument & { downloads: number } {
  const doc = {
    fileName,
    mimetype: 'application/pdf',
    size: bytes.length,
    downloads: 0,
    async fetch() {
      doc.downloads++;
      return bytes;
    },
    ...extra,
  };
  return doc;
}

function fromPhone(phone: string, document: InboundDocument): InboundMessage {
  return { channel: 'whatsapp', externalUserId: `${phone}@s.whatsapp.net`, chatId: `${phone}@s.whatsapp.net`, chatType: 'private', verifiedPhone: phone, phoneVerifiedBy: 'phone', unsupported: true, document };
}

describe.each([
  { name: 'SQLite', postgres: false },
  { name: 'PostgreSQL', postgres: true },
])('RAT documents in the officer chat on $name', ({ postgres }) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp(new Date('2026-11-23T03:00:00Z'), { postgres });
    await seedDemo(t.db, t.clock.now);
  });
  afterEach(async () => t.dispose());

  test('a board member sends the report PDF: attached, confirmed with the RAT and how to replace it; a member then receives it', async () => {
    const pdf = ratReportPdf({ pages: 50, padKb: 20 });
    const reply = await t.send(fromPhone(BOARD, file(pdf, 'LPJ Pengurus 2025.pdf')));
    expect(reply).toMatch(/^✅ Laporan RAT tahun buku \d{4} KPRI Sejahtera Kraksaan dilampirkan ke RAT .+ WIB: LPJ Pengurus 2025\.pdf \(1 MB\)\. Anggota yang mengetik \*laporan rat\* menerimanya\.\nUntuk menggantinya, kirim berkas baru\. Untuk undangan RAT, kirim berkasnya dengan keterangan \*undangan\*\.\n\nKetik \*menu\* untuk kembali ke menu utama\.$/);
    const stored = await t.db.meetingDocument.findFirstOrThrow();
    expect(Buffer.from(stored.content).equals(pdf)).toBe(true);
    const officer = await t.db.officer.findFirstOrThrow({ where: { phone: BOARD } });
    const audit = await t.db.auditLog.findFirstOrThrow({ where: { action: 'rat.document_attach' } });
    expect(audit.actor).toBe(`officer:${officer.id}`);
    expect(JSON.parse(audit.detail).via).toMatchObject({ channel: 'whatsapp', proof: 'sender' });
    expect(audit.detail).not.toContain(BOARD); // the phone in the identity is masked

    const member = await t.engine.handle({ channel: 'terminal', externalUserId: SITI, chatId: SITI, chatType: 'private', text: 'laporan rat', verifiedPhone: SITI });
    expect(member.replies[0]!.document).toMatchObject({ id: stored.id, fileName: 'LPJ Pengurus 2025.pdf', mimetype: 'application/pdf' });

    // The same file again changes nothing; a new one replaces it.
    expect(await t.send(fromPhone(BOARD, file(pdf, 'LPJ Pengurus 2025.pdf')))).toContain('sudah terlampir');
    expect(await t.send(fromPhone(BOARD, file(ratReportPdf({ pages: 2 }), 'LPJ revisi.pdf')))).toContain('diganti dengan LPJ revisi.pdf');
    expect(await t.db.meetingDocument.count()).toBe(1);
  });

  test('the caption decides: "undangan" is the invitation (a photo too), a year picks that RAT', async () => {
    const photo = invitationPhotoJpeg(200);
    const reply = await t.send(fromPhone(BOARD, file(photo, 'IMG-20261201-WA0003.jpg', { mimetype: 'image/jpeg', caption: 'Undangan RAT ya pak' })));
    expect(reply).toContain('✅ Undangan RAT tahun buku');
    expect(reply).toContain('*undangan rat*');
    expect(reply).toContain('kirim berkas baru dengan keterangan *undangan*');
    expect(await t.db.meetingDocument.findFirstOrThrow()).toMatchObject({ kind: 'INVITATION', mimeType: 'image/jpeg' });
    const old = await t.send(fromPhone(BOARD, file(ratReportPdf({ pages: 1 }), 'lpj.pdf', { caption: 'laporan rat 2001' })));
    expect(old).toContain('Belum ada RAT tahun buku 2001');
  });

  test('refused with one sentence: too big by its declared size (never downloaded), not a PDF by content', async () => {
    const big = file(Buffer.alloc(10), 'laporan.pdf', { size: 25 * 1024 * 1024 });
    const tooBig = await t.send({ ...fromPhone(BOARD, big), channel: 'terminal', externalUserId: BOARD, chatId: BOARD, phoneVerifiedBy: undefined });
    expect(tooBig).toContain('Berkas itu 25 MB; paling besar 10 MB.');
    expect(big.downloads).toBe(0);
    const word = await t.send({ ...fromPhone(BOARD, file(wordFileNamedPdf(), 'laporan.pdf')), channel: 'terminal', externalUserId: BOARD, chatId: BOARD, phoneVerifiedBy: undefined });
    expect(word).toMatch(/^Berkas laporan\.pdf tidak bisa dilampirkan: namanya berakhiran \.pdf, tetapi isinya bukan PDF\. Kirim laporan atau undangan sebagai PDF \(atau foto JPG\/PNG\)\.\n/);
    const failing = file(Buffer.alloc(10), 'laporan.pdf', { fetch: async () => Promise.reject(new Error('media server down')) });
    expect(await t.send(fromPhone(BOARD, failing))).toContain('tidak berhasil diunduh');
    expect(await t.db.meetingDocument.count()).toBe(0);
    expect(await t.db.auditLog.count({ where: { action: 'rat.document_attach' } })).toBe(0);
  });

  test('no board role, no proven phone, no member: nothing attached', async () => {
    const pdf = ratReportPdf({ pages: 1 });
    expect(await t.send(fromPhone(DINAS, file(pdf, 'laporan.pdf')))).toContain('Hanya pengurus koperasi');
    // A member's file is not read.
    expect(await t.send(fromPhone(SITI, file(pdf, 'laporan.pdf')))).toContain('hanya bisa membaca pesan teks');
    // Telegram: the board's number only remembered (no contact shared in this session).
    await t.send(telegramMessage('900', { contact: { phone: BOARD, own: true }, verifiedPhone: BOARD, phoneVerifiedBy: 'contact' }));
    await t.db.conversationSession.updateMany({ data: { expiresAt: new Date(0) } });
    t.clock.now = new Date(t.clock.now.getTime() + 60 * 60_000);
    const doc = file(pdf, 'laporan.pdf');
    const telegram = await t.engine.handle(telegramMessage('900', { unsupported: true, document: doc }));
    expect(telegram.replies[0]!.text).toContain('bagikan dulu nomor Anda');
    expect(telegram.replies[0]!.requestContact).toBeDefined();
    expect(doc.downloads).toBe(0);
    // A sender without a vouched phone (a WhatsApp LID unknown to Baileys) is nobody's board.
    expect(await t.send({ channel: 'whatsapp', externalUserId: 'x@lid', chatId: 'x@lid', chatType: 'private', unsupported: true, document: file(pdf, 'laporan.pdf') })).toContain('hanya bisa membaca pesan teks');
    expect(await t.db.meetingDocument.count()).toBe(0);
    expect(await t.db.auditLog.count({ where: { action: 'rat.document_attach' } })).toBe(0);
  });
});
