/**
 * The officers' desk: what board members and Dinas staff do by chat, answered before the
 * member flow. An officer is whoever the channel vouches has the phone of an Officer row (the
 * WhatsApp sender number, a Telegram contact, `kopbot chat --as`); a number typed in a message
 * proves nothing. Every action that sends or changes something is written to the audit log.
 *
 * - Board (PENGURUS, PENGAWAS, PENGELOLA) of one cooperative: an announcement to its members
 *   (compose, preview with the recipient count, confirm, queued in the outbox), the RAT
 *   attendance tally against the quorum, and moving the RAT date (members are told).
 * - Dinas (DINAS, PPKL; no cooperative): an announcement to the boards of all cooperatives, of
 *   one type or of one district, and the bimtek participant lists.
 * - Everyone invited to a bimtek answers the invitation with "ya" / "tidak".
 *
 * Texts live in flows/messages (officer.*, bimtek.*). The steps are kept as a session of their
 * own (chat "desk:<chat>"), so an officer who is also a member keeps both conversations.
 */
import type { CommandDesk, ConversationEngine } from '../core/engine.ts';
import type { TextKey } from '../core/texts.ts';
import { formatDate, formatDateTime, parseIsoInstant } from '../core/format.ts';
import type { Language } from '../core/format.ts';
import type { InboundMessage, PhoneProof, Reply } from '../core/message.ts';
import { maskDigitRuns } from '../logger.ts';
import type { Identity, SessionData } from '../core/ports.ts';
import { normalizeText } from '../core/text-match.ts';
import {
  announceToBoards,
  announcementRecipients,
  boardsInAudience,
  queueAnnouncement,
  readAudience,
  ANNOUNCEMENT_MAX_LENGTH,
  type Audience,
} from '../domain/announcements.ts';
import { listBimtekParticipants, respondToInvitation } from '../domain/bimtek.ts';
import { isDomainError } from '../domain/errors.ts';
import { isBoard, isDinas, officersByPhone } from '../domain/officers.ts';
import type { Domain, OfficerRecord } from '../domain/ports.ts';
import { moveRat, plannedRat, ratToMove, pastLegalLimit, bookYearOfRat, setRat, viewRatTally } from '../domain/rat.ts';

const OPEN_WORDS = new Set(['pengurus', 'menu pengurus', '/pengurus', 'dinas', 'menu dinas', '/dinas', 'admin', '/admin', 'petugas', 'menu petugas']);
const CANCEL_WORDS = new Set(['batal', 'cancel', 'batalkan', 'tidak jadi', 'ga jadi', 'gak jadi', 'nggak jadi']);
const YES_WORDS = new Set(['ya', 'iya', 'y', 'yes', 'ok', 'oke', 'kirim', 'setuju', 'lanjut', 'siap', 'benar', 'betul', '1']);
const NO_WORDS = new Set(['tidak', 'tdk', 'no', 'n', 'jangan', 'enggak', 'nggak', 'ga', 'gak', '2']);
/** Answers to a bimtek invitation. Bare words count only while nothing else is being asked (see handle). */
export const RSVP_YES = new Set(['ya', 'iya', 'y', 'yes', 'ikut', 'ya ikut', 'bimtek ya', 'ya bimtek', 'ikut bimtek', 'hadir bimtek']);
export const RSVP_NO = new Set(['tidak', 'tdk', 'no', 'n', 'tidak ikut', 'bimtek tidak', 'tidak bimtek', 'tidak ikut bimtek', 'batal bimtek', 'batal ikut bimtek']);

type OfficerRow = OfficerRecord;

/** The desk's menu items; each is worded by officer.choice.<choice>. */
type Choice = 'announce' | 'rat_tally' | 'rat_date' | 'dinas_announce' | 'bimtek_list';

type Step =
  | { step: 'menu'; choices: Choice[] }
  | { step: 'announce_text' }
  | { step: 'announce_confirm'; text: string }
  | { step: 'dinas_audience' }
  | { step: 'dinas_text'; audience: Audience }
  | { step: 'dinas_confirm'; audience: Audience; text: string }
  | { step: 'rat_date'; meetingId: number | null }
  | { step: 'rat_place'; startsAt: string }
  | { step: 'rat_confirm'; meetingId: number; startsAt: string }
  | { step: 'rat_set_confirm'; startsAt: string; place: string };

type DeskData = SessionData & { desk?: Step };

const IDLE_MS = 30 * 60_000;

export class OfficerDesk implements CommandDesk {
  #phones?: { at: number; byPhone: Map<string, OfficerRow[]> };
  #loadingPhones?: Promise<void>;
  /** Bumped by refresh(): a read begun before it does not count. */
  #phonesGeneration = 0;

  constructor(
    private readonly domain: Domain,
    private readonly engine: ConversationEngine,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Officers by phone, re-read every 30 seconds (most messages come from members, not officers). */
  async #officersOf(phone: string): Promise<OfficerRow[]> {
    const now = Date.now();
    if (!this.#phones || now - this.#phones.at > 30_000) {
      // One read for every message that finds the list stale at the same moment (launch day:
      // hundreds at once), not one Prisma query each.
      this.#loadingPhones ??= this.#loadOfficerPhones(now).finally(() => (this.#loadingPhones = undefined));
      await this.#loadingPhones;
    }
    return this.#phones?.byPhone.get(phone) ?? [];
  }

  async #loadOfficerPhones(now: number): Promise<void> {
    const generation = this.#phonesGeneration;
    const byPhone = await officersByPhone(this.domain);
    if (generation === this.#phonesGeneration) this.#phones = { at: now, byPhone };
  }

  async officerIdsOf(phone: string): Promise<number[]> {
    return (await this.#officersOf(phone)).map((o) => o.id);
  }

  /** Forget the cached officer list (after an import or a test changed it). */
  refresh(): void {
    this.#phones = undefined;
    this.#loadingPhones = undefined;
    this.#phonesGeneration++;
  }

  async handle(message: InboundMessage, identity: Identity, language: Language): Promise<Reply[] | null> {
    const phone = message.verifiedPhone ?? message.rememberedPhone;
    // A shared contact is the member flow's to thank for and record (it proves the session).
    if (message.chatType !== 'private' || !phone || message.contact) return null;
    const onFile = await this.#officersOf(phone);
    if (onFile.length === 0) return null;
    const memberSession = await this.engine.services.sessions.load(message.channel, message.chatId);
    const memberOpen = memberSession !== null && memberSession.expiresAt > this.clock() ? memberSession : null;
    const text = (message.text ?? '').trim();
    const said = normalizeText(text);
    // An officer's powers need the phone proven in this very session: the platform's sender
    // number, or (Telegram) the officer's own contact shared in it. A remembered number, even one
    // a member link still matches, is not enough: numbers are recycled, and a code proves a
    // member, never a phone. Asked for the officer menu, the bot asks for the contact again
    // instead of answering as to a member. Only a bimtek answer (it changes no one else's data)
    // is taken from an account whose link by that phone still matches the file: the invitation
    // reached it there.
    // A proof covers only the officers it was made for: a contact shared earlier in the session,
    // those with the phone on file then (an officer given the phone since needs a fresh contact);
    // a link, the officer who is the linked member.
    const vouched = message.verifiedPhone === phone ? message.phoneProof : undefined;
    const officers = onFile.filter((o) =>
      vouched === 'session' ? (message.phoneOfficers ?? []).includes(o.id) : vouched === 'link' ? isLinkedMember(o, identity) : true,
    );
    const proof = officers.length > 0 ? vouched : undefined;
    const inSession = proof === 'sender' || proof === 'contact' || proof === 'session';
    const key = `desk:${message.chatId}`;
    const now = this.clock();
    const stored = await this.engine.services.sessions.load(message.channel, key);
    // A step under way whose proof has ended (a contact proves the phone for 15 minutes from
    // the share): the officer is asked for the contact again, and the step waits for it.
    const stepOpen = stored !== null && stored.expiresAt > now && (stored.data as DeskData).desk !== undefined;
    if (!proof || (!inSession && (OPEN_WORDS.has(said) || stepOpen))) {
      if (!(OPEN_WORDS.has(said) || stepOpen) || !message.canRequestContact) return null;
      return [
        {
          text: this.domain.texts.text(language, OPEN_WORDS.has(said) ? 'officer.share_contact' : 'officer.share_contact_step', {}, message.channel),
          requestContact: { label: this.domain.texts.text(language, 'contact.button', {}, message.channel) },
        },
      ];
    }
    const step = stored && stored.expiresAt > now && inSession ? (stored.data as DeskData).desk : undefined;
    const t = (k: TextKey, vars: Record<string, string> = {}) => this.domain.texts.text(language, k, vars, message.channel);
    // Compare-and-set on the version read (a turn on another instance may have moved the step on).
    let version = stored?.version ?? 0;
    const save = async (next: Step | undefined) => {
      await this.engine.services.sessions.save(message.channel, key, {
        node: next ? next.step : null,
        data: next ? ({ desk: next } as DeskData) : {},
        expiresAt: new Date(now.getTime() + IDLE_MS),
        version,
      });
      version++;
    };
    const ctx: Ctx = { officers, text, said, t, save, message, now, language, via: actingIdentity(identity, proof) };

    if (OPEN_WORDS.has(said)) return this.#menu(ctx); // only in session (above)
    if (step) {
      if (CANCEL_WORDS.has(said)) {
        await save(undefined);
        return [{ text: t('officer.cancelled') }];
      }
      if (said === 'menu') {
        await save(undefined);
        return null; // back to the member menu
      }
      return this.#continue(ctx, step);
    }
    // An answer to a bimtek invitation: "ya" / "tidak" while one is waiting for it, unless the
    // member conversation has a question open (then "ya" answers that), or "bimtek ya" anytime.
    const aboutBimtek = said.includes('bimtek');
    if ((RSVP_YES.has(said) || RSVP_NO.has(said)) && (aboutBimtek || !memberOpen?.node)) {
      const answered = await respondToInvitation(this.domain, {
        officerIds: officers.map((o) => o.id),
        attending: RSVP_YES.has(said),
        aboutBimtek,
        now,
        language,
        channel: message.channel,
        via: ctx.via,
      });
      if (answered) return [{ text: answered }];
      if (said.startsWith('bimtek')) return [{ text: t('bimtek.nothing_pending') }];
    }
    return null;
  }

  #board(ctx: Ctx): OfficerRow | undefined {
    return ctx.officers.find(isBoard);
  }

  #dinas(ctx: Ctx): OfficerRow | undefined {
    return ctx.officers.find(isDinas);
  }

  async #menu(ctx: Ctx): Promise<Reply[]> {
    const choices: Choice[] = [];
    const board = this.#board(ctx);
    if (board) choices.push('announce', 'rat_tally', 'rat_date');
    if (this.#dinas(ctx)) choices.push('dinas_announce', 'bimtek_list');
    if (choices.length === 0) return [{ text: ctx.t('officer.no_role') }];
    await ctx.save({ step: 'menu', choices });
    const who = board?.koperasi ? `${board.name} — ${board.koperasi.name}` : (this.#dinas(ctx)?.name ?? '');
    return [
      {
        text: ctx.t('officer.menu', { who }),
        options: choices.map((c, i) => ({ key: String(i + 1), label: ctx.t(`officer.choice.${c}`) })),
      },
    ];
  }

  async #continue(ctx: Ctx, step: Step): Promise<Reply[]> {
    // The role may have been removed while a step was open.
    const needsBoard = ['announce_text', 'announce_confirm', 'rat_date', 'rat_place', 'rat_confirm', 'rat_set_confirm'].includes(step.step);
    const needsDinas = ['dinas_audience', 'dinas_text', 'dinas_confirm'].includes(step.step);
    if ((needsBoard && !this.#board(ctx)) || (needsDinas && !this.#dinas(ctx))) {
      await ctx.save(undefined);
      return [{ text: ctx.t('officer.no_role') }];
    }
    try {
      return await this.#answer(ctx, step);
    } catch (error) {
      // A refusal of the operation (the RAT was removed meanwhile, a date passed) is its sentence.
      if (!isDomainError(error)) throw error;
      await ctx.save(undefined);
      return [{ text: error.message }];
    }
  }

  async #answer(ctx: Ctx, step: Step): Promise<Reply[]> {
    switch (step.step) {
      case 'menu': {
        const index = Number(ctx.said) - 1;
        const choice = Number.isInteger(index) ? step.choices[index] : undefined;
        if (!choice) return [{ text: ctx.t('officer.pick_number', { count: String(step.choices.length) }) }];
        return this.#start(ctx, choice);
      }
      case 'announce_text':
      case 'dinas_text': {
        const text = ctx.text.replace(/\r\n/g, '\n').trim();
        if (text.length < 5) return [{ text: ctx.t('officer.announce_too_short') }];
        if (text.length > ANNOUNCEMENT_MAX_LENGTH) return [{ text: ctx.t('officer.announce_too_long', { max: String(ANNOUNCEMENT_MAX_LENGTH), length: String(text.length) }) }];
        if (step.step === 'announce_text') {
          const board = this.#board(ctx)!;
          const count = await announcementRecipients(this.domain, board.koperasiId!);
          await ctx.save({ step: 'announce_confirm', text });
          return [{ text: ctx.t('officer.announce_preview', { count: count.toLocaleString('id-ID'), koperasi: board.koperasi!.name, text }), options: this.#yesNo(ctx) }];
        }
        const officers = await boardsInAudience(this.domain, step.audience);
        await ctx.save({ step: 'dinas_confirm', audience: step.audience, text });
        return [{ text: ctx.t('officer.dinas_preview', { count: officers.length.toLocaleString('id-ID'), audience: this.#audienceLabel(ctx, step.audience), text }), options: this.#yesNo(ctx) }];
      }
      case 'announce_confirm': {
        const answer = this.#yesOrNo(ctx.said);
        if (answer === null) return [{ text: ctx.t('officer.answer_yes_no') }];
        await ctx.save(undefined);
        if (!answer) return [{ text: ctx.t('officer.cancelled') }];
        const board = this.#board(ctx)!;
        const queued = await queueAnnouncement(this.domain, { koperasiCode: board.koperasi!.code, text: step.text, actor: `officer:${board.id}`, via: ctx.via, now: ctx.now });
        return [{ text: ctx.t('officer.announce_queued', { id: String(queued.broadcastId), count: queued.recipients.toLocaleString('id-ID') }) }];
      }
      case 'dinas_audience': {
        const audience = await readAudience(this.domain, ctx.said);
        if (!audience) return [{ text: ctx.t('officer.dinas_audience_unknown') }];
        const officers = await boardsInAudience(this.domain, audience);
        if (officers.length === 0) return [{ text: ctx.t('officer.dinas_audience_empty', { audience: this.#audienceLabel(ctx, audience) }) }];
        await ctx.save({ step: 'dinas_text', audience });
        return [{ text: ctx.t('officer.dinas_ask_text', { count: officers.length.toLocaleString('id-ID'), audience: this.#audienceLabel(ctx, audience) }) }];
      }
      case 'dinas_confirm': {
        const answer = this.#yesOrNo(ctx.said);
        if (answer === null) return [{ text: ctx.t('officer.answer_yes_no') }];
        await ctx.save(undefined);
        if (!answer) return [{ text: ctx.t('officer.cancelled') }];
        const dinas = this.#dinas(ctx)!;
        const count = await announceToBoards(this.domain, { actor: `officer:${dinas.id}`, via: ctx.via, audience: step.audience, text: step.text, now: ctx.now });
        return [{ text: ctx.t('officer.dinas_queued', { count: count.toLocaleString('id-ID') }) }];
      }
      case 'rat_date': {
        const board = this.#board(ctx)!;
        const koperasi = board.koperasi!;
        const startsAt = parseMeetingTime(ctx.text, koperasi.timezone);
        if (!startsAt) return [{ text: ctx.t('officer.rat_date_invalid') }];
        if (startsAt <= ctx.now) return [{ text: ctx.t('officer.rat_date_past') }];
        if (step.meetingId === null) {
          // No RAT scheduled yet: a new one, once its place is known.
          await ctx.save({ step: 'rat_place', startsAt: startsAt.toISOString() });
          return [{ text: ctx.t('officer.rat_place_ask') }];
        }
        const meeting = await ratToMove(this.domain, koperasi, step.meetingId);
        const count = await announcementRecipients(this.domain, koperasi.id);
        await ctx.save({ step: 'rat_confirm', meetingId: meeting.id, startsAt: startsAt.toISOString() });
        const preview = ctx.t('officer.rat_move_preview', {
          from: formatDateTime(meeting.startsAt, koperasi.timezone, ctx.language),
          to: formatDateTime(startsAt, koperasi.timezone, ctx.language),
          count: count.toLocaleString('id-ID'),
        });
        return [{ text: this.#withLegalLimit(ctx, preview, pastLegalLimit(startsAt, meeting.bookYear, koperasi), meeting.bookYear), options: this.#yesNo(ctx, 'officer.option_move') }];
      }
      case 'rat_confirm': {
        const answer = this.#yesOrNo(ctx.said);
        if (answer === null) return [{ text: ctx.t('officer.answer_yes_no') }];
        await ctx.save(undefined);
        if (!answer) return [{ text: ctx.t('officer.cancelled') }];
        const board = this.#board(ctx)!;
        const moved = await moveRat(this.domain, { koperasi: board.koperasi!, meetingId: step.meetingId, startsAt: new Date(step.startsAt), actor: `officer:${board.id}`, via: ctx.via, now: ctx.now });
        return [{ text: ctx.t('officer.rat_moved', { to: formatDateTime(moved.meeting.startsAt, board.koperasi!.timezone, ctx.language), count: moved.recipients.toLocaleString('id-ID') }) }];
      }
      case 'rat_place': {
        const place = ctx.text.trim().replace(/\s+/g, ' ');
        if (place.length < 3 || place.length > 200) return [{ text: ctx.t('officer.rat_place_invalid') }];
        const board = this.#board(ctx)!;
        const koperasi = board.koperasi!;
        const startsAt = new Date(step.startsAt);
        const count = await announcementRecipients(this.domain, koperasi.id);
        await ctx.save({ step: 'rat_set_confirm', startsAt: step.startsAt, place });
        const bookYear = bookYearOfRat(startsAt, koperasi);
        const preview = ctx.t('officer.rat_set_preview', { to: formatDateTime(startsAt, koperasi.timezone, ctx.language), place, count: count.toLocaleString('id-ID') });
        return [{ text: this.#withLegalLimit(ctx, preview, pastLegalLimit(startsAt, bookYear, koperasi), bookYear), options: this.#yesNo(ctx, 'officer.option_set') }];
      }
      case 'rat_set_confirm': {
        const answer = this.#yesOrNo(ctx.said);
        if (answer === null) return [{ text: ctx.t('officer.answer_yes_no') }];
        await ctx.save(undefined);
        if (!answer) return [{ text: ctx.t('officer.cancelled') }];
        const board = this.#board(ctx)!;
        const set = await setRat(this.domain, { koperasi: board.koperasi!, startsAt: new Date(step.startsAt), place: step.place, actor: `officer:${board.id}`, via: ctx.via, now: ctx.now });
        return [{ text: ctx.t('officer.rat_set', { to: formatDateTime(set.meeting.startsAt, board.koperasi!.timezone, ctx.language), count: set.recipients.toLocaleString('id-ID') }) }];
      }
    }
  }

  /** A preview that would pass the six-month limit says so (the board may still go ahead: a late RAT beats none). */
  #withLegalLimit(ctx: Ctx, preview: string, limit: string | null, bookYear: number | null): string {
    if (limit === null || bookYear === null) return preview;
    return `${preview}\n\n${ctx.t('officer.rat_past_limit', { book_year: String(bookYear), limit: formatDate(limit, ctx.language) })}`;
  }

  async #start(ctx: Ctx, choice: string): Promise<Reply[]> {
    const board = this.#board(ctx);
    switch (choice) {
      case 'announce':
        await ctx.save({ step: 'announce_text' });
        return [{ text: ctx.t('officer.announce_ask', { koperasi: board!.koperasi!.name }) }];
      case 'rat_tally':
        await ctx.save(undefined);
        return [{ text: await this.#ratTally(ctx, board!) }];
      case 'rat_date': {
        const meeting = await plannedRat(this.domain, board!.koperasiId!, ctx.now);
        if (!meeting) {
          await ctx.save({ step: 'rat_date', meetingId: null });
          return [{ text: ctx.t('officer.rat_set_ask') }];
        }
        await ctx.save({ step: 'rat_date', meetingId: meeting.id });
        return [{ text: ctx.t('officer.rat_date_ask', { when: formatDateTime(meeting.startsAt, board!.koperasi!.timezone, ctx.language) }) }];
      }
      case 'dinas_announce':
        await ctx.save({ step: 'dinas_audience' });
        return [{ text: ctx.t('officer.dinas_audience_ask') }];
      case 'bimtek_list':
        await ctx.save(undefined);
        return [{ text: await this.#bimtekList(ctx) }];
      default:
        return this.#menu(ctx);
    }
  }

  #yesNo(ctx: Ctx, yes: TextKey = 'officer.option_send'): { key: string; label: string }[] {
    return [
      { key: '1', label: ctx.t(yes) },
      { key: '2', label: ctx.t('officer.option_cancel') },
    ];
  }

  #yesOrNo(said: string): boolean | null {
    if (YES_WORDS.has(said)) return true;
    if (NO_WORDS.has(said)) return false;
    return null;
  }

  async #ratTally(ctx: Ctx, board: OfficerRow): Promise<string> {
    const koperasi = board.koperasi!;
    const viewed = await viewRatTally(this.domain, koperasi, { actor: `officer:${board.id}`, via: ctx.via }, ctx.now);
    if (!viewed) return ctx.t('officer.rat_none');
    const { meeting, tally } = viewed;
    return ctx.t('officer.rat_tally', {
      when: formatDateTime(meeting.startsAt, koperasi.timezone, ctx.language),
      yes: tally.yes.toLocaleString('id-ID'),
      no: tally.no.toLocaleString('id-ID'),
      unknown: tally.unknown.toLocaleString('id-ID'),
      active: tally.active.toLocaleString('id-ID'),
      quorum: String(tally.quorumPercent),
      needed: tally.needed.toLocaleString('id-ID'),
      status: ctx.t(tally.met ? 'officer.quorum_met' : 'officer.quorum_short', { short: tally.short.toLocaleString('id-ID') }),
    });
  }

  #audienceLabel(ctx: Ctx, audience: Audience): string {
    if (audience.kind === 'all') return ctx.t('officer.audience_all');
    if (audience.kind === 'type') return ctx.t('officer.audience_type', { type: audience.value! });
    return ctx.t('officer.audience_district', { district: audience.value! });
  }

  async #bimtekList(ctx: Ctx): Promise<string> {
    const lists = await listBimtekParticipants(this.domain, this.#dinas(ctx), ctx.via, ctx.now);
    if (lists.length === 0) return ctx.t('bimtek.list_none');
    return lists
      .map(({ event, counts, accepted, waitlisted }) =>
        ctx.t('bimtek.list_event', {
          title: event.title,
          when: formatDateTime(event.startsAt, 'Asia/Jakarta', ctx.language),
          accepted: String(counts.accepted),
          capacity: String(event.capacity),
          waitlisted: String(counts.waitlisted),
          declined: String(counts.declined),
          invited: String(counts.invited),
          names: accepted.length > 0 ? accepted.map((p, n) => `${n + 1}. ${p.name} (${p.koperasiName ?? '-'})`).join('\n') : '-',
          waiting: waitlisted.length > 0 ? waitlisted.map((p, n) => `${n + 1}. ${p.name}`).join('\n') : '-',
        }),
      )
      .join('\n\n');
  }
}

/**
 * Whether a Telegram link names this officer: the linked member has the officer's phone on file,
 * is of the officer's cooperative (any, for the Dinas) and has the officer's name. The same rule
 * routes officer mail (OFFICER_IDENTITY in src/outbox/outbox-store.ts).
 */
function isLinkedMember(officer: { phone: string; name: string; koperasiId: number | null }, identity: Identity): boolean {
  const member = identity.member;
  return (
    member !== null &&
    member.phone === officer.phone &&
    (officer.koperasiId === null || member.koperasiId === officer.koperasiId) &&
    member.name.trim().toLowerCase() === officer.name.trim().toLowerCase()
  );
}

/** The channel identity behind an officer's action, for the audit: a phone in its id is masked. */
export type ActingIdentity = {
  identityId: number;
  channel: string;
  externalId: string;
  /** How the officer's phone was proven in this session (InboundMessage.phoneProof). */
  proof: PhoneProof;
};

function actingIdentity(identity: Identity, proof: PhoneProof): ActingIdentity {
  return { identityId: identity.id, channel: identity.channel, externalId: maskDigitRuns(identity.externalId), proof };
}

interface Ctx {
  officers: OfficerRow[];
  via: ActingIdentity;
  text: string;
  said: string;
  t(key: TextKey, vars?: Record<string, string>): string;
  save(step: Step | undefined): Promise<void>;
  message: InboundMessage;
  now: Date;
  language: Language;
}

/** "13/03/2027 09.00", "13-3-2027 9:00", "2027-03-13 09:00" or ISO: a meeting time in the cooperative's zone. */
export function parseMeetingTime(text: string, timeZone: string): Date | null {
  const dmy = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[,\s]+(?:jam|pukul|pk\.?)?\s*(\d{1,2})[.:](\d{2}))?\s*(?:wib|wita|wit)?$/i.exec(text.trim());
  if (dmy) {
    const [, d, m, y, h = '09', mi = '00'] = dmy;
    return parseIsoInstant(`${y}-${m!.padStart(2, '0')}-${d!.padStart(2, '0')}T${h.padStart(2, '0')}:${mi}`, timeZone);
  }
  return parseIsoInstant(text, timeZone);
}
