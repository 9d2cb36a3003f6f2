/**
 * Announcements: a cooperative's board (or `kopbot broadcast`, or the web console) to its
 * active members, and the Dinas to the boards of many cooperatives. Checked first (the
 * cooperative exists, the text is sensible, the time is a time), then queued in the outbox with
 * its audit entry.
 */
import { parseIsoInstant } from '../core/format.ts';
import { normalizeText } from '../core/text-match.ts';
import { recordAudit } from './audit.ts';
import { DomainError } from './errors.ts';
import { isBoard, onePerPhone } from './officers.ts';
import type { Domain, OfficerRecord } from './ports.ts';

/** WhatsApp and Telegram split longer texts; an announcement longer than this is a document, not a message. */
export const ANNOUNCEMENT_MAX_LENGTH = 3000;

export const KOPERASI_TYPES = ['KPRI', 'KSU', 'KSP', 'KUD', 'KOPWAN', 'KSPPS', 'LAINNYA'];

export interface QueuedAnnouncement {
  broadcastId: number;
  recipients: number;
  koperasiName: string;
  sendAt: Date;
  /** The cooperative's time zone: its members' quiet hours are reckoned in it. */
  timeZone: string;
}

/** An announcement's text as it will be sent: line ends made plain, trimmed, and checked. */
export function announcementText(raw: string): string {
  const text = raw.replace(/\r\n/g, '\n').trim();
  if (text === '') throw new DomainError('announcement_empty', 'Isi pengumuman kosong: tulis pesannya dengan --text "…".');
  if (text.length > ANNOUNCEMENT_MAX_LENGTH) {
    throw new DomainError('announcement_too_long', `Pengumuman terlalu panjang (${text.length} karakter; paling banyak ${ANNOUNCEMENT_MAX_LENGTH}). Ringkas, atau kirim berkasnya lewat jalur lain.`);
  }
  return text;
}

/** How many an announcement to this cooperative reaches: its active members. */
export function announcementRecipients(domain: Pick<Domain, 'members'>, koperasiId: number): Promise<number> {
  return domain.members.countActive(koperasiId);
}

/** Queue an announcement to every active member of a cooperative (one transaction, audited). */
export async function queueAnnouncement(
  domain: Pick<Domain, 'koperasi' | 'outbox'>,
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
  const koperasi = await domain.koperasi.byCode(options.koperasiCode.trim().toUpperCase());
  if (!koperasi) throw new DomainError('koperasi_unknown', `Koperasi dengan kode ${options.koperasiCode} tidak ada.`);
  const text = announcementText(options.text);
  let sendAt = options.now;
  if (options.at !== undefined) {
    const at = options.at instanceof Date ? options.at : parseIsoInstant(options.at, koperasi.timezone);
    if (!at) throw new DomainError('send_time_invalid', `Waktu kirim "${String(options.at)}" tidak sah; contoh: 2026-12-01T08:00+07:00 atau 2026-12-01T08:00.`);
    if (at.getTime() > options.now.getTime()) sendAt = at;
  }
  const queued = await domain.outbox.queueBroadcast({ koperasiId: koperasi.id, text, actor: options.actor, via: options.via, sendAt, now: options.now });
  return { ...queued, koperasiName: koperasi.name, sendAt, timeZone: koperasi.timezone };
}

/** The boards a Dinas announcement goes to: all cooperatives, one type, or one district. */
export interface Audience {
  kind: 'all' | 'type' | 'district';
  value?: string;
}

/** What a Dinas officer typed as the audience: "semua", a type ("KSP"), or a district on file. */
export async function readAudience(domain: Pick<Domain, 'koperasi'>, said: string): Promise<Audience | null> {
  if (['semua', 'semua koperasi', 'all', 'seluruh', 'seluruhnya'].includes(said)) return { kind: 'all' };
  const upper = said.toUpperCase().replace(/^KOPERASI\s+/, '');
  if (KOPERASI_TYPES.includes(upper)) return { kind: 'type', value: upper };
  const district = said.replace(/^(kecamatan|kec\.?)\s+/, '').trim();
  if (district === '') return null;
  const districts = await domain.koperasi.districts();
  const known = districts.find((d) => d.toUpperCase() === district.toUpperCase()) ?? districts.find((d) => normalizeText(d) === district);
  return known !== undefined ? { kind: 'district', value: known.toUpperCase() } : null;
}

/** The board members of the cooperatives in the audience, one per phone (a person with two roles hears it once). */
export async function boardsInAudience(domain: Pick<Domain, 'officers'>, audience: Audience): Promise<OfficerRecord[]> {
  return onePerPhone((await domain.officers.all()).filter(isBoard)).filter((o) => {
    if (audience.kind === 'type') return o.koperasi!.type.toUpperCase() === audience.value;
    if (audience.kind === 'district') return (o.koperasi!.district ?? '').toUpperCase() === audience.value;
    return true;
  });
}

/** A Dinas announcement to the boards in the audience: recorded, queued per officer, audited. Returns how many were queued. */
export async function announceToBoards(
  domain: Domain,
  input: { actor: string; via?: Record<string, unknown>; audience: Audience; text: string; now: Date },
): Promise<number> {
  const text = announcementText(input.text);
  const officers = await boardsInAudience(domain, input.audience);
  const broadcastId = await domain.broadcasts.record({ koperasiId: null, text, actor: input.actor, sendAt: input.now, recipients: officers.length });
  const queued = await domain.outbox.queueForOfficers(officers, { key: `dinas_announcement:b${broadcastId}`, purpose: 'dinas_announcement', topic: 'announcements', text }, input.now);
  await recordAudit(
    domain.audit,
    { actor: input.actor, action: 'broadcast.queue_boards', koperasiId: null, detail: { broadcastId, audience: input.audience, recipients: queued, length: text.length, ...(input.via ? { via: input.via } : {}) } },
    input.now,
  );
  return queued;
}
