/**
 * Queueing an announcement to a cooperative's members: the path `kopbot broadcast`, an
 * officer's chat command and the web console share. Checked first (the cooperative exists, the
 * text is sensible, the time is a time), then one transaction queues every recipient and
 * writes the audit entry (who sent what to how many).
 */
import { parseIsoInstant } from '../core/format.ts';
import type { Db } from '../persistence/database.ts';
import type { OutboxStore } from './outbox-store.ts';

export class BroadcastError extends Error {
  override name = 'BroadcastError';
}

/** WhatsApp and Telegram split longer texts; an announcement longer than this is a document, not a message. */
export const ANNOUNCEMENT_MAX_LENGTH = 3000;

export interface QueuedAnnouncement {
  broadcastId: number;
  recipients: number;
  koperasiName: string;
  sendAt: Date;
}

export async function queueAnnouncement(
  db: Db,
  store: OutboxStore,
  options: {
    koperasiCode: string;
    text: string;
    at?: string | Date;
    actor: string;
    /** For an officer's chat command: the channel identity that acted, and how it was proven (for the audit). */
    via?: Record<string, unknown>;
    now: Date;
  },
): Promise<QueuedAnnouncement> {
  const code = options.koperasiCode.trim().toUpperCase();
  const koperasi = await db.koperasi.findUnique({ where: { code } });
  if (!koperasi) throw new BroadcastError(`Koperasi dengan kode ${options.koperasiCode} tidak ada.`);
  const text = options.text.replace(/\r\n/g, '\n').trim();
  if (text === '') throw new BroadcastError('Isi pengumuman kosong: tulis pesannya dengan --text "…".');
  if (text.length > ANNOUNCEMENT_MAX_LENGTH) {
    throw new BroadcastError(`Pengumuman terlalu panjang (${text.length} karakter; paling banyak ${ANNOUNCEMENT_MAX_LENGTH}). Ringkas, atau kirim berkasnya lewat jalur lain.`);
  }
  let sendAt = options.now;
  if (options.at !== undefined) {
    const at = options.at instanceof Date ? options.at : parseIsoInstant(options.at, koperasi.timezone);
    if (!at) throw new BroadcastError(`Waktu kirim "${String(options.at)}" tidak sah; contoh: 2026-12-01T08:00+07:00 atau 2026-12-01T08:00.`);
    if (at.getTime() > options.now.getTime()) sendAt = at;
  }
  const queued = await store.queueBroadcast({ koperasiId: koperasi.id, text, actor: options.actor, via: options.via, sendAt, now: options.now });
  return { ...queued, koperasiName: koperasi.name, sendAt };
}
