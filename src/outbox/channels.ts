/**
 * The channels' outbound side for the outbox: where each can reach a member, and a send that
 * goes through the channel's own pacing (Telegram's flood limits, WhatsApp's slow jittered
 * pace), answering ok, a permanent refusal or a transient failure.
 */
import type { Writable } from 'node:stream';
import { displayPhone } from '../core/phone.ts';
import { renderReply } from '../channels/telegram/telegram-format.ts';
import { TelegramSendError, type TelegramSender } from '../channels/telegram/telegram-sender.ts';
import type { WhatsAppChannel } from '../channels/whatsapp/whatsapp-channel.ts';
import type { OutboundChannel, SendOutcome } from './dispatcher.ts';
import type { Recipient } from './outbox-store.ts';

function identityOf(recipient: Recipient, channel: string): string | null {
  return recipient.identities.find((identity) => identity.channel === channel)?.externalId ?? null;
}

/** Telegram: only members who verified on Telegram (a bot cannot write to someone who never started it). */
export function telegramOutbound(sender: TelegramSender): OutboundChannel {
  return {
    channel: 'telegram',
    reaches: 'identity',
    inFlight: 40, // the sender keeps Telegram's pace; this only bounds what waits inside it
    target: (recipient) => identityOf(recipient, 'telegram'),
    async send(chatId, text) {
      try {
        // Outbox sends take the bot's budget after members' replies.
        for (const piece of renderReply({ text })) await sender.send(chatId, 'sendMessage', piece, { kind: 'outbox' });
        return { ok: true };
      } catch (error) {
        // Cancelled by a shutdown: not the member's fault, costs the row no attempt.
        if (error instanceof TelegramSendError && error.reason === 'cancelled') return { ok: false, permanent: false, reason: error.reason, unavailable: true };
        if (error instanceof TelegramSendError) return { ok: false, permanent: error.permanent, reason: error.reason };
        return { ok: false, permanent: false, reason: (error as Error).message };
      }
    },
  };
}

/** WhatsApp: the member's phone on file (WhatsApp vouches for numbers, and most members never wrote first). */
export function whatsappOutbound(channel: WhatsAppChannel): OutboundChannel {
  return {
    channel: 'whatsapp',
    reaches: 'phone',
    inFlight: 1, // the channel paces one recipient at a time anyway
    target: (recipient) => recipient.phone,
    // Standing by while another instance holds the session: that one sends these.
    available: () => channel.status !== 'standby',
    async send(phone, text): Promise<SendOutcome> {
      const result = await channel.sendUnsolicited(phone, [{ text }]);
      if (result.status === 'sent') return { ok: true };
      return { ok: false, permanent: result.permanent, reason: result.reason, unavailable: result.reason === 'not_connected' };
    },
  };
}

/**
 * The terminal channel (`kopbot chat`) has no one listening between sessions: `outbox drain`
 * prints what it would deliver to members who used it, so a trial run shows the messages.
 */
export function terminalOutbound(output: Writable): OutboundChannel {
  return {
    channel: 'terminal',
    reaches: 'identity',
    target: (recipient) => identityOf(recipient, 'terminal'),
    async send(phone, text) {
      output.write(`Kepada ${/^62\d+$/.test(phone) ? displayPhone(phone) : phone}:\n${text}\n---\n`);
      return { ok: true };
    },
  };
}
