/**
 * Replies as WhatsApp users expect them: plain text, menus as numbered lines ("1. Cek
 * simpanan"), the catalogue's *bold* left to WhatsApp, and long texts cut into messages of a
 * readable length. Interactive buttons and lists cannot be sent any more (removed upstream).
 */
import type { Reply, ReplyDocument } from '../../core/message.ts';
import { renderPlainText, splitText } from '../plain-text.ts';

/**
 * WhatsApp accepts far longer messages, but a wall of text on a phone is unreadable and some
 * older clients truncate: split at about a screenful and a half.
 */
export const WHATSAPP_TEXT_LIMIT = 3000;

/** Look-alikes for WhatsApp's markup characters, used only inside data that would otherwise be formatted. */
const LOOK_ALIKES: Record<string, string> = { '*': '\u2217', _: '\u02cd', '~': '\u223c', '`': '\u02cb' };

/**
 * A name like "Siti *Bu* Aminah" or a complaint with "_x_" would turn bold or italic on
 * WhatsApp, which has no escape character. Inside such data (Reply.literals), a marker that
 * appears at least twice is replaced by a look-alike; a lone "*" cannot format and stays.
 */
export function protectLiterals(text: string, literals: readonly string[] = []): string {
  let out = text;
  for (const literal of [...literals].sort((a, b) => b.length - a.length)) {
    let safe = literal;
    for (const [marker, lookAlike] of Object.entries(LOOK_ALIKES)) {
      if (safe.split(marker).length > 2) safe = safe.replaceAll(marker, lookAlike);
    }
    if (safe !== literal) out = out.split(literal).join(safe);
  }
  return out;
}

/** One reply as the texts of one or more WhatsApp messages. */
export function renderWhatsAppReply(reply: Reply): string[] {
  const text = protectLiterals(renderPlainText(reply), reply.literals);
  if (text.trim() === '') return [];
  return splitText(text, WHATSAPP_TEXT_LIMIT);
}

/** What one WhatsApp message carries: a text, or a document with the reply's text as its caption. */
export type WhatsAppPiece = string | { document: ReplyDocument; caption: string };

/** One reply as WhatsApp messages: a document (RAT report) with its text as the caption, else texts. */
export function renderWhatsAppPieces(reply: Reply): WhatsAppPiece[] {
  if (!reply.document) return renderWhatsAppReply(reply);
  return [{ document: reply.document, caption: protectLiterals(renderPlainText(reply), reply.literals) }];
}
