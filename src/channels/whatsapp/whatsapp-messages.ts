/**
 * Baileys message objects → what the conversation core reads. Pure functions, so the rules
 * (what a service bot ignores, where the text is, who the sender is) are tested on real
 * `proto.WebMessageInfo` objects without a socket.
 */
import {
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isJidStatusBroadcast,
  isLidUser,
  isPnUser,
  jidDecode,
  jidNormalizedUser,
  normalizeMessageContent,
  type proto,
  type WAMessage,
  type WAMessageKey,
} from '@whiskeysockets/baileys';
import { z } from 'zod';
import type { ChatType } from '../../core/message.ts';
import { phoneFromInternational } from '../../core/phone.ts';

export const WHATSAPP_CHANNEL = 'whatsapp';

/** A message worth answering, before the sender's identity is worked out. */
export interface WhatsAppIncoming {
  id: string;
  key: WAMessageKey;
  /** Where the answer goes: the JID exactly as received (a phone JID, a LID or a group). */
  chatJid: string;
  chatType: ChatType;
  /** Who wrote it (in a group: the participant), device suffix removed. */
  senderJid: string;
  /** The sender's other address (phone for a LID, LID for a phone), as WhatsApp's server sent it. */
  senderAltJid?: string;
  text?: string;
  contact?: { phone: string };
  unsupported?: boolean;
  /** A file sent as a document (documentMessage): what it says of itself; the bytes are downloaded only if wanted. */
  document?: { fileName: string; mimetype: string; size: number; caption?: string };
  displayName?: string;
  /** Seconds since the epoch, as WhatsApp stamped it. */
  timestamp?: number;
}

export type IgnoreReason =
  | 'empty'
  | 'own'
  | 'status'
  | 'broadcast'
  | 'newsletter'
  | 'protocol'
  | 'reaction'
  | 'poll_vote'
  | 'edit'
  | 'system'
  | 'unknown_chat';

export type ReadResult = { ok: true; message: WhatsAppIncoming } | { ok: false; reason: IgnoreReason };

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value && typeof value === 'object' && 'toNumber' in value && typeof (value as { toNumber: unknown }).toNumber === 'function') {
    return (value as { toNumber(): number }).toNumber();
  }
  return undefined;
}

const ZNativeFlowParams = z.object({ id: z.string().min(1) }).loose();

/** The phone number in a shared contact card (WhatsApp writes `TEL;waid=628…:+62 …`). */
export function phoneFromVcard(vcard: string): string | undefined {
  const waid = /waid=(\d{6,15})/i.exec(vcard);
  if (waid) return waid[1];
  const tel = /^TEL[^:\n]*:([+\d][\d\s().-]{5,24})$/im.exec(vcard);
  return tel ? tel[1]!.replace(/\D/g, '') : undefined;
}

function contentOf(content: proto.IMessage): Pick<WhatsAppIncoming, 'text' | 'contact' | 'unsupported' | 'document'> | IgnoreReason {
  if (content.protocolMessage) return 'protocol'; // deletes, edits, key shares, history-sync notices
  if (content.reactionMessage || content.encReactionMessage) return 'reaction';
  if (content.pollUpdateMessage) return 'poll_vote';
  if (content.editedMessage) return 'edit';
  if (typeof content.conversation === 'string') return { text: content.conversation };
  if (content.extendedTextMessage) return { text: content.extendedTextMessage.text ?? '' }; // links, quoted replies
  // Answers to buttons and lists: sent by older clients and business tools; the label is what the member chose.
  const buttons = content.buttonsResponseMessage;
  if (buttons) return { text: buttons.selectedDisplayText ?? buttons.selectedButtonId ?? '' };
  const list = content.listResponseMessage;
  if (list) return { text: list.title ?? list.singleSelectReply?.selectedRowId ?? '' };
  const template = content.templateButtonReplyMessage;
  if (template) return { text: template.selectedDisplayText ?? template.selectedId ?? '' };
  const interactive = content.interactiveResponseMessage;
  if (interactive) {
    const params = interactive.nativeFlowResponseMessage?.paramsJson;
    if (params) {
      try {
        const parsed = ZNativeFlowParams.safeParse(JSON.parse(params));
        if (parsed.success) return { text: parsed.data.id };
      } catch {
        // not JSON: fall through to the body text
      }
    }
    return { text: interactive.body?.text ?? '' };
  }
  // A document: a board member's RAT report is attached (the desk); a member's file is not
  // read, its caption is (as text), and without one the member gets the "text only" sentence.
  const file = content.documentMessage;
  if (file) {
    const size = toNumber(file.fileLength) ?? 0;
    const caption = file.caption ? file.caption.slice(0, 1_000) : undefined;
    return {
      ...(caption ? { text: caption } : { unsupported: true }),
      document: { fileName: (file.fileName ?? file.title ?? '').slice(0, 200), mimetype: file.mimetype ?? '', size, ...(caption ? { caption } : {}) },
    };
  }
  const media = content.imageMessage ?? content.videoMessage;
  if (media?.caption) return { text: media.caption };
  const card = content.contactMessage ?? content.contactsArrayMessage?.contacts?.[0];
  if (card) {
    const phone = card.vcard ? phoneFromVcard(card.vcard) : undefined;
    return phone ? { contact: { phone } } : { unsupported: true };
  }
  // Something a person sent that the bot cannot read: it says so. Anything else (key material,
  // pins, "keep in chat", context-only envelopes, future types) is not a message to answer.
  if (UNREADABLE.some((kind) => content[kind])) return { unsupported: true };
  return 'protocol';
}

const UNREADABLE = [
  'audioMessage',
  'stickerMessage',
  'imageMessage',
  'videoMessage',
  'ptvMessage',
  'documentMessage',
  'locationMessage',
  'liveLocationMessage',
  'pollCreationMessage',
  'pollCreationMessageV2',
  'pollCreationMessageV3',
  'eventMessage',
  'groupInviteMessage',
  'productMessage',
  'orderMessage',
] as const satisfies readonly (keyof proto.IMessage)[];

/**
 * Read one message of a `messages.upsert` batch. Returns why it is ignored when a service bot
 * must not answer it: its own messages, status updates, broadcast lists, channels, reactions,
 * protocol and system messages, edits and poll votes.
 */
export function readWhatsAppMessage(message: WAMessage): ReadResult {
  const key = message.key;
  const remoteJid = key?.remoteJid;
  if (!key || !remoteJid) return { ok: false, reason: 'empty' };
  if (key.fromMe) return { ok: false, reason: 'own' };
  if (isJidStatusBroadcast(remoteJid)) return { ok: false, reason: 'status' };
  if (isJidNewsletter(remoteJid)) return { ok: false, reason: 'newsletter' };
  if (isJidBroadcast(remoteJid)) return { ok: false, reason: 'broadcast' };
  if (!message.message) return { ok: false, reason: message.messageStubType ? 'system' : 'empty' };
  // Checked before unwrapping, which would make an edit look like a new message.
  if (message.message.editedMessage) return { ok: false, reason: 'edit' };
  const content = normalizeMessageContent(message.message);
  if (!content) return { ok: false, reason: 'empty' };
  const read = contentOf(content);
  if (typeof read === 'string') return { ok: false, reason: read };

  const group = isJidGroup(remoteJid) === true;
  const sender = group ? key.participant : remoteJid;
  if (!sender || !(isPnUser(sender) || isLidUser(sender))) return { ok: false, reason: 'unknown_chat' };
  const alt = group ? key.participantAlt : key.remoteJidAlt;
  const incoming: WhatsAppIncoming = {
    id: key.id ?? '',
    key,
    chatJid: remoteJid,
    chatType: group ? 'group' : 'private',
    senderJid: jidNormalizedUser(sender),
    ...(alt && (isPnUser(alt) || isLidUser(alt)) ? { senderAltJid: jidNormalizedUser(alt) } : {}),
    ...read,
  };
  if (message.pushName) incoming.displayName = message.pushName.slice(0, 100);
  const timestamp = toNumber(message.messageTimestamp);
  if (timestamp !== undefined) incoming.timestamp = timestamp;
  return { ok: true, message: incoming };
}

/** The digits of a phone JID ("6281…@s.whatsapp.net" → "6281…"); undefined for anything else. */
export function phoneOfJid(jid: string | null | undefined): string | undefined {
  if (!jid || !isPnUser(jid)) return undefined;
  const user = jidDecode(jid)?.user;
  // Already international ("6281…"): taken as it is. A number from abroad ("81…", Japan) stays
  // what it is and matches no member's phone, which are stored as 62….
  return user ? phoneFromInternational(user) : undefined;
}

export interface SenderIdentity {
  /** The identity key: the LID when known (it stays with the WhatsApp account when a number is recycled), else the phone JID. */
  externalUserId: string;
  /** The sender's phone as WhatsApp vouches for it; undefined when only a LID is known. */
  phone?: string;
  lid?: string;
}

/** Finds the phone behind a LID with what Baileys has learnt (its LID mapping store). */
export type LidToPhone = (lid: string) => Promise<string | null | undefined>;
/** Finds the LID Baileys has stored for a phone JID (no network lookup). */
export type PhoneToLid = (phoneJid: string) => Promise<string | null | undefined>;

/**
 * Who sent a message. A phone comes only from a phone JID: the sender's own, the alternate one
 * WhatsApp's server attached, or Baileys' LID→phone mapping. A LID is never read as a number.
 */
export async function identifySender(
  incoming: Pick<WhatsAppIncoming, 'senderJid' | 'senderAltJid'>,
  lookups: { lidToPhone?: LidToPhone; phoneToLid?: PhoneToLid } = {},
): Promise<SenderIdentity> {
  const { lidToPhone, phoneToLid } = lookups;
  const { senderJid, senderAltJid } = incoming;
  let phoneJid: string | undefined;
  let lid: string | undefined;
  if (isLidUser(senderJid)) {
    lid = senderJid;
    if (senderAltJid && isPnUser(senderAltJid)) phoneJid = senderAltJid;
    else if (lidToPhone) {
      const mapped = await lidToPhone(senderJid).catch(() => null);
      if (mapped && isPnUser(mapped)) phoneJid = jidNormalizedUser(mapped);
    }
  } else {
    phoneJid = senderJid;
    if (senderAltJid && isLidUser(senderAltJid)) lid = senderAltJid;
    else if (phoneToLid) {
      // Keyed by the LID whenever one is known, so a recycled number meets a new identity.
      const mapped = await phoneToLid(senderJid).catch(() => null);
      if (mapped && isLidUser(mapped)) lid = jidNormalizedUser(mapped);
    }
  }
  const phone = phoneOfJid(phoneJid);
  return {
    externalUserId: lid ?? phoneJid ?? senderJid,
    ...(phone ? { phone } : {}),
    ...(lid ? { lid } : {}),
  };
}
