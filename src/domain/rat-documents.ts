/**
 * RAT documents: the report (laporan pertanggungjawaban) and the invitation (undangan) an
 * officer attaches to the cooperative's RAT, and members ask for by chat. The CLI (`kopbot rat
 * attach`), the officer chat (a document sent to the bot) and the member conversation all go
 * through here, so the checks (size, type by content, which RAT) exist once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { formatFileSize } from '../core/format.ts';
import { auditRow } from './audit.ts';
import { DomainError } from './errors.ts';
import type { Domain, KoperasiRecord, MeetingDocumentKind, MeetingDocumentRecord, MeetingRecord } from './ports.ts';
import { currentRat } from './rat.ts';

export type { MeetingDocumentKind, MeetingDocumentRecord };

/** 10 MB: a scanned report of some dozens of pages; WhatsApp and Telegram take far more. */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

/** What a document's content is, by its first bytes (its name may say anything). */
interface DocumentType {
  mimeType: string;
  extension: string;
  label: string;
}

const TYPES: readonly (DocumentType & { magic: readonly number[] })[] = [
  { mimeType: 'application/pdf', extension: 'pdf', label: 'PDF', magic: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { mimeType: 'image/jpeg', extension: 'jpg', label: 'foto JPG', magic: [0xff, 0xd8, 0xff] },
  { mimeType: 'image/png', extension: 'png', label: 'gambar PNG', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
];

/** What a file name's extension claims, for the ones this module knows. */
const CLAIMED: Readonly<Record<string, string>> = { pdf: 'application/pdf', jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png' };

/** The document type the bytes are, or null when they are none of PDF, JPEG, PNG. */
export function sniffDocumentType(bytes: Uint8Array): DocumentType | null {
  // A PDF may have a few bytes of junk before %PDF- (the spec allows it within the first 1024).
  const pdfAt = Buffer.from(bytes.subarray(0, 1024)).indexOf('%PDF-');
  if (pdfAt >= 0) return TYPES[0]!;
  const found = TYPES.find((t) => t.magic.every((b, i) => bytes[i] === b));
  return found ? { mimeType: found.mimeType, extension: found.extension, label: found.label } : null;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toLocaleString('id-ID', { maximumFractionDigits: 1 })} MB`;
}

export { formatFileSize };

/**
 * Refuse what is too big, empty or not a PDF/JPEG/PNG by content, or whose name claims another
 * type than its content; give the type and a file name with the right extension.
 */
export function checkDocument(input: { bytes: Uint8Array; fileName: string }): { type: DocumentType; fileName: string } {
  const { bytes } = input;
  checkDocumentSize(bytes.length);
  const name = baseName(input.fileName);
  const type = sniffDocumentType(bytes);
  const extension = /\.([a-z0-9]{1,5})$/i.exec(name)?.[1]?.toLowerCase();
  const claimed = extension ? CLAIMED[extension] : undefined;
  if (!type) {
    const what = claimed ? `namanya berakhiran .${extension}, tetapi isinya bukan ${extension === 'pdf' ? 'PDF' : 'gambar'}` : 'isinya bukan PDF, JPG atau PNG';
    throw new DomainError('document_type', `Berkas ${name} tidak bisa dilampirkan: ${what}. Kirim laporan atau undangan sebagai PDF (atau foto JPG/PNG).`);
  }
  if (claimed && claimed !== type.mimeType) {
    throw new DomainError('document_type', `Berkas ${name} tidak bisa dilampirkan: namanya berakhiran .${extension}, tetapi isinya ${type.label}. Periksa berkasnya, lalu kirim ulang.`);
  }
  return { type, fileName: claimed ? name : `${name.replace(/\.$/, '') || 'dokumen-rat'}.${type.extension}` };
}

/**
 * Refuse a size before anything is read or downloaded (a file on disk, a document sent by chat):
 * empty, or over MAX_DOCUMENT_BYTES.
 */
export function checkDocumentSize(size: number): void {
  if (size === 0) throw new DomainError('document_empty', 'Berkas itu kosong (0 byte). Kirim ulang berkas laporan atau undangannya.');
  if (size > MAX_DOCUMENT_BYTES) {
    throw new DomainError('document_too_large', `Berkas itu ${megabytes(size)}; paling besar ${megabytes(MAX_DOCUMENT_BYTES)}. Perkecil dulu (misalnya simpan ulang PDF-nya dengan ukuran lebih kecil).`);
  }
}

/** The file's own name (no folders), without control characters, at most 120 characters. */
function baseName(fileName: string): string {
  const name = fileName.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f"]/g, '').trim();
  if (clean.length <= 120) return clean === '' ? 'dokumen-rat' : clean;
  const ext = /\.[a-z0-9]{1,5}$/i.exec(clean)?.[0] ?? '';
  return clean.slice(0, 120 - ext.length) + ext;
}

const INVITATION_WORDS = /\b(undangan|undangane|ulem|ulemane|undhangan|invitation|invite|ondangan)\b/i;

/** Which kind a caption or file name names: the invitation when it says so, else the report. */
export function documentKindOf(words: string | undefined): MeetingDocumentKind {
  return words && INVITATION_WORDS.test(words.replace(/[_\-.]+/g, ' ')) ? 'INVITATION' : 'REPORT';
}

export type AttachStatus = 'attached' | 'replaced' | 'unchanged';

export interface AttachedDocument {
  status: AttachStatus;
  koperasi: KoperasiRecord;
  meeting: MeetingRecord;
  document: MeetingDocumentRecord;
}

/** The RAT a document is attached to: of the book year asked for, or the current one. */
async function ratFor(domain: Pick<Domain, 'meetings'>, koperasi: KoperasiRecord, bookYear: number | undefined, now: Date): Promise<MeetingRecord> {
  if (bookYear !== undefined) {
    const meeting = await domain.meetings.ratOf(koperasi.id, bookYear);
    if (!meeting) throw new DomainError('meeting_unknown', `Belum ada RAT tahun buku ${bookYear} untuk ${koperasi.name}. Atur jadwal RAT-nya dulu (menu pengurus, atau kopbot import rapat), lalu lampirkan dokumennya.`);
    return meeting;
  }
  const meeting = await currentRat(domain, koperasi.id, now);
  if (!meeting) throw new DomainError('meeting_unknown', `Belum ada jadwal RAT untuk ${koperasi.name}. Atur jadwal RAT dulu (menu pengurus, atau kopbot import rapat), lalu lampirkan dokumennya.`);
  return meeting;
}

/**
 * Attach a RAT report or invitation to the cooperative's RAT (the current one: the next, or
 * the latest when none is coming; or the RAT of `bookYear`). The same kind attached again
 * replaces it; the same bytes again change nothing. Audited.
 */
export async function attachRatDocument(
  domain: Pick<Domain, 'koperasi' | 'meetings' | 'documents'>,
  input: {
    koperasiCode: string;
    kind: MeetingDocumentKind;
    bytes: Uint8Array;
    fileName: string;
    bookYear?: number;
    actor: string;
    /** From a chat: the channel identity that acted, and how it was proven (for the audit). */
    via?: Record<string, unknown>;
    now: Date;
  },
): Promise<AttachedDocument> {
  const koperasi = await domain.koperasi.byCode(input.koperasiCode.trim().toUpperCase());
  if (!koperasi) throw new DomainError('koperasi_unknown', `Koperasi dengan kode ${input.koperasiCode} tidak ada.`);
  const { type, fileName } = checkDocument(input);
  const meeting = await ratFor(domain, koperasi, input.bookYear, input.now);
  const sha256 = createHash('sha256').update(input.bytes).digest('hex');
  const previous = await domain.documents.of(meeting.id, input.kind);
  if (previous && previous.sha256 === sha256 && previous.fileName === fileName) return { status: 'unchanged', koperasi, meeting, document: previous };
  // A new token with new content: a link to the old file stops working when it is replaced.
  const token = previous && previous.sha256 === sha256 ? previous.token : randomBytes(24).toString('base64url');
  const audit = auditRow({
    actor: input.actor,
    action: 'rat.document_attach',
    koperasiId: koperasi.id,
    detail: { meetingId: meeting.id, kind: input.kind, fileName, mimeType: type.mimeType, size: input.bytes.length, sha256, replaced: previous !== null, ...(input.via ? { via: input.via } : {}) },
  });
  const document = await domain.documents.put({
    meetingId: meeting.id,
    kind: input.kind,
    fileName,
    mimeType: type.mimeType,
    sha256,
    token,
    attachedBy: input.actor,
    attachedAt: input.now,
    content: input.bytes,
    audit,
  });
  return { status: previous ? 'replaced' : 'attached', koperasi, meeting, document };
}

/**
 * The RAT document of this kind a member of the cooperative may receive: the current RAT's; for
 * the report, when the current RAT has none yet, the latest earlier RAT's (the last report
 * approved is still the cooperative's latest account). An old invitation is never offered: it
 * names a meeting that has passed. `meeting` is the current RAT either way (to say its date).
 */
export async function ratDocumentFor(
  domain: Pick<Domain, 'meetings' | 'documents'>,
  input: { koperasiId: number; kind: MeetingDocumentKind; now: Date },
): Promise<{ document: MeetingDocumentRecord; of: MeetingRecord; current: MeetingRecord | null } | { document: null; current: MeetingRecord | null }> {
  const current = await currentRat(domain, input.koperasiId, input.now);
  if (current) {
    const document = await domain.documents.of(current.id, input.kind);
    if (document) return { document, of: current, current };
  }
  if (input.kind === 'REPORT') {
    const earlier = await domain.documents.latestOf(input.koperasiId, 'REPORT', current?.startsAt);
    if (earlier) return { document: earlier.document, of: earlier.meeting, current };
  }
  return { document: null, current };
}

/** A document's bytes, by id (a channel sending it) or by its link's token (the web link). */
export function ratDocumentContent(domain: Pick<Domain, 'documents'>, by: { id: number } | { token: string }): Promise<{ document: MeetingDocumentRecord; bytes: Buffer } | null> {
  if ('token' in by && !/^[A-Za-z0-9_-]{20,64}$/.test(by.token)) return Promise.resolve(null);
  return domain.documents.content(by);
}
