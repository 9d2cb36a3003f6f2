/**
 * The terminal channel behind `kopbot chat --as PHONE`: one message per input line, the bot's
 * replies, then a line `---`. The phone given on the command line counts as verified, like
 * WhatsApp's sender number, so scripted conversations exercise the same identity rules.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ConversationEngine } from '../../core/engine.ts';
import { formatFileSize } from '../../core/format.ts';
import type { InboundMessage, Reply } from '../../core/message.ts';
import { documentLink } from '../../http/rat-documents.ts';
import { renderPlainText } from '../plain-text.ts';

export const TERMINAL_CHANNEL = 'terminal';
export const END_OF_ANSWER = '---';

export function terminalMessage(phone: string, text: string): InboundMessage {
  return { channel: TERMINAL_CHANNEL, externalUserId: phone, chatId: phone, chatType: 'private', text, verifiedPhone: phone };
}

/** Where the service answers document links when nobody says (HOST unset, PORT's default). */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:3000';

export interface TerminalOptions {
  /** The service's address (http://HOST:PORT): a document is shown as a link to it. */
  baseUrl?: string;
}

/** A reply as the terminal shows it: its text, and a document as a link the service answers. */
export function renderTerminalReply(reply: Reply, options: TerminalOptions = {}): string {
  const text = renderPlainText(reply);
  const doc = reply.document;
  if (!doc) return text;
  const link = `📄 ${doc.fileName} (${formatFileSize(doc.size)}): ${documentLink(options.baseUrl ?? DEFAULT_BASE_URL, doc.token)}`;
  return text === '' ? link : `${text}\n${link}`;
}

/** Answer one line as the holder of phone; returns the text written for it (without the ---). */
export async function answerLine(engine: ConversationEngine, phone: string, line: string, options: TerminalOptions = {}): Promise<string[]> {
  if (line.trim() === '') return [];
  const batch = await engine.handle(terminalMessage(phone, line));
  return batch.replies.map((reply) => renderTerminalReply(reply, options));
}

export async function runTerminalChat(options: {
  engine: ConversationEngine;
  phone: string;
  input: Readable;
  output: Writable;
} & TerminalOptions): Promise<number> {
  const lines = createInterface({ input: options.input, crlfDelay: Infinity, terminal: false });
  const { output } = options;
  // The reader may go away (`kopbot chat … | head`): stop quietly instead of dying on EPIPE.
  let gone = false;
  const stop = () => {
    gone = true;
    lines.close();
  };
  output.on('error', stop);
  output.on('close', stop);
  let count = 0;
  try {
    // Lines are answered one at a time, in order: a conversation is a sequence.
    for await (const line of lines) {
      if (gone) break;
      const replies = await answerLine(options.engine, options.phone, line, options);
      const text = replies.length > 0 ? `${replies.join('\n\n')}\n${END_OF_ANSWER}\n` : `${END_OF_ANSWER}\n`;
      if (!output.write(text) && !gone) {
        await new Promise<void>((resolve) => {
          const done = () => {
            output.off('drain', done);
            output.off('error', done);
            output.off('close', done);
            resolve();
          };
          output.once('drain', done);
          output.once('error', done);
          output.once('close', done);
        });
      }
      count++;
    }
  } finally {
    output.off('error', stop);
    output.off('close', stop);
  }
  return count;
}
