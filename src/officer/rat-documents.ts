/**
 * A board member sends the RAT report or invitation to the bot in the officer chat: it is
 * attached to the cooperative's RAT (attachRatDocument, the same operation as `kopbot rat
 * attach`). The caption decides: "undangan" (or an invitation's name) is the invitation,
 * anything else the report; a year in the caption ("laporan RAT 2025") picks that book year's
 * RAT, else the current one. The declared size is checked before anything is downloaded.
 *
 * One function returning an outcome and the texts' values, like a flow action ({outcome,
 * vars}): the officer flows call it as `officer.attach_document` (src/officer/actions.ts), and
 * flows/officer.yaml's officer_document node says the outcome's text.
 */
import { formatDateTime, formatFileSize, type Language } from '../core/format.ts';
import type { InboundDocument } from '../core/message.ts';
import type { TextKey } from '../core/texts.ts';
import { isDomainError } from '../domain/errors.ts';
import type { Domain, OfficerRecord } from '../domain/ports.ts';
import { attachRatDocument, checkDocumentSize, documentKindOf } from '../domain/rat-documents.ts';

export type BoardDocumentOutcome = 'attached' | 'replaced' | 'unchanged' | 'refused' | 'not_downloaded' | 'no_board';

export interface BoardDocumentResult {
  outcome: BoardDocumentOutcome;
  /** The values of the outcome's text (flows/officer.yaml, officer_document_<outcome>). */
  vars: Record<string, string>;
}

/** A book year named in the caption ("laporan RAT tahun buku 2025", "undangan rat 2026"). */
function bookYearIn(caption: string | undefined): number | undefined {
  const year = caption ? /\b(20\d\d)\b/.exec(caption)?.[1] : undefined;
  return year ? Number(year) : undefined;
}

/**
 * Attach a document a board member sent by chat to their cooperative's RAT. `board` is the
 * officer the desk has already found with a phone proven in this session (isBoard); `via` is the
 * channel identity that acted, for the audit.
 */
export async function receiveBoardDocument(
  domain: Domain,
  input: {
    board: OfficerRecord | undefined;
    document: InboundDocument;
    via: Record<string, unknown>;
    now: Date;
    language: Language;
    /** The conversation's texts (ActionContext.t). */
    t(key: TextKey, vars?: Record<string, string>): string;
  },
): Promise<BoardDocumentResult> {
  const { board, document, language, t } = input;
  if (!board?.koperasi) return { outcome: 'no_board', vars: {} };
  const kind = documentKindOf(document.caption ?? document.fileName);
  const what = t(kind === 'INVITATION' ? 'rat_document.title_invitation' : 'rat_document.title_report');
  const ask = kind === 'INVITATION' ? 'undangan rat' : 'laporan rat';
  const howTo = t(kind === 'INVITATION' ? 'officer.document_how_to_invitation' : 'officer.document_how_to_report');
  let bytes: Buffer;
  try {
    // Too big by what the platform says: refused before a byte is downloaded.
    if (document.size > 0) checkDocumentSize(document.size);
    bytes = await document.fetch();
  } catch (error) {
    if (isDomainError(error)) return { outcome: 'refused', vars: { reason: error.message } };
    return { outcome: 'not_downloaded', vars: { file_name: document.fileName } };
  }
  try {
    const bookYear = bookYearIn(document.caption);
    const attached = await attachRatDocument(domain, {
      koperasiCode: board.koperasi.code,
      kind,
      bytes,
      fileName: document.fileName,
      ...(bookYear !== undefined ? { bookYear } : {}),
      actor: `officer:${board.id}`,
      via: input.via,
      now: input.now,
    });
    const { meeting, koperasi } = attached;
    return {
      outcome: attached.status,
      vars: {
        what,
        book_year: meeting.bookYear === null ? '' : t('rat_document.book_year', { book_year: String(meeting.bookYear) }),
        koperasi: koperasi.name,
        when: formatDateTime(meeting.startsAt, koperasi.timezone, language),
        file_name: attached.document.fileName,
        size: formatFileSize(attached.document.size, language),
        ask,
        how_to: howTo,
      },
    };
  } catch (error) {
    if (isDomainError(error)) return { outcome: 'refused', vars: { reason: error.message } };
    throw error;
  }
}
