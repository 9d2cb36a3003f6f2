/** Replies as plain text with a numbered menu (how WhatsApp and the terminal show them), and long texts cut into messages. */
import type { Reply } from '../core/message.ts';

export function renderPlainText(reply: Reply): string {
  if (!reply.options || reply.options.length === 0) return reply.text;
  const lines = reply.options.map((option) => `${option.key}. ${option.label}`);
  return reply.text === '' ? lines.join('\n') : `${reply.text}\n${lines.join('\n')}`;
}

/**
 * Cut a text into pieces of at most `limit` UTF-16 units: at a blank line if one is near the
 * end, else at a line break, else at a space, else anywhere but inside a surrogate pair (emoji).
 */
export function splitText(text: string, limit: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = -1;
    for (const separator of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(separator);
      if (at >= limit / 2) {
        cut = at;
        break;
      }
    }
    let next: number;
    if (cut >= 0) {
      next = cut;
    } else {
      next = limit;
      const code = rest.charCodeAt(next - 1);
      if (code >= 0xd800 && code <= 0xdbff) next -= 1; // keep an emoji's two halves together
    }
    pieces.push(rest.slice(0, next).trimEnd());
    rest = rest.slice(next).replace(/^\s+/, '');
  }
  if (rest.trim() !== '' || pieces.length === 0) pieces.push(rest);
  return pieces;
}
