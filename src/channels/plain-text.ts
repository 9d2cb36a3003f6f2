/** Replies as plain text with a numbered menu: how WhatsApp and the terminal show them. */
import type { Reply } from '../core/message.ts';

export function renderPlainText(reply: Reply): string {
  if (!reply.options || reply.options.length === 0) return reply.text;
  const lines = reply.options.map((option) => `${option.key}. ${option.label}`);
  return reply.text === '' ? lines.join('\n') : `${reply.text}\n${lines.join('\n')}`;
}
