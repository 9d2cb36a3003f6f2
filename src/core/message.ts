/** The normalised messages that flow between channels and the conversation core. */
import type { Language } from './format.ts';

export type ChatType = 'private' | 'group';

export interface InboundMessage {
  /** whatsapp, telegram, terminal, web */
  channel: string;
  /** Who sent it, in the channel's own terms (a phone JID, a Telegram user id, …). */
  externalUserId: string;
  /** Where to answer: the same as externalUserId in a private chat. */
  chatId: string;
  chatType: ChatType;
  text?: string;
  /**
   * A phone number the channel itself has verified belongs to the sender (WhatsApp's sender
   * number, a Telegram contact whose user_id is the sender's, the terminal's --as). Never set
   * from anything the user typed.
   */
  verifiedPhone?: string;
  /** The sender's display name on the platform, used only for a greeting. */
  displayName?: string;
}

export interface ReplyOption {
  /** What the member types (or the button sends) to pick it: "1", "2", … */
  key: string;
  label: string;
}

export interface Reply {
  text: string;
  /** A numbered choice; channels render it as text lines or buttons. */
  options?: ReplyOption[];
  /** Ask the channel to offer a "share my phone number" button where it can. */
  requestContact?: boolean;
}

export interface ReplyBatch {
  replies: Reply[];
  language: Language;
}
