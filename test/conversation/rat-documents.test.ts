/**
 * Members ask for the RAT report or invitation in their words and get the document itself: on
 * the terminal (`kopbot chat`) as a link the service's HTTP server answers with the same bytes.
 * Only a verified member of the cooperative it belongs to gets it: a recycled number, a
 * Telegram account whose number is only remembered, a group, never.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerLine } from '../../src/channels/terminal/terminal-channel.ts';
import type { InboundMessage, Reply } from '../../src/core/message.ts';
import { attachRatDocument } from '../../src/domain/rat-documents.ts';
import { isDocumentRequest, serveDocument } from '../../src/http/rat-documents.ts';
import { DEMO_KOPERASI, DEMO_PHONES, seedDemo } from '../../src/persistence/seed-demo.ts';
import { createTestApp, STORES, telegramMessage, type TestApp } from '../helpers/app.ts';
import { invitationPhotoJpeg, ratReportPdf } from '../fixtures/rat-documents.ts';

describe.each(STORES)('RAT documents by chat, with the $name store', ({ hotPath, postgres }) => {
  let app: TestApp;
  let server: Server;
  let baseUrl: string;
  const SITI = DEMO_PHONES.siti;
  const report = ratReportPdf({ pages: 30, padKb: 20 });

  beforeEach(async () => {
    app = await createTestApp(undefined, { hotPath, postgres });
    await seedDemo(app.db, app.clock.now);
    // The service's route, as `kopbot start` serves it.
    server = createServer((req, res) => {
      if (isDocumentRequest(req)) void serveDocument(req, res, app.domain);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await app.dispose();
  });

  const attach = (bytes: Buffer, fileName: string, kind: 'REPORT' | 'INVITATION' = 'REPORT') =>
    attachRatDocument(app.domain, { koperasiCode: DEMO_KOPERASI, kind, bytes, fileName, actor: 'cli', now: app.clock.now });
  const chat = async (phone: string, text: string) => (await answerLine(app.engine, phone, text, { baseUrl })).join('\n\n');
  const replies = async (message: InboundMessage): Promise<Reply[]> => (await app.engine.handle(message)).replies;
  const documentsIn = (list: Reply[]) => list.filter((r) => r.document !== undefined);

  it('before anything is attached: a plain sentence and the RAT date, in Indonesian and English', async () => {
    const none = await chat(SITI, 'laporan rat');
    expect(none).toMatch(/^Pengurus KPRI Sejahtera Kraksaan belum mengunggah laporan RAT tahun buku \d{4}\. RAT berikutnya: \w+, \d+ \w+ \d{4}, 09\.00 WIB, di Aula KPRI Sejahtera/);
    expect(none).not.toContain('📄');
    expect(await chat(SITI, 'minta undangan rat')).toContain('belum mengunggah undangan RAT');
    await chat(SITI, 'english');
    expect(await chat(SITI, 'rat report please')).toContain('has not uploaded the RAT report for financial year');
  });

  it('the report comes as a link that serves the same PDF bytes; Indonesian, Javanese and English ask alike', async () => {
    const attached = await attach(report, 'Laporan RAT 2025.pdf');
    const reply = await chat(SITI, 'laporan rat');
    expect(reply).toMatch(/^📄 \*Laporan RAT tahun buku \d{4}\* — KPRI Sejahtera Kraksaan\nRAT: .+ WIB, Aula KPRI Sejahtera/);
    const link = /📄 Laporan RAT 2025\.pdf \(6\d\d KB\): (http:\/\/127\.0\.0\.1:\d+\/dokumen\/[A-Za-z0-9_-]{32})$/m.exec(reply)?.[1];
    expect(link, reply).toBeDefined();
    expect(link).toBe(`${baseUrl}/dokumen/${attached.document.token}`);
    const response = await fetch(link!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toContain('filename="Laporan RAT 2025.pdf"');
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(Buffer.from(await response.arrayBuffer()).equals(report)).toBe(true);

    for (const text of ['Laporan pertanggungjawaban pengurus', 'minta lpj rat', 'dokumen rat', 'nyuwun laporane rat', 'laporanna rat', 'kirim laporan RAT 2025 dong', 'rat report', 'can I get the RAT report']) {
      const list = await replies({ channel: 'terminal', externalUserId: SITI, chatId: SITI, chatType: 'private', text, verifiedPhone: SITI });
      expect(documentsIn(list).map((r) => r.document!.id), text).toEqual([attached.document.id]);
    }
    // "laporan" alone, or a real complaint, is still a complaint.
    expect(await chat(SITI, 'mau lapor, setoran saya belum tercatat')).not.toContain('📄');
  });

  it('the invitation (a photo) comes when asked for the invitation, the report when asked for the report', async () => {
    const photo = invitationPhotoJpeg(250);
    const invitation = await attach(photo, 'undangan.jpg', 'INVITATION');
    await attach(report, 'laporan.pdf');
    for (const text of ['undangan rat', 'minta undangan rat', 'undangane rapat', 'ulem rat', 'RAT invitation']) {
      const list = await replies({ channel: 'terminal', externalUserId: SITI, chatId: SITI, chatType: 'private', text, verifiedPhone: SITI });
      expect(documentsIn(list).map((r) => r.document), text).toEqual([{ id: invitation.document.id, fileName: 'undangan.jpg', mimetype: 'image/jpeg', size: photo.length, token: invitation.document.token }]);
      expect(list[0]!.text, text).toMatch(/^📄 \*(Undangan RAT|RAT invitation)/);
    }
    // The schedule and the attendance question are still the RAT intent's.
    expect(await chat(SITI, 'kapan rat')).toContain('Apakah Anda akan hadir?');
  });

  it('an unknown or replaced link is 404 with a sentence, never another file', async () => {
    const first = await attach(report, 'laporan.pdf');
    const oldLink = `${baseUrl}/dokumen/${first.document.token}`;
    await attach(ratReportPdf({ pages: 3 }), 'laporan-revisi.pdf');
    for (const url of [oldLink, `${baseUrl}/dokumen/`, `${baseUrl}/dokumen/${'A'.repeat(32)}`, `${baseUrl}/dokumen/..%2F..%2Fetc%2Fpasswd`]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(404);
      expect(await response.text()).toContain('Dokumen tidak ditemukan');
    }
    expect(await chat(SITI, 'laporan rat')).toContain('laporan-revisi.pdf');
  });

  describe('privacy', () => {
    beforeEach(async () => {
      await attach(report, 'laporan.pdf');
      await attach(invitationPhotoJpeg(20), 'undangan.jpg', 'INVITATION');
    });

    it('a recycled number: once the cooperative moves the phone away, its holder gets no document', async () => {
      expect(documentsIn(await replies({ channel: 'terminal', externalUserId: SITI, chatId: SITI, chatType: 'private', text: 'laporan rat', verifiedPhone: SITI }))).toHaveLength(1);
      await app.db.member.updateMany({ where: { phone: SITI }, data: { phone: '6281299998888' } });
      for (const text of ['laporan rat', 'undangan rat', '1']) {
        const list = await replies({ channel: 'terminal', externalUserId: SITI, chatId: SITI, chatType: 'private', text, verifiedPhone: SITI });
        expect(documentsIn(list), text).toEqual([]);
        expect(list.map((r) => r.text).join('\n'), text).not.toContain('dokumen/');
      }
      expect(await chat(SITI, 'laporan rat')).toContain('belum terhubung');
    });

    it('a stranger, a member who left, a WhatsApp sender without a vouched number: no document', async () => {
      for (const phone of ['6289911112222', DEMO_PHONES.bambang]) {
        const list = await replies({ channel: 'terminal', externalUserId: phone, chatId: phone, chatType: 'private', text: 'laporan rat', verifiedPhone: phone });
        expect(documentsIn(list), phone).toEqual([]);
      }
      const lid = { channel: 'whatsapp', externalUserId: 'abc@lid', chatId: 'abc@lid', chatType: 'private' as const };
      expect(documentsIn(await replies({ ...lid, text: 'laporan rat', verifiedPhone: SITI }))).toHaveLength(1);
      expect(documentsIn(await replies({ ...lid, text: 'laporan rat' }))).toEqual([]);
    });

    it("a Telegram account whose number went to someone else gets neither the document nor the other member's cooperative", async () => {
      await app.send(telegramMessage('7001', { contact: { phone: SITI, own: true }, verifiedPhone: SITI, phoneVerifiedBy: 'contact' }));
      expect(documentsIn(await replies(telegramMessage('7001', { text: 'laporan rat' })))).toHaveLength(1);
      // Siti changes numbers; her old number goes to Hasan (of two cooperatives); the session ends.
      await app.db.member.updateMany({ where: { memberNumber: '001', koperasi: { code: DEMO_KOPERASI } }, data: { phone: '6281299990001' } });
      await app.db.member.updateMany({ where: { name: 'Moh. Hasan' }, data: { phone: SITI } });
      await app.db.conversationSession.updateMany({ data: { expiresAt: new Date(0) } });
      for (const text of ['laporan rat', 'undangan rat', 'laporan rat ksu']) {
        const list = await replies(telegramMessage('7001', { text }));
        expect(documentsIn(list), text).toEqual([]);
        expect(list.map((r) => r.text).join('\n'), text).not.toMatch(/Hasan|KSU/);
      }
    });

    it("a member of another cooperative gets their own cooperative's answer, not this one's document", async () => {
      const ksu = await app.db.member.findFirstOrThrow({ where: { koperasi: { code: { not: DEMO_KOPERASI } }, phone: { not: null } }, include: { koperasi: true } });
      const others = await app.db.member.count({ where: { phone: ksu.phone } });
      if (others > 1) await app.db.member.updateMany({ where: { phone: ksu.phone, koperasiId: { not: ksu.koperasiId } }, data: { phone: null } });
      const list = await replies({ channel: 'terminal', externalUserId: ksu.phone!, chatId: ksu.phone!, chatType: 'private', text: 'laporan rat', verifiedPhone: ksu.phone! });
      expect(documentsIn(list)).toEqual([]);
      expect(list[0]!.text).toContain(`Pengurus ${ksu.koperasi.name} belum mengunggah laporan RAT`);
    });

    it('in a group: a pointer to the private chat, no document', async () => {
      const list = await replies({ channel: 'whatsapp', externalUserId: `${SITI}@s.whatsapp.net`, chatId: '120363000000000000@g.us', chatType: 'group', text: 'laporan rat' });
      expect(documentsIn(list)).toEqual([]);
      expect(list[0]?.text ?? '').toContain('chat pribadi');
    });
  });

  it('a member who sends a document is told documents are not read', async () => {
    const list = await replies({
      channel: 'whatsapp',
      externalUserId: 'abc@lid',
      chatId: 'abc@lid',
      chatType: 'private',
      verifiedPhone: SITI,
      phoneVerifiedBy: 'phone',
      unsupported: true,
      document: { fileName: 'bukti-transfer.pdf', mimetype: 'application/pdf', size: 1000, fetch: async () => Buffer.from('%PDF-1.4') },
    });
    expect(list[0]!.text).toContain('hanya bisa membaca pesan teks');
    expect(await app.db.meetingDocument.count()).toBe(0); // nothing attached by a member
  });
});
