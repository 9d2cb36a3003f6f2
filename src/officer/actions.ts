/**
 * The officers' actions: what board members and Dinas staff do by chat, named for
 * flows/officer.yaml. Each calls a business operation in src/domain; the steps, words, menus
 * and texts are flow data. The flow's `requires:` guards who may reach them (a phone proven in
 * this session, and the role); the actions act for the officers that proof covers
 * (ActionContext.officers) and record them in the audit.
 *
 * Multi-step input is kept in the session's slot bag (SessionData.slots) while its questions are
 * open: an announcement's text, a Dinas audience, a RAT's new date and place.
 */
import type { Action, ActionContext, ActionResult } from '../core/actions/types.ts';
import { formatDate, formatDateTime, parseIsoInstant } from '../core/format.ts';
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
import { invitationToAnswer, listBimtekParticipants, respondToInvitation } from '../domain/bimtek.ts';
import { isDomainError } from '../domain/errors.ts';
import { isBoard, isDinas } from '../domain/officers.ts';
import type { Domain, OfficerRecord } from '../domain/ports.ts';
import { bookYearOfRat, moveRat, pastLegalLimit, plannedRat, ratToMove, setRat, viewRatTally } from '../domain/rat.ts';
import type { Officers } from './directory.ts';
import { receiveBoardDocument } from './rat-documents.ts';

const MIN_ANNOUNCEMENT = 5;
const count = (n: number) => n.toLocaleString('id-ID');

/** The officers' actions over the domain, by name (registered beside the members' ones). */
export function officerActions(domain: Domain, officers: Officers): ReadonlyMap<string, Action> {
  /** The officers acting: only with the phone proven in this session (a member link proves only a bimtek answer). */
  const records = (ctx: ActionContext) => {
    const proof = ctx.via.proof;
    if (proof !== 'sender' && proof !== 'contact' && proof !== 'session') throw new Error(`officer power without a phone proven in this session (${proof})`);
    return officers.records(ctx.officers);
  };
  const board = async (ctx: ActionContext): Promise<OfficerRecord> => {
    const found = (await records(ctx)).find(isBoard);
    if (!found) throw new Error('board action without a board member (the flow requires: board)');
    return found;
  };
  const dinas = async (ctx: ActionContext): Promise<OfficerRecord> => {
    const found = (await records(ctx)).find(isDinas);
    if (!found) throw new Error('Dinas action without Dinas staff (the flow requires: dinas)');
    return found;
  };
  const slots = (ctx: ActionContext) => (ctx.session.slots ??= {});
  const actor = (officer: OfficerRecord) => `officer:${officer.id}`;
  const when = (ctx: ActionContext, at: Date, zone: string) => formatDateTime(at, zone, ctx.language);
  /** A preview that would pass the six-month limit says so (the board may still go ahead: a late RAT beats none). */
  const limitNote = (ctx: ActionContext, startsAt: Date, bookYear: number | null, koperasi: NonNullable<OfficerRecord['koperasi']>) => {
    const limit = pastLegalLimit(startsAt, bookYear, koperasi);
    if (limit === null || bookYear === null) return '';
    return `\n\n${ctx.t('officer.rat_past_limit', { book_year: String(bookYear), limit: formatDate(limit, ctx.language) })}`;
  };
  /** Text typed for an announcement: long enough, not too long; kept in the slot bag. */
  const announcementInput = (ctx: ActionContext): ActionResult => {
    const text = ctx.input.replace(/\r\n/g, '\n').trim();
    if (text.length < MIN_ANNOUNCEMENT) return { outcome: 'too_short' };
    if (text.length > ANNOUNCEMENT_MAX_LENGTH) return { outcome: 'too_long', vars: { max: count(ANNOUNCEMENT_MAX_LENGTH), length: count(text.length) } };
    slots(ctx).text = text;
    return { outcome: 'ok' };
  };
  const audienceLabel = (ctx: ActionContext, audience: Audience) => {
    if (audience.kind === 'all') return ctx.t('officer.audience_all');
    if (audience.kind === 'type') return ctx.t('officer.audience_type', { type: audience.value! });
    return ctx.t('officer.audience_district', { district: audience.value! });
  };
  const storedAudience = (ctx: ActionContext): Audience | null => {
    const kind = ctx.session.slots?.audience;
    if (kind !== 'all' && kind !== 'type' && kind !== 'district') return null;
    const value = ctx.session.slots?.audienceValue;
    return kind === 'all' ? { kind } : typeof value === 'string' ? { kind, value } : null;
  };

  const actions: Record<string, Action> = {
    /** The officer menu's header: who is acting (the menu's options follow the roles, `when:`). */
    'officer.menu': async (ctx) => {
      const mine = await records(ctx);
      const boardMember = mine.find(isBoard);
      const staff = mine.find(isDinas);
      if (!boardMember && !staff) return { outcome: 'no_role' };
      return { vars: { who: boardMember?.koperasi ? `${boardMember.name} — ${boardMember.koperasi.name}` : staff!.name } };
    },

    'officer.announce_start': async (ctx) => ({ vars: { koperasi: (await board(ctx)).koperasi!.name } }),
    'officer.announce_text': async (ctx) => announcementInput(ctx),
    'officer.announce_preview': async (ctx) => {
      const text = ctx.session.slots?.text;
      if (typeof text !== 'string') return { outcome: 'missing' };
      const officer = await board(ctx);
      const recipients = await announcementRecipients(domain, officer.koperasiId!);
      return { vars: { count: count(recipients), koperasi: officer.koperasi!.name, text } };
    },
    'officer.announce_send': async (ctx) => {
      const text = ctx.session.slots?.text;
      if (typeof text !== 'string') return { outcome: 'missing' };
      const officer = await board(ctx);
      const queued = await queueAnnouncement(domain, { koperasiCode: officer.koperasi!.code, text, actor: actor(officer), via: { ...ctx.via }, now: ctx.now });
      return { outcome: 'queued', vars: { id: String(queued.broadcastId), count: count(queued.recipients) } };
    },

    'officer.dinas_audience': async (ctx) => {
      const audience = await readAudience(domain, normalizeText(ctx.input));
      if (!audience) return { outcome: 'unknown' };
      const boards = await boardsInAudience(domain, audience);
      const vars = { audience: audienceLabel(ctx, audience), count: count(boards.length) };
      if (boards.length === 0) return { outcome: 'empty', vars };
      slots(ctx).audience = audience.kind;
      slots(ctx).audienceValue = audience.value ?? null;
      return { outcome: 'ok', vars };
    },
    'officer.dinas_text': async (ctx) => announcementInput(ctx),
    'officer.dinas_preview': async (ctx) => {
      const audience = storedAudience(ctx);
      const text = ctx.session.slots?.text;
      if (!audience || typeof text !== 'string') return { outcome: 'missing' };
      const boards = await boardsInAudience(domain, audience);
      return { vars: { count: count(boards.length), audience: audienceLabel(ctx, audience), text } };
    },
    'officer.dinas_send': async (ctx) => {
      const audience = storedAudience(ctx);
      const text = ctx.session.slots?.text;
      if (!audience || typeof text !== 'string') return { outcome: 'missing' };
      const staff = await dinas(ctx);
      const queued = await announceToBoards(domain, { actor: actor(staff), via: { ...ctx.via }, audience, text, now: ctx.now });
      return { outcome: 'queued', vars: { count: count(queued) } };
    },

    'officer.rat_tally': async (ctx) => {
      const officer = await board(ctx);
      const koperasi = officer.koperasi!;
      const viewed = await viewRatTally(domain, koperasi, { actor: actor(officer), via: { ...ctx.via } }, ctx.now);
      if (!viewed) return { outcome: 'none' };
      const { meeting, tally } = viewed;
      return {
        vars: {
          when: when(ctx, meeting.startsAt, koperasi.timezone),
          yes: count(tally.yes),
          no: count(tally.no),
          unknown: count(tally.unknown),
          active: count(tally.active),
          quorum: String(tally.quorumPercent),
          needed: count(tally.needed),
          status: ctx.t(tally.met ? 'officer.quorum_met' : 'officer.quorum_short', { short: count(tally.short) }),
        },
      };
    },
    /** Setting the RAT: a new one when none is planned, else moving the planned one. */
    'officer.rat_date_start': async (ctx) => {
      const officer = await board(ctx);
      const meeting = await plannedRat(domain, officer.koperasiId!, ctx.now);
      ctx.session.slots = { meetingId: meeting?.id ?? null };
      return meeting ? { outcome: 'move', vars: { when: when(ctx, meeting.startsAt, officer.koperasi!.timezone) } } : { outcome: 'new' };
    },
    'officer.rat_date': async (ctx) => {
      const koperasi = (await board(ctx)).koperasi!;
      const startsAt = parseMeetingTime(ctx.input, koperasi.timezone);
      if (!startsAt) return { outcome: 'invalid' };
      if (startsAt <= ctx.now) return { outcome: 'past' };
      slots(ctx).startsAt = startsAt.toISOString();
      return { outcome: typeof ctx.session.slots?.meetingId === 'number' ? 'move' : 'new' };
    },
    'officer.rat_move_preview': async (ctx) => {
      const { meetingId, startsAt } = ctx.session.slots ?? {};
      if (typeof meetingId !== 'number' || typeof startsAt !== 'string') return { outcome: 'missing' };
      const koperasi = (await board(ctx)).koperasi!;
      const meeting = await ratToMove(domain, koperasi, meetingId);
      const to = new Date(startsAt);
      return {
        vars: {
          from: when(ctx, meeting.startsAt, koperasi.timezone),
          to: when(ctx, to, koperasi.timezone),
          count: count(await announcementRecipients(domain, koperasi.id)),
          limit_note: limitNote(ctx, to, meeting.bookYear, koperasi),
        },
      };
    },
    'officer.rat_move': async (ctx) => {
      const { meetingId, startsAt } = ctx.session.slots ?? {};
      if (typeof meetingId !== 'number' || typeof startsAt !== 'string') return { outcome: 'missing' };
      const officer = await board(ctx);
      const koperasi = officer.koperasi!;
      const moved = await moveRat(domain, { koperasi, meetingId, startsAt: new Date(startsAt), actor: actor(officer), via: { ...ctx.via }, now: ctx.now });
      return { outcome: 'moved', vars: { to: when(ctx, moved.meeting.startsAt, koperasi.timezone), count: count(moved.recipients) } };
    },
    'officer.rat_place': async (ctx) => {
      const place = ctx.input.trim().replace(/\s+/g, ' ');
      if (place.length < 3 || place.length > 200) return { outcome: 'invalid' };
      slots(ctx).place = place;
      return { outcome: 'ok' };
    },
    'officer.rat_set_preview': async (ctx) => {
      const { startsAt, place } = ctx.session.slots ?? {};
      if (typeof startsAt !== 'string' || typeof place !== 'string') return { outcome: 'missing' };
      const koperasi = (await board(ctx)).koperasi!;
      const at = new Date(startsAt);
      return {
        vars: {
          to: when(ctx, at, koperasi.timezone),
          place,
          count: count(await announcementRecipients(domain, koperasi.id)),
          limit_note: limitNote(ctx, at, bookYearOfRat(at, koperasi), koperasi),
        },
      };
    },
    'officer.rat_set': async (ctx) => {
      const { startsAt, place } = ctx.session.slots ?? {};
      if (typeof startsAt !== 'string' || typeof place !== 'string') return { outcome: 'missing' };
      const officer = await board(ctx);
      const koperasi = officer.koperasi!;
      const set = await setRat(domain, { koperasi, startsAt: new Date(startsAt), place, actor: actor(officer), via: { ...ctx.via }, now: ctx.now });
      return { outcome: 'set', vars: { to: when(ctx, set.meeting.startsAt, koperasi.timezone), count: count(set.recipients) } };
    },

    'officer.bimtek_list': async (ctx) => {
      const lists = await listBimtekParticipants(domain, await dinas(ctx), { ...ctx.via }, ctx.now);
      if (lists.length === 0) return { outcome: 'none' };
      const text = lists
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
      return { vars: { text } };
    },
    /**
     * A bimtek invitation answered ("ya"/"tidak" while one waits, "bimtek ya" anytime), for the
     * officers the phone's proof covers (a member link that still holds included: the
     * invitation reached the officer there). `none`: no invitation is waiting.
     */
    /**
     * A file a board member sent: the RAT report or, captioned "undangan", the invitation, attached
     * to the cooperative's RAT (src/officer/rat-documents.ts). Outcomes: attached, replaced,
     * unchanged, refused, not_downloaded, no_board (a Dinas officer), none (no file came).
     */
    'officer.attach_document': async (ctx) => {
      const document = ctx.message.document;
      if (!document) return { outcome: 'none' };
      return receiveBoardDocument(domain, { board: (await records(ctx)).find(isBoard), document, via: { ...ctx.via }, now: ctx.now, language: ctx.language, t: ctx.t });
    },
    /** Whether a bimtek invitation waits for these officers' answer (read only: a global's `if:`). */
    'officer.bimtek_waiting': async (ctx) => ({ outcome: (await invitationToAnswer(domain, ctx.officers.map((o) => o.id), false, ctx.now)) ? 'yes' : 'no' }),
    'officer.bimtek_answer': async (ctx) => {
      // A number only remembered (Telegram, no proof left): whether an invitation waits for it is
      // not said; the contact is asked for.
      if (ctx.officers.length === 0) return { outcome: ctx.message.rememberedPhone !== undefined ? 'unproven' : 'none' };
      const answered = await respondToInvitation(domain, {
        officerIds: ctx.officers.map((o) => o.id),
        attending: ctx.args.attending === true,
        aboutBimtek: ctx.args.named === true,
        now: ctx.now,
        language: ctx.language,
        channel: ctx.message.channel,
        via: { ...ctx.via },
      });
      return answered ? { outcome: 'answered', vars: { text: answered } } : { outcome: 'none' };
    },
  };

  // A refusal of the operation (the RAT was removed meanwhile, a date passed) is its sentence.
  return new Map(
    Object.entries(actions).map(([name, action]) => [
      name,
      async (ctx: ActionContext) => {
        try {
          return await action(ctx);
        } catch (error) {
          if (!isDomainError(error)) throw error;
          return { outcome: 'refused', vars: { text: error.message } };
        }
      },
    ]),
  );
}

/** The officers' action names, for `flows check` without a database (building the actions touches nothing). */
export const OFFICER_ACTION_NAMES: readonly string[] = [...officerActions(null as never, null as never).keys()];

/** The read-only actions a global's `if:` may name: they run before the turn decides (see ZGlobal.if). */
export const OFFICER_CONDITIONS: readonly string[] = ['officer.bimtek_waiting'];

/** Actions whose effect must not happen twice (see EngineOptions.onceOnly). */
export const OFFICER_ONCE_ONLY: readonly string[] = ['officer.announce_send', 'officer.dinas_send', 'officer.rat_move', 'officer.rat_set', 'officer.bimtek_answer', 'officer.attach_document'];
/** Of those, the ones that act for many: claimed in the session before they run (see EngineOptions.claimFirst). */
export const OFFICER_CLAIM_FIRST: readonly string[] = ['officer.announce_send', 'officer.dinas_send', 'officer.rat_move', 'officer.rat_set'];

/** "13/03/2027 09.00", "13-3-2027 9:00", "2027-03-13 09:00" or ISO: a meeting time in the cooperative's zone. */
export function parseMeetingTime(text: string, timeZone: string): Date | null {
  const dmy = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[,\s]+(?:jam|pukul|pk\.?)?\s*(\d{1,2})[.:](\d{2}))?\s*(?:wib|wita|wit)?$/i.exec(text.trim());
  if (dmy) {
    const [, d, m, y, h = '09', mi = '00'] = dmy;
    return parseIsoInstant(`${y}-${m!.padStart(2, '0')}-${d!.padStart(2, '0')}T${h.padStart(2, '0')}:${mi}`, timeZone);
  }
  return parseIsoInstant(text, timeZone);
}
