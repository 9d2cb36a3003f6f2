/**
 * RAT documents on SQLite and PostgreSQL: attached to the current RAT (or a book year's), the
 * same kind replaced, the same bytes a no-op, the type checked by content and the size limited,
 * every change audited; members read the current RAT's document, or for the report the last one.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { attachRatDocument, checkDocument, documentKindOf, MAX_DOCUMENT_BYTES, ratDocumentContent, ratDocumentFor } from '../../src/domain/rat-documents.ts';
import { isDomainError } from '../../src/domain/errors.ts';
import { DEMO_KOPERASI, seedDemo } from '../../src/persistence/seed-demo.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { invitationPhotoJpeg, ratReportPdf, screenshotPng, wordFileNamedPdf } from '../fixtures/rat-documents.ts';

const STORES = [
  { name: 'SQLite', postgres: false },
  { name: 'PostgreSQL', postgres: true },
] as const;

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isDomainError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe.each(STORES)('RAT documents on $name', ({ postgres }) => {
  let app: TestApp;
  const KPRI = DEMO_KOPERASI;

  beforeEach(async () => {
    app = await createTestApp(undefined, { postgres });
    await seedDemo(app.db, app.clock.now);
  });
  afterEach(async () => {
    await app.dispose();
  });

  const attach = (bytes: Buffer, fileName: string, extra: { kind?: 'REPORT' | 'INVITATION'; bookYear?: number; actor?: string } = {}) =>
    attachRatDocument(app.domain, { koperasiCode: KPRI, kind: extra.kind ?? 'REPORT', bytes, fileName, actor: extra.actor ?? 'cli', now: app.clock.now, ...(extra.bookYear ? { bookYear: extra.bookYear } : {}) });

  test('attaches a 40-page report (about 800 KB) to the coming RAT; members of the cooperative get the same bytes', async () => {
    const pdf = ratReportPdf({ pages: 40, padKb: 20 });
    expect(pdf.length).toBeGreaterThan(800_000);
    const attached = await attach(pdf, 'Laporan RAT 2025.pdf');
    expect(attached.status).toBe('attached');
    expect(attached.document).toMatchObject({ kind: 'REPORT', fileName: 'Laporan RAT 2025.pdf', mimeType: 'application/pdf', size: pdf.length });
    const rat = await app.db.meeting.findFirstOrThrow({ where: { koperasi: { code: KPRI }, kind: 'RAT' } });
    expect(attached.meeting.id).toBe(rat.id);

    const found = await ratDocumentFor(app.domain, { koperasiId: rat.koperasiId, kind: 'REPORT', now: app.clock.now });
    expect(found.document?.id).toBe(attached.document.id);
    const content = await ratDocumentContent(app.domain, { id: attached.document.id });
    expect(content?.bytes.equals(pdf)).toBe(true);
    const byToken = await ratDocumentContent(app.domain, { token: attached.document.token });
    expect(byToken?.bytes.equals(pdf)).toBe(true);
    expect(attached.document.token).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const audit = await app.db.auditLog.findMany({ where: { action: 'rat.document_attach' } });
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ meetingId: rat.id, kind: 'REPORT', size: pdf.length, replaced: false });
    expect(audit[0]!.actor).toBe('cli');
  });

  test('the same file again changes nothing; another file of the same kind replaces it and ends the old link', async () => {
    const first = ratReportPdf({ pages: 5 });
    const a = await attach(first, 'laporan.pdf');
    const again = await attach(Buffer.from(first), 'laporan.pdf');
    expect(again.status).toBe('unchanged');
    expect(again.document.token).toBe(a.document.token);
    expect(await app.db.auditLog.count({ where: { action: 'rat.document_attach' } })).toBe(1);

    const second = ratReportPdf({ pages: 6 });
    const b = await attach(second, 'laporan-revisi.pdf');
    expect(b.status).toBe('replaced');
    expect(b.document.id).toBe(a.document.id);
    expect(b.document.token).not.toBe(a.document.token);
    expect(await app.db.meetingDocument.count()).toBe(1);
    expect(await ratDocumentContent(app.domain, { token: a.document.token })).toBeNull();
    expect((await ratDocumentContent(app.domain, { token: b.document.token }))?.bytes.equals(second)).toBe(true);
    expect(await app.db.auditLog.count({ where: { action: 'rat.document_attach' } })).toBe(2);

    // The invitation is a document of its own beside the report.
    const invitation = await attach(invitationPhotoJpeg(), 'IMG_20270102.jpg', { kind: 'INVITATION' });
    expect(invitation.document).toMatchObject({ kind: 'INVITATION', mimeType: 'image/jpeg' });
    expect(await app.db.meetingDocument.count()).toBe(2);
  });

  test('refuses by content: a Word file named .pdf, a PNG named .pdf, a text file, an empty file; nothing stored', async () => {
    const word = await refusal(attach(wordFileNamedPdf(), 'laporan.pdf'));
    expect(word).toEqual({ code: 'document_type', message: expect.stringContaining('namanya berakhiran .pdf, tetapi isinya bukan PDF') });
    const png = await refusal(attach(screenshotPng(), 'laporan.pdf'));
    expect(png.message).toContain('isinya gambar PNG');
    const text = await refusal(attach(Buffer.from('Laporan RAT\n'.repeat(100)), 'laporan.txt'));
    expect(text.message).toContain('isinya bukan PDF, JPG atau PNG');
    const empty = await refusal(attach(Buffer.alloc(0), 'laporan.pdf'));
    expect(empty.code).toBe('document_empty');
    expect(await app.db.meetingDocument.count()).toBe(0);
    expect(await app.db.auditLog.count({ where: { action: 'rat.document_attach' } })).toBe(0);
  });

  test('takes up to 10 MB and refuses a byte more', async () => {
    const limit = Buffer.concat([ratReportPdf({ pages: 1 }), Buffer.alloc(0)]);
    const full = Buffer.alloc(MAX_DOCUMENT_BYTES, 0x20);
    limit.copy(full);
    const ok = await attach(full, 'laporan-besar.pdf');
    expect(ok.document.size).toBe(MAX_DOCUMENT_BYTES);
    expect((await ratDocumentContent(app.domain, { id: ok.document.id }))?.bytes.length).toBe(MAX_DOCUMENT_BYTES);
    const over = await refusal(attach(Buffer.concat([full, Buffer.from(' ')]), 'laporan-besar.pdf'));
    expect(over.code).toBe('document_too_large');
    expect(over.message).toContain('paling besar 10 MB');
  });

  test('a name without the right extension gets it; a book year picks that RAT; no RAT is a plain refusal', async () => {
    const noExt = await attach(ratReportPdf({ pages: 2 }), 'scan0001');
    expect(noExt.document.fileName).toBe('scan0001.pdf');
    const rat = await app.db.meeting.findFirstOrThrow({ where: { koperasi: { code: KPRI }, kind: 'RAT' } });
    const unknownYear = await refusal(attach(ratReportPdf({ pages: 2 }), 'x.pdf', { bookYear: 2001 }));
    expect(unknownYear.message).toContain('Belum ada RAT tahun buku 2001');
    const byYear = await attach(ratReportPdf({ pages: 3 }), 'x.pdf', { bookYear: rat.bookYear! });
    expect(byYear.meeting.id).toBe(rat.id);
    await app.db.meeting.deleteMany({});
    const none = await refusal(attach(ratReportPdf({ pages: 2 }), 'x.pdf'));
    expect(none).toEqual({ code: 'meeting_unknown', message: expect.stringContaining('Belum ada jadwal RAT') });
    const unknown = await refusal(attachRatDocument(app.domain, { koperasiCode: 'TIDAK-ADA', kind: 'REPORT', bytes: ratReportPdf({ pages: 1 }), fileName: 'x.pdf', actor: 'cli', now: app.clock.now }));
    expect(unknown.code).toBe('koperasi_unknown');
  });

  test("members get last year's report until this year's is attached, but never an old invitation", async () => {
    const rat = await app.db.meeting.findFirstOrThrow({ where: { koperasi: { code: KPRI }, kind: 'RAT' } });
    const last = await app.db.meeting.create({
      data: { koperasiId: rat.koperasiId, key: `RAT:${rat.bookYear! - 1}`, kind: 'RAT', bookYear: rat.bookYear! - 1, startsAt: new Date(rat.startsAt.getTime() - 365 * 86_400_000), place: 'Aula', agenda: 'Laporan', heldAt: new Date(rat.startsAt.getTime() - 365 * 86_400_000) },
    });
    await attach(ratReportPdf({ pages: 2 }), 'laporan-lalu.pdf', { bookYear: last.bookYear! });
    await attach(invitationPhotoJpeg(10), 'undangan-lalu.jpg', { kind: 'INVITATION', bookYear: last.bookYear! });
    const report = await ratDocumentFor(app.domain, { koperasiId: rat.koperasiId, kind: 'REPORT', now: app.clock.now });
    expect(report.document?.fileName).toBe('laporan-lalu.pdf');
    expect(report.document && 'of' in report ? report.of.id : null).toBe(last.id);
    expect(report.current?.id).toBe(rat.id);
    const invitation = await ratDocumentFor(app.domain, { koperasiId: rat.koperasiId, kind: 'INVITATION', now: app.clock.now });
    expect(invitation.document).toBeNull();
    await attach(ratReportPdf({ pages: 3 }), 'laporan-baru.pdf');
    expect((await ratDocumentFor(app.domain, { koperasiId: rat.koperasiId, kind: 'REPORT', now: app.clock.now })).document?.fileName).toBe('laporan-baru.pdf');
  });
});

describe('document checks', () => {
  test('a caption or file name that says undangan is the invitation; anything else the report', () => {
    expect(documentKindOf('undangan RAT 2026')).toBe('INVITATION');
    expect(documentKindOf('Undangan_RAT_2026.pdf')).toBe('INVITATION');
    expect(documentKindOf('ulem rapat')).toBe('INVITATION');
    expect(documentKindOf('RAT invitation')).toBe('INVITATION');
    expect(documentKindOf('laporan pertanggungjawaban')).toBe('REPORT');
    expect(documentKindOf(undefined)).toBe('REPORT');
  });

  test('a PDF with bytes before %PDF- is still a PDF; folders and quotes leave the name', () => {
    const pdf = Buffer.concat([Buffer.from('\r\n'), ratReportPdf({ pages: 1 })]);
    expect(checkDocument({ bytes: pdf, fileName: 'C:\\Users\\KPRI\\Laporan "final".PDF' })).toMatchObject({ fileName: 'Laporan final.PDF', type: { mimeType: 'application/pdf' } });
  });
});
