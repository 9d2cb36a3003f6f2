/** The normalised messages that flow between channels and the conversation core. */
import type { Language } from './format.ts';

export type ChatType = 'private' | 'group';

export type PhoneProof = 'sender' | 'contact' | 'session' | 'link';

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
  /**
   * How the channel verified that phone: 'phone' for a sender number the platform vouches for
   * on every message (WhatsApp, the terminal), 'contact' for a contact the sender shared of
   * themselves (Telegram's request-contact button).
   */
  phoneVerifiedBy?: 'phone' | 'contact';
  /**
   * The channel vouches for a phone once, by a shared contact, not on every message: the phone
   * stored for this identity stays verified until a new contact replaces it (Telegram).
   */
  keepsVerifiedPhone?: boolean;
  /**
   * Set by the core: how verifiedPhone is proven. Numbers are recycled, so a phone the channel
   * vouched for once (a Telegram contact) counts only while this holds:
   * - 'sender': the platform vouches for it on this very message (WhatsApp's sender number, the terminal);
   * - 'contact': the sender's own contact, shared in this message;
   * - 'session': the sender's own contact, shared earlier in this conversation session;
   * - 'link': a link to a member made by this phone still matches the cooperative's file.
   * A code proves the member, never the phone.
   */
  phoneProof?: PhoneProof;
  /**
   * Set by the core: the members the proof of verifiedPhone covers. Absent when the platform
   * vouches for the phone on this very message (every member with it on file now); for a proof
   * from earlier in the session, the members it was on file for then; for a link, the linked
   * member only. Reaching any other member with that phone needs a fresh contact.
   */
  phoneCovers?: readonly number[];
  /** Set by the core, with phoneCovers: the officers a session proof covers (see SessionData.provenOfficers). */
  phoneOfficers?: readonly number[];
  /**
   * Set by the core: the phone this identity once proved (a Telegram contact) and that is not
   * proven now. Enough to recognise an officer and ask for the contact again; never to act on.
   */
  rememberedPhone?: string;
  /**
   * The sender's identity key is the phone number itself (a WhatsApp sender known by phone JID
   * only, no LID): the identity passes to whoever holds the number next. A link made by an
   * activation code would pass with it, so the code route is refused for such a sender; the
   * sender number alone still verifies a member who has it on file, on every message.
   */
  identityIsNumber?: boolean;
  /** The channel can show a "share my phone number" button (Telegram private chats). */
  canRequestContact?: boolean;
  /**
   * A contact card the sender shared. `own` only when the platform says it is the sender's own
   * (Telegram: the contact's user_id is the sender's); anyone else's contact verifies nothing.
   */
  contact?: { phone: string; own: boolean };
  /** A button press: the menu it belongs to and the option's key. */
  button?: { menu: string; key: string };
  /** Something the bot cannot read (a voice note, a photo without caption, a location…). */
  unsupported?: boolean;
  /**
   * A file the sender attached (a PDF, a photo sent as a file). A member's file is not read: its
   * caption is the message's `text`, and without one the message is `unsupported`. A board
   * member's RAT report or invitation is (src/officer/rat-documents.ts). The bytes are fetched
   * only when wanted, and only when `size` is within the limit.
   */
  document?: InboundDocument;
  /** The sender's display name on the platform, used only for a greeting. */
  displayName?: string;
}

export interface InboundDocument {
  fileName: string;
  /** As the sender's app declared it: a hint only, the content decides. */
  mimetype: string;
  /** Bytes, as the platform declared it (checked again on the bytes fetched). */
  size: number;
  caption?: string;
  fetch(): Promise<Buffer>;
}

/**
 * A document a reply carries (a RAT report): what channels need to send it. The bytes are not
 * in the reply (replies are kept, as Telegram's decided replies, and a 10 MB report held in
 * every one would not do): a channel fetches them by `id` when it sends (Services.documents),
 * the terminal shows the web link made from `token`.
 */
export interface ReplyDocument {
  id: number;
  fileName: string;
  mimetype: string;
  size: number;
  /** The unguessable part of the document's web link (/dokumen/<token>). */
  token: string;
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
  /** The flow node whose question the options answer, so a button press can say which. */
  menu?: string;
  /**
   * Parts of the text that came from data (a name, a complaint) and contain markup characters:
   * a channel that turns *x* into bold must show these exactly as they are.
   */
  literals?: string[];
  /** The "share my phone number" keyboard offered earlier has done its work: take it away. */
  removeKeyboard?: boolean;
  /** Offer a "share my phone number" button with this label, where the channel can. */
  requestContact?: { label: string };
  /** A document sent with this reply, its text the caption (WhatsApp, Telegram) or a link under the text (terminal). */
  document?: ReplyDocument;
}

export interface ReplyBatch {
  replies: Reply[];
  language: Language;
}
