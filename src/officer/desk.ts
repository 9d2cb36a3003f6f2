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
import { formatDateTime, localParts, parseIsoInstant } from '../core/format.ts';
import type { Language } from '../core/format.ts';
import type { InboundMessage, PhoneProof, Reply } from '../core/message.ts';
import { maskDigitRuns } from '../logger.ts';
import type { Identity, SessionData } from '../core/ports.ts';
import { normalizeText } from '../core/text-match.ts';
import type { Db } from '../persistence/database.ts';
import { queueAnnouncement, ANNOUNCEMENT_MAX_LENGTH } from '../outbox/broadcast.ts';
import type { OutboxStore } from '../outbox/outbox-store.ts';
import { respondToInvitation } from './bimtek.ts';

export const BOARD_ROLES = ['PENGURUS', 'PENGAWAS', 'PENGELOLA'];
export const DINAS_ROLES = ['DINAS', 'PPKL'];

const OPEN_WORDS = new Set(['pengurus', 'menu pengurus', '/pengurus', 'dinas', 'menu dinas', '/dinas', 'admin', '/admin', 'petugas', 'menu petugas']);
const CANCEL_WORDS = new Set(['batal', 'cancel', 'batalkan', 'tidak jadi', 'ga jadi', 'gak jadi', 'nggak jadi']);
const YES_WORDS = new Set(['ya', 'iya', 'y', 'yes', 'ok', 'oke', 'kirim', 'setuju', 'lanjut', 'siap', 'benar', 'betul', '1']);
const NO_WORDS = new Set(['tidak', 'tdk', 'no', 'n', 'jangan', 'enggak', 'nggak', 'ga', 'gak', '2']);
/** Answers to a bimtek invitation. Bare words count only while nothing else is being asked (see handle). */
export const RSVP_YES = new Set(['ya', 'iya', 'y', 'yes', 'ikut', 'ya ikut', 'bimtek ya', 'ya bimtek', 'ikut bimtek', 'hadir bimtek']);
export const RSVP_NO = new Set(['tidak', 'tdk', 'no', 'n', 'tidak ikut', 'bimtek tidak', 'tidak bimtek', 'tidak ikut bimtek', 'batal bimtek', 'batal ikut bimtek']);

interface OfficerRow {
  id: number;
  name: string;
  phone: string;
  role: string;
  koperasiId: number | null;
  koperasi: { id: number; code: string; name: string; timezone: string; quorumPercent: number } | null;
}

type Step =
  | { step: 'menu'; choices: string[] }
  | { step: 'announce_text' }
  | { step: 'announce_confirm'; text: string }
  | { step: 'dinas_audience' }
  | { step: 'dinas_text'; audience: Audience }
  | { step: 'dinas_confirm'; audience: Audience; text: string }
  | { step: 'rat_date'; meetingId: number | null }
  | { step: 'rat_place'; startsAt: string }
  | { step: 'rat_confirm'; meetingId: number; startsAt: string }
  | { step: 'rat_set_confirm'; startsAt: string; place: string };

interface Audience {
  kind: 'all' | 'type' | 'district';
  value?: string;
}

type DeskData = SessionData & { desk?: Step };

const IDLE_MS = 30 * 60_000;
const KOPERASI_TYPES = ['KPRI', 'KSU', 'KSP', 'KUD', 'KOPWAN', 'KSPPS', 'LAINNYA'];

export class OfficerDesk implements CommandDesk {
  #phones?: { at: number; byPhone: Map<string, OfficerRow[]> };
  #loadingPhones?: Promise<void>;
  /** Bumped by refresh(): a read begun before it does not count. */
  #phonesGeneration = 0;

  constructor(
    private readonly db: Db,
    private readonly store: OutboxStore,
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
    const rows = await this.db.officer.findMany({
      include: { koperasi: { select: { id: true, code: true, name: true, timezone: true, quorumPercent: true } } },
      orderBy: { id: 'asc' },
    });
    const byPhone = new Map<string, OfficerRow[]>();
    for (const row of rows) byPhone.set(row.phone, [...(byPhone.get(row.phone) ?? []), row]);
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
          text: this.engine.message(language, OPEN_WORDS.has(said) ? 'officer.share_contact' : 'officer.share_contact_step', {}, message.channel),
          requestContact: { label: this.engine.message(language, 'contact.button', {}, message.channel) },
        },
      ];
    }
    const step = stored && stored.expiresAt > now && inSession ? (stored.data as DeskData).desk : undefined;
    const t = (k: string, vars: Record<string, string> = {}) => this.engine.message(language, k, vars, message.channel);
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
      const answered = await respondToInvitation(this.db, this.store, this.engine, {
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
    return ctx.officers.find((o) => o.koperasi && BOARD_ROLES.includes(o.role));
  }

  #dinas(ctx: Ctx): OfficerRow | undefined {
    return ctx.officers.find((o) => !o.koperasiId && DINAS_ROLES.includes(o.role));
  }

  async #menu(ctx: Ctx): Promise<Reply[]> {
    const choices: string[] = [];
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
          const count = await this.db.member.count({ where: { koperasiId: board.koperasiId!, status: 'AKTIF' } });
          await ctx.save({ step: 'announce_confirm', text });
          return [{ text: ctx.t('officer.announce_preview', { count: count.toLocaleString('id-ID'), koperasi: board.koperasi!.name, text }), options: this.#yesNo(ctx) }];
        }
        const officers = await this.#boardsOf(step.audience);
        await ctx.save({ step: 'dinas_confirm', audience: step.audience, text });
        return [{ text: ctx.t('officer.dinas_preview', { count: officers.length.toLocaleString('id-ID'), audience: this.#audienceLabel(ctx, step.audience), text }), options: this.#yesNo(ctx) }];
      }
      case 'announce_confirm': {
        const answer = this.#yesOrNo(ctx.said);
        if (answer === null) return [{ text: ctx.t('officer.answer_yes_no') }];
        await ctx.save(undefined);
        if (!answer) return [{ text: ctx.t('officer.cancelled') }];
        const board = this.#board(ctx)!;
        const queued = await queueAnnouncement(this.db, this.store, { koperasiCode: board.koperasi!.code, text: step.text, actor: `officer:${board.id}`, via: ctx.via, now: ctx.now });
        return [{ text: ctx.t('officer.announce_queued', { id: String(queued.broadcastId), count: queued.recipients.toLocaleString('id-ID') }) }];
      }
      case 'dinas_audience': {
        const audience = await this.#readAudience(ctx.said);
        if (!audience) return [{ text: ctx.t('officer.dinas_audience_unknown') }];
        const officers = await this.#boardsOf(audience);
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
        const count = await this.#queueToBoards(ctx, dinas, step.audience, step.text);
        return [{ text: ctx.t('officer.dinas_queued', { count: count.toLocaleString('id-ID') }) }];
      }
      case 'rat_date': {
        const board = this.#board(ctx)!;
        const startsAt = parseMeetingTime(ctx.text, board.koperasi!.timezone);
        if (!startsAt) return [{ text: ctx.t('officer.rat_date_invalid') }];
        if (startsAt <= ctx.now) return [{ text: ctx.t('officer.rat_date_past') }];
        if (step.meetingId === null) {
          // No RAT scheduled yet: a new one, once its place is known.
          await ctx.save({ step: 'rat_place', startsAt: startsAt.toISOString() });
          return [{ text: ctx.t('officer.rat_place_ask') }];
        }
        const meeting = await this.db.meeting.findUnique({ where: { id: step.meetingId } });
        if (!meeting) {
          await ctx.save(undefined);
          return [{ text: ctx.t('officer.rat_none') }];
        }
        const count = await this.db.member.count({ where: { koperasiId: board.koperasiId!, status: 'AKTIF' } });
        await ctx.save({ step: 'rat_confirm', meetingId: meeting.id, startsAt: startsAt.toISOString() });
        return [
          {
            text: ctx.t('officer.rat_move_preview', {
              from: formatDateTime(meeting.startsAt, board.koperasi!.timezone, ctx.language),
              to: formatDateTime(startsAt, board.koperasi!.timezone, ctx.language),
              count: count.toLocaleString('id-ID'),
            }),
            options: this.#yesNo(ctx, 'officer.option_move'),
          },
        ];
      }
      case 'rat_confirm': {
        const answer = this.#yesOrNo(ctx.said);
        if (answer === null) return [{ text: ctx.t('officer.answer_yes_no') }];
        await ctx.save(undefined);
        if (!answer) return [{ text: ctx.t('officer.cancelled') }];
        return this.#moveRat(ctx, step.meetingId, new Date(step.startsAt));
      }
      case 'rat_place': {
        const place = ctx.text.trim().replace(/\s+/g, ' ');
        if (place.length < 3 || place.length > 200) return [{ text: ctx.t('officer.rat_place_invalid') }];
        const board = this.#board(ctx)!;
        const count = await this.db.member.count({ where: { koperasiId: board.koperasiId!, status: 'AKTIF' } });
        await ctx.save({ step: 'rat_set_confirm', startsAt: step.startsAt, place });
        return [
          {
            text: ctx.t('officer.rat_set_preview', { to: formatDateTime(new Date(step.startsAt), board.koperasi!.timezone, ctx.language), place, count: count.toLocaleString('id-ID') }),
            options: this.#yesNo(ctx, 'officer.option_set'),
          },
        ];
      }
      case 'rat_set_confirm': {
        const answer = this.#yesOrNo(ctx.said);
        if (answer === null) return [{ text: ctx.t('officer.answer_yes_no') }];
        await ctx.save(undefined);
        if (!answer) return [{ text: ctx.t('officer.cancelled') }];
        return this.#setRat(ctx, new Date(step.startsAt), step.place);
      }
    }
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
        const meeting = await this.db.meeting.findFirst({
          where: { koperasiId: board!.koperasiId!, kind: 'RAT', heldAt: null, startsAt: { gt: ctx.now } },
          orderBy: { startsAt: 'asc' },
        });
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

  #yesNo(ctx: Ctx, yes = 'officer.option_send'): { key: string; label: string }[] {
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
    const meeting =
      (await this.db.meeting.findFirst({ where: { koperasiId: koperasi.id, kind: 'RAT', startsAt: { gt: ctx.now } }, orderBy: { startsAt: 'asc' } })) ??
      (await this.db.meeting.findFirst({ where: { koperasiId: koperasi.id, kind: 'RAT' }, orderBy: { startsAt: 'desc' } }));
    if (!meeting) return ctx.t('officer.rat_none');
    const [active, yes, no] = await Promise.all([
      this.db.member.count({ where: { koperasiId: koperasi.id, status: 'AKTIF' } }),
      this.db.meetingAttendance.count({ where: { meetingId: meeting.id, attending: true, member: { status: 'AKTIF' } } }),
      this.db.meetingAttendance.count({ where: { meetingId: meeting.id, attending: false, member: { status: 'AKTIF' } } }),
    ]);
    const needed = Math.ceil((active * koperasi.quorumPercent) / 100);
    await this.#audit(ctx, board, 'rat.tally_view', { meetingId: meeting.id });
    return ctx.t('officer.rat_tally', {
      when: formatDateTime(meeting.startsAt, koperasi.timezone, ctx.language),
      yes: yes.toLocaleString('id-ID'),
      no: no.toLocaleString('id-ID'),
      unknown: Math.max(0, active - yes - no).toLocaleString('id-ID'),
      active: active.toLocaleString('id-ID'),
      quorum: String(koperasi.quorumPercent),
      needed: needed.toLocaleString('id-ID'),
      status: ctx.t(yes >= needed ? 'officer.quorum_met' : 'officer.quorum_short', { short: Math.max(0, needed - yes).toLocaleString('id-ID') }),
    });
  }

  async #moveRat(ctx: Ctx, meetingId: number, startsAt: Date): Promise<Reply[]> {
    const board = this.#board(ctx)!;
    const koperasi = board.koperasi!;
    const meeting = await this.db.meeting.findUnique({ where: { id: meetingId } });
    if (!meeting || meeting.koperasiId !== koperasi.id) return [{ text: ctx.t('officer.rat_none') }];
    const from = meeting.startsAt;
    await this.db.meeting.update({ where: { id: meeting.id }, data: { startsAt } });
    await this.#audit(ctx, board, 'rat.move', { meetingId: meeting.id, from: from.toISOString(), to: startsAt.toISOString() });
    // Members are told: an announcement on the announcements path (opt-outs honoured).
    const notice = this.engine.message('id', 'officer.rat_moved_notice', {
      koperasi: koperasi.name,
      from: formatDateTime(from, koperasi.timezone),
      to: formatDateTime(startsAt, koperasi.timezone),
      place: meeting.place,
    });
    const queued = await queueAnnouncement(this.db, this.store, { koperasiCode: koperasi.code, text: notice, actor: `officer:${board.id}`, via: ctx.via, now: ctx.now });
    return [{ text: ctx.t('officer.rat_moved', { to: formatDateTime(startsAt, koperasi.timezone, ctx.language), count: queued.recipients.toLocaleString('id-ID') }) }];
  }

  /** A new RAT for the last book year that has ended, with the usual agenda; members are told. */
  async #setRat(ctx: Ctx, startsAt: Date, place: string): Promise<Reply[]> {
    const board = this.#board(ctx)!;
    const koperasi = board.koperasi!;
    const bookYear = localParts(startsAt, koperasi.timezone).year - 1;
    const agenda = this.engine.message('id', 'officer.rat_default_agenda');
    const key = `RAT:${bookYear}`;
    const existing = await this.db.meeting.findUnique({ where: { koperasiId_key: { koperasiId: koperasi.id, key } } });
    const meeting = existing
      ? await this.db.meeting.update({ where: { id: existing.id }, data: { startsAt, place, heldAt: null } })
      : await this.db.meeting.create({ data: { koperasiId: koperasi.id, key, kind: 'RAT', bookYear, startsAt, place, agenda } });
    await this.#audit(ctx, board, 'rat.set', { meetingId: meeting.id, startsAt: startsAt.toISOString(), place });
    const notice = this.engine.message('id', 'officer.rat_set_notice', { koperasi: koperasi.name, book_year: String(bookYear), to: formatDateTime(startsAt, koperasi.timezone), place });
    const queued = await queueAnnouncement(this.db, this.store, { koperasiCode: koperasi.code, text: notice, actor: `officer:${board.id}`, via: ctx.via, now: ctx.now });
    return [{ text: ctx.t('officer.rat_set', { to: formatDateTime(startsAt, koperasi.timezone, ctx.language), count: queued.recipients.toLocaleString('id-ID') }) }];
  }

  async #readAudience(said: string): Promise<Audience | null> {
    if (['semua', 'semua koperasi', 'all', 'seluruh', 'seluruhnya'].includes(said)) return { kind: 'all' };
    const upper = said.toUpperCase().replace(/^KOPERASI\s+/, '');
    if (KOPERASI_TYPES.includes(upper)) return { kind: 'type', value: upper };
    const district = said.replace(/^(kecamatan|kec\.?)\s+/, '').trim();
    if (district === '') return null;
    const known = await this.db.koperasi.findFirst({ where: { district: { equals: district.toUpperCase() } } })
      ?? (await this.db.koperasi.findMany({ where: { district: { not: null } }, select: { district: true } })).find((k) => normalizeText(k.district ?? '') === district);
    return known ? { kind: 'district', value: (known.district ?? district).toUpperCase() } : null;
  }

  #audienceLabel(ctx: Ctx, audience: Audience): string {
    if (audience.kind === 'all') return ctx.t('officer.audience_all');
    if (audience.kind === 'type') return ctx.t('officer.audience_type', { type: audience.value! });
    return ctx.t('officer.audience_district', { district: audience.value! });
  }

  /** The board members of the cooperatives in the audience, one per phone (a person with two roles hears it once). */
  async #boardsOf(audience: Audience): Promise<{ id: number; koperasiId: number | null }[]> {
    const rows = await this.db.officer.findMany({
      where: { role: { in: BOARD_ROLES }, koperasiId: { not: null }, koperasi: { is: {} } },
      select: { id: true, phone: true, koperasiId: true, koperasi: { select: { type: true, district: true } } },
      orderBy: { id: 'asc' },
    });
    return onePerPhone(rows).filter((o) => {
      if (audience.kind === 'type') return o.koperasi?.type.toUpperCase() === audience.value;
      if (audience.kind === 'district') return (o.koperasi?.district ?? '').toUpperCase() === audience.value;
      return true;
    });
  }

  async #queueToBoards(ctx: Ctx, dinas: OfficerRow, audience: Audience, text: string): Promise<number> {
    const now = ctx.now;
    const officers = await this.#boardsOf(audience);
    const broadcast = await this.db.broadcast.create({ data: { koperasiId: null, text, actor: `officer:${dinas.id}`, sendAt: now, recipients: officers.length } });
    const queued = await this.store.queueForOfficers(officers, { key: `dinas_announcement:b${broadcast.id}`, purpose: 'dinas_announcement', topic: 'announcements', text }, now);
    await this.#audit(ctx, dinas, 'broadcast.queue_boards', { broadcastId: broadcast.id, audience, recipients: queued, length: text.length });
    return queued;
  }

  async #bimtekList(ctx: Ctx): Promise<string> {
    const events = await this.db.event.findMany({ where: { startsAt: { gt: ctx.now }, forMembers: false }, orderBy: { startsAt: 'asc' }, take: 5 });
    if (events.length === 0) return ctx.t('bimtek.list_none');
    const parts: string[] = [];
    for (const event of events) {
      const invitations = await this.db.eventInvitation.findMany({ where: { eventId: event.id }, orderBy: [{ respondedAt: 'asc' }, { id: 'asc' }] });
      const officers = await this.db.officer.findMany({ where: { id: { in: invitations.map((i) => i.officerId) } }, include: { koperasi: { select: { name: true } } } });
      const byId = new Map(officers.map((o) => [o.id, o]));
      const count = (status: string) => invitations.filter((i) => i.status === status).length;
      const names = invitations
        .filter((i) => i.status === 'accepted')
        .map((i, n) => `${n + 1}. ${byId.get(i.officerId)?.name ?? '?'} (${byId.get(i.officerId)?.koperasi?.name ?? '-'})`);
      const waiting = invitations.filter((i) => i.status === 'waitlisted').map((i, n) => `${n + 1}. ${byId.get(i.officerId)?.name ?? '?'}`);
      parts.push(
        ctx.t('bimtek.list_event', {
          title: event.title,
          when: formatDateTime(event.startsAt, 'Asia/Jakarta', ctx.language),
          accepted: String(count('accepted')),
          capacity: String(event.capacity),
          waitlisted: String(count('waitlisted')),
          declined: String(count('declined')),
          invited: String(count('invited')),
          names: names.length > 0 ? names.join('\n') : '-',
          waiting: waiting.length > 0 ? waiting.join('\n') : '-',
        }),
      );
    }
    const dinas = this.#dinas(ctx);
    if (dinas) await this.#audit(ctx, dinas, 'bimtek.list_view', { events: events.map((e) => e.id) });
    return parts.join('\n\n');
  }

  /** An audit entry for what an officer did, naming the channel identity that acted and how its phone was proven. */
  async #audit(ctx: Ctx, officer: OfficerRow, action: string, detail: Record<string, unknown>): Promise<void> {
    await this.db.auditLog.create({ data: { actor: `officer:${officer.id}`, action, koperasiId: officer.koperasiId, detail: JSON.stringify({ ...detail, via: ctx.via }) } });
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

/** Keep the first row of each phone: one person, one message. */
export function onePerPhone<T extends { phone: string }>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => (seen.has(row.phone) ? false : (seen.add(row.phone), true)));
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
  t(key: string, vars?: Record<string, string>): string;
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
