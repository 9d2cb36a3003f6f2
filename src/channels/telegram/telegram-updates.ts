/**
 * Telegram updates → the core's normalised messages. Only what the bot serves is read: text and
 * commands, captions, a sticker's emoji, shared contacts and presses of the bot's own buttons.
 * Everything is checked with zod first; an update of another kind (an edit, a channel post, a
 * member joining a group) yields nothing.
 */
import { z } from 'zod';
import type { InboundMessage } from '../../core/message.ts';
import { phoneFromInternational } from '../../core/phone.ts';

export const TELEGRAM_CHANNEL = 'telegram';

const ZUser = z.object({ id: z.number().int(), is_bot: z.boolean().optional(), first_name: z.string().optional(), language_code: z.string().optional() });
const ZChat = z.object({ id: z.number().int(), type: z.enum(['private', 'group', 'supergroup', 'channel']) });
const ZMessage = z.object({
  message_id: z.number().int(),
  from: ZUser.optional(),
  chat: ZChat,
  date: z.number().optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  contact: z.object({ phone_number: z.string(), user_id: z.number().int().optional(), first_name: z.string().optional() }).optional(),
  sticker: z.object({ emoji: z.string().optional() }).optional(),
  forward_origin: z.unknown().optional(),
  forward_date: z.number().optional(),
  photo: z.unknown().optional(),
  voice: z.unknown().optional(),
  audio: z.unknown().optional(),
  video: z.unknown().optional(),
  video_note: z.unknown().optional(),
  document: z.object({ file_id: z.string(), file_name: z.string().optional(), mime_type: z.string().optional(), file_size: z.number().optional() }).loose().optional(),
  location: z.unknown().optional(),
  animation: z.unknown().optional(),
});
const ZUpdate = z.object({
  update_id: z.number().int(),
  message: ZMessage.optional(),
  callback_query: z
    .object({
      id: z.string(),
      from: ZUser,
      message: z.object({ message_id: z.number().int().optional(), chat: ZChat }).optional(),
      data: z.string().optional(),
    })
    .optional(),
});

/**
 * What a webhook body must be before it reaches telegraf: an update object with its id. The
 * rest is kept as sent (telegraf reads it) and checked by parseUpdate.
 */
export const ZWebhookUpdate = z.looseObject({ update_id: z.number().int().nonnegative() });

export interface ParsedUpdate {
  updateId: number;
  message: InboundMessage;
  /** For a button press: the query to answer and the message its keyboard hangs on. */
  callback?: { id: string; messageId?: number };
  /** The message to answer in a group, so the pointer is clearly a reply to it. */
  replyTo?: number;
  /**
   * A file sent in a private chat (message.document): the channel gives the core a way to
   * download it (getFile), as InboundMessage.document.
   */
  file?: { fileId: string; fileName: string; mimetype: string; size: number; caption?: string };
}

/** "/saldo@KopBot extra" → "saldo extra"; "/start payload" → "start". Another bot's command → null. */
export function commandText(text: string, botUsername: string | undefined): string | null {
  const match = /^\/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return text;
  const [, command, addressee, rest] = match;
  if (addressee && botUsername && addressee.toLowerCase() !== botUsername.toLowerCase()) return null;
  const word = command!.toLowerCase();
  // /start carries a deep-link payload, not words for the bot.
  if (word === 'start') return 'start';
  return rest ? `${word} ${rest}` : word;
}

/** Telegram gives the contact's number in international form ("6281…", sometimes "+62 81…"). */
function phoneOf(raw: string): string {
  return phoneFromInternational(raw) ?? raw.replace(/\D/g, '');
}

/** Parse one update; null when it is not something the bot answers. */
export function parseUpdate(raw: unknown, botUsername?: string): ParsedUpdate | null {
  const parsed = ZUpdate.safeParse(raw);
  if (!parsed.success) return null;
  const update = parsed.data;

  if (update.callback_query) {
    const query = update.callback_query;
    const chat = query.message?.chat;
    if (!chat || chat.type === 'channel' || query.from.is_bot) return null;
    const data = /^([a-z][a-z0-9_]*)\|([0-9A-Za-z]{1,8})$/.exec(query.data ?? '');
    const chatType = chat.type === 'private' ? 'private' : 'group';
    const message: InboundMessage = {
      channel: TELEGRAM_CHANNEL,
      externalUserId: String(query.from.id),
      chatId: String(chat.id),
      chatType,
      text: data ? data[2]! : '',
      keepsVerifiedPhone: true,
      canRequestContact: chatType === 'private',
      // Data the bot never sent (an old version's keyboard) counts as a stale button.
      button: data ? { menu: data[1]!, key: data[2]! } : { menu: '', key: '' },
      ...(query.from.first_name ? { displayName: query.from.first_name } : {}),
    };
    return { updateId: update.update_id, message, callback: { id: query.id, messageId: query.message?.message_id } };
  }

  const m = update.message;
  if (!m?.from || m.from.is_bot || m.chat.type === 'channel') return null;
  const chatType = m.chat.type === 'private' ? 'private' : 'group';
  const base: InboundMessage = {
    channel: TELEGRAM_CHANNEL,
    externalUserId: String(m.from.id),
    chatId: String(m.chat.id),
    chatType,
    keepsVerifiedPhone: true,
    canRequestContact: chatType === 'private',
    ...(m.from.first_name ? { displayName: m.from.first_name } : {}),
  };
  const result = (message: InboundMessage): ParsedUpdate => ({
    updateId: update.update_id,
    message,
    ...(chatType === 'group' ? { replyTo: m.message_id } : {}),
  });

  if (m.contact) {
    if (chatType !== 'private') return null; // a phone number in a group is nobody's verification
    const forwarded = m.forward_origin !== undefined || m.forward_date !== undefined;
    const own = !forwarded && m.contact.user_id === m.from.id;
    const phone = phoneOf(m.contact.phone_number);
    return result({
      ...base,
      text: '',
      contact: { phone, own },
      // Telegram vouches for the number only when the contact is the sender's own account.
      ...(own ? { verifiedPhone: phone, phoneVerifiedBy: 'contact' as const } : {}),
    });
  }
  if (m.document && chatType === 'private') {
    // A board member's RAT report is attached (the desk); a member's file is not read, its
    // caption is (as text), and without one the member gets the "text only" sentence.
    const { file_id, file_name, mime_type, file_size } = m.document;
    const caption = m.caption ? m.caption.slice(0, 1_000) : undefined;
    const file = { fileId: file_id, fileName: (file_name ?? '').slice(0, 200), mimetype: mime_type ?? '', size: file_size ?? 0, ...(caption ? { caption } : {}) };
    return { ...result({ ...base, ...(caption ? { text: caption } : { text: '', unsupported: true }) }), file };
  }
  const text = m.text ?? m.caption ?? m.sticker?.emoji;
  if (text !== undefined) {
    const command = m.text !== undefined ? commandText(text, botUsername) : text;
    if (command === null) return null;
    return result({ ...base, text: command });
  }
  if (chatType === 'group') return null; // photos and voice notes between members are not for the bot
  const media = m.photo ?? m.voice ?? m.audio ?? m.video ?? m.video_note ?? m.document ?? m.location ?? m.animation ?? m.sticker;
  if (media === undefined) return null; // service messages (a title changed, a pin…)
  return result({ ...base, text: '', unsupported: true });
}
