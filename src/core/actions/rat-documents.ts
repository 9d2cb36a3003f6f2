/**
 * "laporan rat", "undangan rat": the RAT document itself, for a verified member of the
 * cooperative it belongs to (the flow node requires a member; the lookup is by ctx.member's own
 * cooperative). The document rides on the reply (Reply.document); each channel sends it its way.
 */
import { formatDateTime, formatFileSize } from '../format.ts';
import type { RatDocumentKind } from '../ports.ts';
import { requireMember, type Action, type ActionResult } from './types.ts';

export const sendRatDocument: Action = async (ctx): Promise<ActionResult> => {
  const member = requireMember(ctx);
  const kind: RatDocumentKind = ctx.args.kind === 'invitation' ? 'INVITATION' : 'REPORT';
  const { document, current } = await ctx.services.documents.ratDocument(member, kind, ctx.now);
  const year = (bookYear: number | null) => (bookYear === null ? '' : ctx.t('rat_document.book_year', { book_year: String(bookYear) }));
  if (!document) {
    const next = current
      ? ctx.t(current.startsAt > ctx.now ? 'rat_document.next_rat' : 'rat_document.last_rat', { when: formatDateTime(current.startsAt, member.timezone, ctx.language), place: current.place })
      : ctx.t('rat_document.no_rat');
    return { outcome: 'none', vars: { book_year: year(current?.bookYear ?? null), rat_line: next } };
  }
  return {
    vars: {
      title: ctx.t(kind === 'INVITATION' ? 'rat_document.title_invitation' : 'rat_document.title_report'),
      book_year: year(document.meeting.bookYear),
      when: formatDateTime(document.meeting.startsAt, member.timezone, ctx.language),
      place: document.meeting.place,
      file_name: document.fileName,
      size: formatFileSize(document.size, ctx.language),
    },
    document: { id: document.id, fileName: document.fileName, mimetype: document.mimeType, size: document.size, token: document.token },
  };
};
