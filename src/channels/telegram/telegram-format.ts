/**
 * Replies as Telegram shows them: HTML text (escaped, so a member called "Siti_Aminah *" or a
 * complaint with "<" cannot break a message), menus as inline keyboards, the contact request as
 * a one-time reply keyboard, and long texts split under Telegram's 4,096-character limit.
 */
import type { InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove } from 'telegraf/types';
import type { Reply, ReplyDocument } from '../../core/message.ts';
import { renderPlainText, splitText } from '../plain-text.ts';

export { splitText };

/** Telegram's limit is 4,096 UTF-16 units of visible text; a margin keeps clear of it. */
export const TELEGRAM_TEXT_LIMIT = 4000;
/** callback_data may hold at most 64 bytes. */
const CALLBACK_DATA_LIMIT = 64;

export interface OutgoingMessage {
  text: string;
  parse_mode: 'HTML';
  reply_markup?: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove;
  /** Sent with sendDocument, `text` its caption; the bytes are read when it is sent (see Reply.document). */
  document?: ReplyDocument;
  /** Other sendMessage parameters (reply_parameters in a group). */
  [parameter: string]: unknown;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The flows write WhatsApp's *bold*; on Telegram it becomes <b>bold</b>. Only a pair on one
 * line that opens after a space or punctuation and closes before one counts, so a lone "*" in a
 * name stays a "*". Text is escaped first and the tags come only in pairs: the HTML is always
 * valid, whatever the text holds.
 */
export function toTelegramHtml(text: string, literals: readonly string[] = []): string {
  // Asterisks inside data (a member called "Siti *Bu*") are hidden from the bold rule, then restored.
  let masked = text;
  for (const literal of [...literals].sort((a, b) => b.length - a.length)) {
    if (literal.includes('*')) masked = masked.split(literal).join(literal.replaceAll('*', LITERAL_STAR));
  }
  return escapeHtml(masked)
    .replace(/(^|[\s([{"'“‘.,;:!?-])\*(?=\S)([^*\n]*?\S)\*(?=$|[\s)\]}"'”’.,;:!?-])/gmu, (_, before: string, inner: string) => `${before}<b>${inner}</b>`)
    .replaceAll(LITERAL_STAR, '*');
}

/** A private-use character standing in for a data asterisk while bold is converted. */
const LITERAL_STAR = '\uE02A';

function callbackData(menu: string, key: string): string | null {
  const data = `${menu}|${key}`;
  return Buffer.byteLength(data) <= CALLBACK_DATA_LIMIT ? data : null;
}

/** One reply as one or more Telegram messages; a keyboard goes with the last piece. */
export function renderReply(reply: Reply, options: { removeKeyboard?: boolean } = {}): OutgoingMessage[] {
  const hasOptions = reply.options !== undefined && reply.options.length > 0;
  const buttons =
    hasOptions && reply.menu
      ? reply.options!.map((option) => {
          const data = callbackData(reply.menu!, option.key);
          return data ? [{ text: option.label, callback_data: data }] : null;
        })
      : null;
  const useButtons = buttons !== null && buttons.every((row) => row !== null) && reply.text.trim() !== '';
  // Without buttons (or without a question to hang them on) the options are numbered lines.
  const text = useButtons ? reply.text : renderPlainText(reply);
  if (reply.document) {
    // One piece: the document with the text as its caption (the channel sends a long text after it).
    return [{ text: toTelegramHtml(text, reply.literals), parse_mode: 'HTML', document: reply.document, ...(options.removeKeyboard ? { reply_markup: { remove_keyboard: true } } : {}) }];
  }
  if (text.trim() === '') return []; // Telegram refuses an empty message
  const pieces = splitText(text, TELEGRAM_TEXT_LIMIT).map((piece): OutgoingMessage => ({ text: toTelegramHtml(piece, reply.literals), parse_mode: 'HTML' }));
  const last = pieces[pieces.length - 1]!;
  if (useButtons) {
    last.reply_markup = { inline_keyboard: buttons as { text: string; callback_data: string }[][] };
  } else if (reply.requestContact) {
    last.reply_markup = {
      keyboard: [[{ text: reply.requestContact.label, request_contact: true }]],
      one_time_keyboard: true,
      resize_keyboard: true,
    };
  } else if (options.removeKeyboard) {
    last.reply_markup = { remove_keyboard: true };
  }
  return pieces;
}
