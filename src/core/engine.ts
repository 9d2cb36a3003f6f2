/**
 * The conversation engine: one inbound message in, the replies out. It knows flows, sessions
 * and identities through ports; channels and storage are someone else's business.
 */
import { isDiskFullError } from '../persistence/faults.ts';
import type { Logger } from 'pino';
import type { Action, ActionArgs, ActionContext } from './actions/types.ts';
import { createCatalogue, type Catalogue, type RenderTrace } from './catalogue.ts';
import type { FlowBundle, GlobalWord } from './flows/load.ts';
import type { FlowNode, MenuOption } from './flows/schema.ts';
import type { Language } from './format.ts';
import type { InboundMessage, Reply, ReplyBatch, ReplyOption } from './message.ts';
import type { Identity, MemberRef, MemberService, Services, SessionData, SessionState } from './ports.ts';
import { StaleSessionError } from './ports.ts';
import { USABLE_MEMBER_STATUSES } from './member-number.ts';
import { knownWordsOf, matchIntent, matchIntents, normalizeText, normalizeWord, tokenize, tokenScore, wordParts } from './text-match.ts';
import { TurnAdmission } from './turn-admission.ts';

const NUMBER_ANSWER = /^(?:(?:no|nomor|nomer|nmr|pilih|pilihan|angka|yang|yg)\s*)*(\d{1,2})(?:\s+(?:ya|aja|saja|deh|dong|kak|min|pak|bu|mas|mbak|nggih|nomor|pilihan))*$/;
const MAX_HOPS = 25;
/** Answers to one message, when other instances keep saving this chat's session first. */
const MAX_TURN_ATTEMPTS = 3;
/** Small-talk targets that may still end a free-text prompt. */
const ESCAPES = new Set(['main', 'cancelled', 'help']);
const smallTalkTargets = new WeakMap<FlowBundle, Set<string>>();
/** A global's one-word forms long enough to take a typo ("bantuam"), once per global. */
const typoSafe = new WeakMap<GlobalWord, string[]>();
function typoSafeWords(global: GlobalWord): string[] {
  let words = typoSafe.get(global);
  if (!words) {
    words = [...global.words].filter((w) => w.length >= 5 && !w.includes(' '));
    typoSafe.set(global, words);
  }
  return words;
}
function smallTalk(flows: FlowBundle): Set<string> {
  let targets = smallTalkTargets.get(flows);
  if (!targets) {
    targets = new Set(flows.intents.filter((i) => i.weak).map((i) => i.go));
    smallTalkTargets.set(flows, targets);
  }
  return targets;
}

/**
 * Commands for people with a role (board members, the Dinas), answered before the member flow:
 * null when the message is not for it. It gets the message with the phone the channel vouches
 * for and how that is proven (phoneProof), or on Telegram a phone only remembered
 * (rememberedPhone, to ask for the contact again); never a phone the user typed.
 */
export interface CommandDesk {
  handle(message: InboundMessage, identity: Identity, language: Language): Promise<Reply[] | null>;
  /** The officers with this phone on file now: a contact shared for it covers these (SessionData.provenOfficers). */
  officerIdsOf?(phone: string): Promise<number[]>;
}

export interface EngineOptions {
  flows: FlowBundle;
  actions: ReadonlyMap<string, Action>;
  /**
   * Actions whose effect must not happen twice (a complaint filed, a rating saved, a code
   * spent or a wrong guess counted): a turn that ran one is not taken again when its save is
   * refused as stale.
   */
  onceOnly?: ReadonlySet<string>;
  services: Services;
  logger: Logger;
  clock?: () => Date;
  /** Default time zone (the TZ setting). */
  timeZone?: string;
  /** The texts (default: over flows.messages). */
  catalogue?: Catalogue;
}

/**
 * The nodes free text asks for, in the order to answer them: a priority intent alone; two or
 * more joined by a conjunction ("saldo dan utang") all, the one that asks a question last;
 * otherwise the best match; small talk only when nothing else matched.
 */
interface IntentGroups {
  strong: FlowBundle['intents'];
  weak: FlowBundle['intents'];
  byName: ReadonlyMap<string, FlowBundle['intents'][number]>;
  conjunctions: ReadonlySet<string>;
}
const intentGroups = new WeakMap<FlowBundle, IntentGroups>();

/** The flows' intents as understand() reads them, built once per bundle. */
function intentGroupsOf(flows: FlowBundle): IntentGroups {
  let groups = intentGroups.get(flows);
  if (!groups) {
    groups = {
      strong: flows.intents.filter((i) => !i.weak),
      weak: flows.intents.filter((i) => i.weak),
      // The first of a name, as Array.find gave.
      byName: new Map([...flows.intents].reverse().map((i) => [i.name, i])),
      conjunctions: new Set(flows.settings.conjunctions),
    };
    intentGroups.set(flows, groups);
  }
  return groups;
}

export function understand(flows: FlowBundle, tokens: readonly string[]): string[] {
  const groups = intentGroupsOf(flows);
  const intentOf = (name: string) => groups.byName.get(name)!;
  const known = knownWordsOf(flows.intents);
  const strong = matchIntents(tokens, groups.strong, 0.75, known);
  const priority = strong.find((m) => intentOf(m.name).priority);
  if (priority) return [intentOf(priority.name).go];
  const { conjunctions } = groups;
  if (strong.length >= 2 && tokens.some((t) => conjunctions.has(t))) {
    const waits = (node: string) => Number(Boolean(flows.nodes[node]?.menu ?? flows.nodes[node]?.input));
    const inOrder = [...strong].sort((a, b) => a.position - b.position).map((m) => intentOf(m.name).go);
    return [...new Set(inOrder)].sort((a, b) => waits(a) - waits(b));
  }
  const best = strong[0] ?? matchIntent(tokens, groups.weak, 0.75, known);
  return best ? [intentOf(best.name).go] : [];
}

/** The member a identity may see data of, or null: verification is re-checked on every message. */
export function verifiedMemberOf(identity: Identity, message: InboundMessage): MemberRef | null {
  const member = identity.member;
  if (!member || !identity.verifiedBy) return null;
  if (!USABLE_MEMBER_STATUSES.includes(member.status)) return null;
  // A phone verification (the sender number, or a contact the sender shared of themselves) holds
  // only while the channel still vouches for that phone and the cooperative still has it on file
  // for this member.
  if ((identity.verifiedBy === 'phone' || identity.verifiedBy === 'contact') && (message.verifiedPhone !== identity.phone || member.phone !== identity.phone)) {
    return null;
  }
  return member;
}

/** A link to a member made by the identity's phone (not by a code) that still matches the file. */
function phoneLinkHolds(identity: Identity): boolean {
  const member = identity.member;
  return (
    (identity.verifiedBy === 'phone' || identity.verifiedBy === 'contact') &&
    member !== null &&
    identity.phone !== null &&
    member.phone === identity.phone &&
    USABLE_MEMBER_STATUSES.includes(member.status)
  );
}

/** How long a contact shared in a session proves its phone, from the moment it was shared (not sliding). */
export const SESSION_PROOF_MINUTES = 15;

/**
 * Whether the contact shared earlier in this session still proves `phone`: shared less than
 * SESSION_PROOF_MINUTES ago, and every member it was on file for then still has it (`onFile`:
 * the members with the phone on file now). A change of the file that moves the phone away from
 * them ends the proof at once.
 */
export function sessionProofHolds(data: SessionData, phone: string, now: Date, onFile: readonly MemberRef[]): boolean {
  if (data.provenPhone !== phone || typeof data.provenAt !== 'string' || !Array.isArray(data.provenMembers)) return false;
  const at = Date.parse(data.provenAt);
  if (!Number.isFinite(at) || at > now.getTime() + 60_000 || now.getTime() - at >= SESSION_PROOF_MINUTES * 60_000) return false;
  return data.provenMembers.every((id) => onFile.some((m) => m.id === id));
}

/**
 * Say how this message's phone is proven (see InboundMessage.phoneProof), and whom the proof
 * covers (phoneCovers). On a channel that vouches for a phone once (a contact shared on
 * Telegram), the identity's remembered phone counts as verified only while the sender's own
 * contact proved it in this session (for the members it was on file for then, within
 * SESSION_PROOF_MINUTES of the share), or while a link made by that phone still matches the file
 * (for the linked member only). Otherwise it is only remembered: a recycled number must never
 * hand its new holder's data, memberships or roles to an old account.
 */
export async function withPhoneProof(
  message: InboundMessage,
  identity: Identity,
  session: SessionState | null,
  now: Date,
  members: Pick<MemberService, 'findActiveByPhone'>,
): Promise<InboundMessage> {
  if (message.verifiedPhone) return { ...message, phoneProof: message.phoneVerifiedBy === 'contact' ? 'contact' : 'sender' };
  if (!message.keepsVerifiedPhone || !identity.phone) return message;
  const phone = identity.phone;
  const live = session && session.expiresAt > now ? session.data : undefined;
  if (live?.provenPhone === phone && sessionProofHolds(live, phone, now, await members.findActiveByPhone(phone))) {
    return {
      ...message,
      verifiedPhone: phone,
      phoneVerifiedBy: 'contact',
      phoneProof: 'session',
      phoneCovers: [...(live.provenMembers ?? [])],
      phoneOfficers: [...(live.provenOfficers ?? [])],
    };
  }
  if (phoneLinkHolds(identity)) {
    return { ...message, verifiedPhone: phone, phoneVerifiedBy: 'contact', phoneProof: 'link', phoneCovers: [identity.member!.id], phoneOfficers: [] };
  }
  return { ...message, rememberedPhone: phone };
}

function dropSessionProof(data: SessionData): void {
  delete data.provenPhone;
  delete data.provenAt;
  delete data.provenMembers;
  delete data.provenOfficers;
}

export class ConversationEngine {
  readonly #flows: FlowBundle;
  readonly #catalogue: Catalogue;
  readonly #actions: ReadonlyMap<string, Action>;
  readonly onceOnly: ReadonlySet<string>;
  readonly #services: Services;
  readonly #logger: Logger;
  readonly #clock: () => Date;
  readonly #chatQueues = new Map<string, Promise<void>>();
  readonly #admission = new TurnAdmission();
  #desk?: CommandDesk;
  readonly timeZone: string;

  constructor(options: EngineOptions) {
    this.timeZone = options.timeZone ?? 'Asia/Jakarta';
    this.#flows = options.flows;
    this.#catalogue = options.catalogue ?? createCatalogue(options.flows.messages, options.logger);
    this.#actions = options.actions;
    this.onceOnly = options.onceOnly ?? new Set();
    this.#services = options.services;
    this.#logger = options.logger;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Officers' commands (src/officer/): consulted before the member flow. */
  setDesk(desk: CommandDesk): void {
    this.#desk = desk;
  }

  /** The officers with this phone on file now (none without a desk). */
  async officerIdsOf(phone: string): Promise<number[]> {
    return (await this.#desk?.officerIdsOf?.(phone)) ?? [];
  }

  /**
   * Answer one message. Messages of one chat are answered in the order they arrived, one at a
   * time: two quick messages must not both read the same conversation state and overwrite it.
   */
  handle(message: InboundMessage): Promise<ReplyBatch> {
    const key = `${message.channel}\u0000${message.chatId}`;
    const previous = this.#chatQueues.get(key) ?? Promise.resolve();
    // Many chats at once: one turn begins per event-loop iteration (see turn-admission.ts).
    const current = previous.then(() => this.#admission.admit()).then(() => this.#handleNow(message));
    const settled = current.then(
      () => undefined,
      () => undefined,
    );
    this.#chatQueues.set(key, settled);
    void settled.then(() => {
      if (this.#chatQueues.get(key) === settled) this.#chatQueues.delete(key);
    });
    return current;
  }

  async #handleNow(message: InboundMessage): Promise<ReplyBatch> {
    let language: Language = 'id';
    try {
      // Groups never show private data, so they need no identity (and create no rows).
      if (message.chatType === 'group') return { replies: this.#answerGroup(message, language), language };
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#answer(message, (l) => (language = l));
        } catch (error) {
          // Another instance answered this chat meanwhile and saved first. This turn's replies
          // are not sent yet: drop them and answer again from what is stored now, so the later
          // turn builds on the fresher state instead of overwriting it.
          if (!(error instanceof StaleSessionError) || attempt >= MAX_TURN_ATTEMPTS) throw error;
          this.#logger.info({ channel: message.channel, chatId: message.chatId, attempt }, 'session moved on meanwhile: answering again from a fresh load');
        }
      }
    } catch (error) {
      this.#logger.error({ err: error, channel: message.channel, chatId: message.chatId }, 'failed to answer a message');
      // A full disk is said plainly: what they sent is not saved, and trying again later helps.
      return { replies: [{ text: this.message(language, isDiskFullError(error) ? 'error.disk_full' : 'error.internal') }], language };
    }
  }

  /** One attempt at answering: identity and session read afresh, the session saved at the end. */
  async #answer(message: InboundMessage, onLanguage: (language: Language) => void): Promise<ReplyBatch> {
    // Identity and session in one read (one round trip on PostgreSQL).
    const { identity, session: stored } = await this.#services.beginTurn(message.channel, message.externalUserId, message.chatId, message.verifiedPhone);
    const language = identity.language;
    onLanguage(language);
    const now = this.#clock();
    const vouched = await withPhoneProof(message, identity, stored, now, this.#services.members);
    if (this.#desk && (vouched.verifiedPhone || vouched.rememberedPhone)) {
      const desk = await this.#desk.handle(vouched, identity, language);
      if (desk) {
        // The officer is talking to the desk: the session that proved the phone stays open.
        if (vouched.phoneProof === 'session' && stored) {
          await this.#services.sessions.save(message.channel, message.chatId, { ...stored, expiresAt: new Date(now.getTime() + this.#flows.settings.idle_minutes * 60_000) });
        }
        return { replies: desk, language };
      }
    }
    const turn = new Turn(this, vouched, identity, now, stored);
    try {
      await turn.run();
    } catch (error) {
      if (!(error instanceof StaleSessionError) || !turn.acted) throw error;
      // Another instance answered this chat meanwhile, and this turn has already done what may
      // not be done twice (filed the complaint, spent the code): its answer, which says so, goes
      // out, and the conversation goes on from the state the other instance saved.
      this.#logger.warn({ channel: message.channel, chatId: message.chatId }, 'session moved on meanwhile after an action that may not run twice: its answer is sent, the turn not taken again');
    }
    if (this.#logger.isLevelEnabled('debug')) {
      // Never the text itself: members write personal things in complaints.
      this.#logger.debug({ channel: message.channel, chatId: message.chatId, replies: turn.replies.length, node: turn.node }, 'answered');
    }
    return { replies: turn.replies, language: turn.language };
  }

  /** In a group, private data is never shown: answer a service request with a pointer, ignore chatter. */
  #answerGroup(message: InboundMessage, language: Language): Reply[] {
    const text = (message.text ?? '').trim();
    // Only a command ("/saldo", "/start") or a short, clear request: members talk to each other
    // in groups, and a bot that answers chatter gets removed.
    const command = /^\/[a-z]/i.test(text);
    const tokens = tokenize(text.slice(0, 500), this.#flows.lexicon, this.#flows.emoji);
    const request = tokens.length > 0 && tokens.length <= 3 && (matchIntent(tokens, this.#flows.intents.filter((i) => !i.weak), 0.9) !== null);
    if (!command && !request) return [];
    return [{ text: this.message(language, 'group.private_only') }];
  }

  /** A text a flow names, through the catalogue (lookup rules in src/core/catalogue.ts). */
  message(language: Language, key: string, vars: Readonly<Record<string, string>> = {}, channel?: string, trace?: RenderTrace): string {
    return this.#catalogue.lookup(language, key, vars, channel, trace);
  }

  get flows(): FlowBundle {
    return this.#flows;
  }
  get services(): Services {
    return this.#services;
  }
  get logger(): Logger {
    return this.#logger;
  }
  action(name: string): Action {
    const action = this.#actions.get(name);
    if (!action) throw new Error(`unknown action ${name}`);
    return action;
  }
}

/** One message's worth of conversation: the state it reads, the replies it builds. */
class Turn {
  readonly replies: Reply[] = [];
  language: Language;
  /** Ran an action that may not run twice (EngineOptions.onceOnly). */
  acted = false;
  #identity: Identity;
  #state: SessionState = { node: null, data: {}, expiresAt: new Date(0), version: 0 };
  #original = '';
  #pendingText: string[] = [];
  #expiredWhileWaiting = false;
  /** A node asked for the "share my phone number" button. */
  #requestContact = false;
  /** Substituted data values that contain markup characters (see Reply.literals). */
  readonly #trace: RenderTrace = { literals: new Set(), rendered: new Set() };

  /** Where the conversation waits after this turn (for logs). */
  get node(): string | null {
    return this.#state.node;
  }

  constructor(
    private readonly engine: ConversationEngine,
    private readonly message: InboundMessage,
    identity: Identity,
    private readonly now: Date,
    private readonly stored: SessionState | null,
  ) {
    this.#identity = identity;
    this.language = identity.language;
  }

  async run(): Promise<void> {
    const { sessions } = this.engine.services;
    const stored = this.stored;
    if (stored && stored.expiresAt > this.now) this.#state = { ...stored, data: { ...stored.data } };
    else if (stored?.node) this.#expiredWhileWaiting = true;
    // A contact proof that no longer holds (too old, or the file moved the phone) is not carried on.
    if (this.#state.data.provenPhone !== undefined && this.message.phoneProof !== 'session') dropSessionProof(this.#state.data);
    this.#original = JSON.stringify([this.#state.node, this.#state.data]);
    const storedExpiry = stored?.expiresAt.getTime() ?? 0;

    await this.#dispatch(this.message.text ?? '');
    this.#flush();
    this.#tidyContactKeyboard();

    const idleMs = this.engine.flows.settings.idle_minutes * 60_000;
    const changed = JSON.stringify([this.#state.node, this.#state.data]) !== this.#original;
    // Refreshing the expiry on every message would cost a write per message; a minute of slack is harmless.
    if (changed || this.now.getTime() + idleMs - storedExpiry > 60_000) {
      await sessions.save(this.message.channel, this.message.chatId, {
        node: this.#state.node,
        data: this.#state.data,
        expiresAt: new Date(this.now.getTime() + idleMs),
        // The version read, even when the stored state had expired: the row is still there.
        version: stored?.version ?? 0,
      });
    }
  }

  async #dispatch(rawText: string): Promise<void> {
    const { flows } = this.engine;
    const text = rawText.trim();
    let waiting = this.#state.node ? flows.nodes[this.#state.node] : undefined;
    if (waiting?.requires === 'member' && !verifiedMemberOf(this.#identity, this.message)) {
      // Verification lapsed (phone changed, member left) while a member-only question was open:
      // the question is gone, the message is read afresh.
      this.#state.node = null;
      waiting = undefined;
    }

    const { contact, button } = this.message;
    if (contact) {
      if (!contact.own) {
        // Someone else's contact, or a forwarded one, proves nothing about the sender.
        this.#say('contact.not_own');
        this.#requestContact = true;
        return;
      }
      // The sender's own number: thank them (a message of its own, which takes the contact
      // keyboard away), then carry on with what verification was started for.
      this.#say('contact.received');
      this.#flush();
      // The proof is for this phone and for whom the file gives it to now, from now on.
      dropSessionProof(this.#state.data);
      const { members } = this.engine.services;
      this.#state.data.provenPhone = contact.phone;
      this.#state.data.provenAt = this.now.toISOString();
      this.#state.data.provenMembers = (await members.findActiveByPhone(contact.phone)).map((m) => m.id);
      this.#state.data.provenOfficers = await this.engine.officerIdsOf(contact.phone);
      this.#state.node = null;
      this.#state.data.resume ??= 'main';
      await this.#enter('verify');
      return;
    }
    if (this.message.unsupported && text === '') {
      this.#say('input.unsupported');
      if (waiting?.menu) this.#flush(this.#optionsOf(waiting.menu, {}), this.#state.node ?? 'main');
      return;
    }
    if (button) {
      const open = this.#state.node ?? 'main';
      if (button.menu !== open) {
        if (button.menu === 'main' && flows.nodes.main?.menu) {
          // A main-menu button of an earlier message: the member has moved on.
          this.#state.node = null;
          waiting = undefined;
        } else {
          // The button of a question that is no longer open: ask it afresh rather than record an
          // answer to something that has changed since.
          this.#say('button.stale');
          this.#state.node = null;
          await this.#enter(flows.nodes[button.menu]?.menu ? button.menu : 'main');
          return;
        }
      }
    }

    if (text.length > flows.settings.max_message_length && !waiting?.input) {
      this.#say('input.too_long', { max: formatCount(flows.settings.max_message_length) });
      return;
    }
    const tokens = tokenize(text.slice(0, flows.settings.max_message_length), flows.lexicon, flows.emoji);
    const normalized = tokens.join(' ');
    const plain = normalizeText(text.slice(0, 200));

    // The waiting menu's own words come first when they are the whole message: "english" in the
    // language menu picks English rather than reopening the language menu.
    const exact = text.includes('?')
      ? undefined
      : waiting?.menu?.find((option) => [...option.words, ...option.exact].some((w) => normalizeWord(w) === plain || normalizeWord(w) === normalized));
    if (exact) {
      this.#state.node = null;
      await this.#runOption(exact);
      return;
    }

    const global = flows.globals.find(
      (g) =>
        g.words.has(normalized) ||
        g.words.has(plain) ||
        (text === '?' && g.words.has('?')) ||
        // A typo in a one-word command ("bantuam", "berhenri"), for words long enough to be safe.
        (tokens.length === 1 && typoSafeWords(g).some((w) => tokenScore(tokens[0]!, w) >= 0.8)),
    );
    if (global) {
      this.#state.node = null;
      delete this.#state.data.resume;
      await this.#enter(global.go);
      return;
    }

    if (waiting?.input) {
      // A short "balik menu", "ga jadi", "cek saldo dulu" is a way out, not the answer being waited
      // for, unless it leads back to this same question ("nilai 4" at the rating prompt).
      const waitingFor = waiting.input.action;
      const escape =
        tokens.length <= 4 && !/^\d/.test(normalized)
          ? understand(flows, tokens).find(
              (t) => flows.nodes[t]?.input?.action !== waitingFor && t !== this.#state.node && (ESCAPES.has(t) || !smallTalk(flows).has(t)),
            )
          : undefined;
      if (escape) {
        this.#state.node = null;
        delete this.#state.data.resume;
        await this.#enter(escape);
        return;
      }
      const before = flows.settings.before_request;
      if (before) await this.#runAction(before.action, {}, text);
      await this.#answerInput(waiting, text);
      return;
    }

    const menu = waiting?.menu ?? flows.nodes.main?.menu;
    const picked = menu ? pickOption(menu, normalized, tokens, text, flows) : null;
    if (picked) {
      this.#state.node = null;
      await this.#runOption(picked);
      return;
    }

    if (waiting?.menu && tokens.some((t) => flows.doubt.has(t))) {
      // "belum tau, nanti sy kabari": no answer yet, and that is fine.
      this.#state.node = null;
      this.#say('option.later');
      this.#footer();
      return;
    }
    let switched: { target: string; vars: Record<string, string> } | undefined;
    const before = flows.settings.before_request;
    if (before) {
      const result = await this.#runAction(before.action, {}, text);
      const target = result.outcome ? before.outcomes[result.outcome] : undefined;
      if (target) switched = { target, vars: result.vars ?? {} };
    }
    const targets = understand(flows, tokens);
    const attemptsAnswer =
      waiting?.menu !== undefined &&
      (tokens.some((t) => flows.negations.has(t)) ||
        waiting.menu.some((o) => [...o.words, ...o.exact].some((w) => tokens.includes(normalizeWord(w)))));
    if (waiting?.menu && attemptsAnswer && this.#state.node !== null && targets.includes(this.#state.node)) {
      // An unclear answer to the same question ("tidak, saya hadir kok"): ask it again, briefly.
      // "kapan rat" asked again gets the whole answer.
      this.#say('option.repeat');
      this.#flush(this.#optionsOf(waiting.menu, {}), this.#state.node ?? 'main');
      return;
    }
    if (targets.length === 0 && switched) {
      this.#state.node = null;
      await this.#enter(switched.target, switched.vars);
      return;
    }
    if (waiting?.menu && this.#state.node !== null && (targets.every((t) => smallTalk(flows).has(t) && !ESCAPES.has(t)) && targets.length > 0)) {
      // "ok", "👍" at "Apakah Anda akan hadir?" is not an answer: keep the question open.
      this.#say('option.repeat');
      this.#flush(this.#optionsOf(waiting.menu, {}), this.#state.node ?? 'main');
      return;
    }
    if (waiting?.menu && this.#state.node !== null && targets.length === 0 && text.includes('?')) {
      // "jam berapa mulainya?", "dimana tempatnya?": the details are in the question's own screen.
      const again = this.#state.node;
      this.#state.node = null;
      await this.#enter(again);
      return;
    }
    if (switched && targets.length > 0) {
      // Say which cooperative is now shown before answering for it.
      const says = flows.nodes[switched.target]?.say;
      for (const key of typeof says === 'string' ? [says] : (says ?? [])) this.#say(key, switched.vars);
    }
    if (targets.length > 0) {
      this.#state.node = null;
      for (const [i, target] of targets.entries()) {
        await this.#enter(target, {}, i === targets.length - 1);
        if (this.#state.node !== null) break; // a question is open (verification, say): answer it first
      }
      // "insyaallah hadir", "sy ga bisa dateng": the request already answers the question it opens.
      const opened = this.#state.node ? flows.nodes[this.#state.node] : undefined;
      if (targets.length === 1 && opened?.menu && opened.answer_in_request) {
        const picked = pickOption(opened.menu, normalized, tokens, text, flows);
        if (picked) {
          this.replies.pop();
          this.#state.node = null;
          await this.#runOption(picked);
        }
      }
      return;
    }

    if (waiting?.menu) {
      // Anything else while a question is open: ask the same question again, briefly, and keep it open.
      this.#say(/^\d+$/.test(normalized) ? 'option.invalid' : 'option.repeat', { max: String(waiting.menu.length) });
      this.#flush(this.#optionsOf(waiting.menu, {}), this.#state.node ?? 'main');
      return;
    }

    const mainMenu = flows.nodes.main?.menu;
    if (/^\d{3,}$/.test(normalized) && flows.nodes.member_number_given && !verifiedMemberOf(this.#identity, this.message)) {
      // "004" from a phone not on file: a member number, the start of the activation route.
      await this.#enter('member_number_given');
      return;
    }
    if (mainMenu && /^\d+$/.test(normalized)) {
      this.#say('option.invalid', { max: String(mainMenu.length) });
      await this.#enter('main');
      return;
    }

    if (this.#expiredWhileWaiting) this.#say('session.expired');
    this.#state.node = null;
    await this.#enter('not_understood');
  }

  #optionsOf(menu: readonly MenuOption[], vars: Readonly<Record<string, string>>): ReplyOption[] {
    return menu.map((option, i) => ({ key: String(i + 1), label: this.engine.message(this.language, option.label, vars) }));
  }

  async #answerInput(node: FlowNode, text: string): Promise<void> {
    const input = node.input!;
    if (text.length > input.max_length) {
      this.#say('input.too_long', { max: formatCount(input.max_length) });
      return; // still waiting for the same input
    }
    this.#state.node = null;
    const result = await this.#runAction(input.action, input.args ?? {}, text);
    const target = result.outcome ? input.outcomes[result.outcome] : undefined;
    if (target) await this.#enter(target, result.vars);
    else this.#footer();
  }

  async #runOption(option: MenuOption): Promise<void> {
    let vars: Record<string, string> = {};
    if (option.action) vars = (await this.#runAction(option.action, option.args ?? {}, '')).vars ?? {};
    if (option.go) await this.#enter(option.go, vars);
    else this.#footer();
  }

  async #runAction(name: string, args: ActionArgs, input: string) {
    const ctx: ActionContext = {
      services: this.engine.services,
      identity: this.#identity,
      member: verifiedMemberOf(this.#identity, this.message),
      message: this.message,
      session: this.#state.data,
      language: this.language,
      now: this.now,
      timeZone: this.engine.timeZone,
      args,
      input,
      t: (key, vars) => this.engine.message(this.language, key, vars, this.message.channel, this.#trace),
      has: (key) => this.engine.flows.messages[this.language][key] !== undefined,
      setLanguage: (language) => {
        this.language = language;
        ctx.language = language;
      },
      setIdentity: (identity) => {
        this.#identity = identity;
        ctx.identity = identity;
        ctx.member = verifiedMemberOf(identity, this.message);
      },
    };
    if (this.engine.onceOnly.has(name)) this.acted = true;
    return this.engine.action(name)(ctx);
  }

  async #enter(start: string, initialVars: Record<string, string> = {}, withFooter = true): Promise<void> {
    const { flows } = this.engine;
    let name = start;
    let vars: Record<string, string> = { ...initialVars };
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      if (name === '$resume') {
        name = this.#state.data.resume ?? 'main';
        delete this.#state.data.resume;
      }
      const node = flows.nodes[name];
      if (!node) throw new Error(`flow node ${name} does not exist`);

      if (node.requires === 'member' && !verifiedMemberOf(this.#identity, this.message)) {
        if (this.#identity.member) await this.engine.services.identities.unbind(this.#identity);
        this.#state.data.resume = name;
        name = 'verify';
        continue;
      }

      if (node.action) {
        const result = await this.#runAction(node.action, node.args ?? {}, this.message.text ?? '');
        vars = { ...vars, ...result.vars };
        const target = result.outcome ? node.outcomes?.[result.outcome] : undefined;
        if (target) {
          name = target;
          continue;
        }
      }

      const member = verifiedMemberOf(this.#identity, this.message);
      const baseVars: Record<string, string> = member
        ? { member_name: member.name, koperasi_name: member.koperasiName, member_number: member.memberNumber, greeting_name: `, ${firstName(member.name)}` }
        : { greeting_name: '' };
      const allVars = { ...baseVars, ...vars };
      const says = typeof node.say === 'string' ? [node.say] : (node.say ?? []);
      for (const key of says) this.#pendingText.push(this.engine.message(this.language, key, allVars, this.message.channel, this.#trace));
      if (node.request_contact) this.#requestContact = true;

      if (node.menu) {
        this.#flush(this.#optionsOf(node.menu, allVars), name);
        this.#state.node = name === 'main' ? null : name;
        return;
      }
      if (node.input) {
        this.#state.node = name;
        return;
      }
      if (node.next) {
        name = node.next;
        continue;
      }
      this.#state.node = null;
      if (withFooter) this.#footer();
      return;
    }
    throw new Error(`flow loops past ${MAX_HOPS} hops from ${start}`);
  }

  #say(key: string, vars: Record<string, string> = {}): void {
    this.#pendingText.push(this.engine.message(this.language, key, vars, this.message.channel, this.#trace));
  }

  #footer(): void {
    this.#say('footer');
  }

  /** The contact keyboard goes away with the first plain reply after it is no longer asked for. */
  #tidyContactKeyboard(): void {
    const data = this.#state.data;
    if (this.replies.some((r) => r.requestContact)) {
      data.contactAsked = true;
      return;
    }
    if (!data.contactAsked) return;
    const plain = this.replies.find((r) => !r.options?.length);
    if (plain) {
      plain.removeKeyboard = true;
      delete data.contactAsked;
    }
  }

  /** Texts said in one go become one message; a menu closes it. */
  #flush(options?: ReplyOption[], menu?: string): void {
    if (this.#pendingText.length > 0 || options) {
      const text = this.#pendingText.filter((t) => t !== '').join('\n\n');
      this.#pendingText = [];
      const literals = [...this.#trace.literals].filter((value) => text.includes(value));
      this.replies.push({ text, ...(options ? { options } : {}), ...(options && menu ? { menu } : {}), ...(literals.length > 0 ? { literals } : {}) });
    }
    const last = this.replies[this.replies.length - 1];
    if (this.#requestContact && last && !last.options && this.message.canRequestContact) {
      last.requestContact = { label: this.engine.message(this.language, 'contact.button') };
      this.#requestContact = false;
    }
  }
}

const HONORIFICS = /^(moh|moch|mochammad|muh|m|h|hj|hajjah|haji|drs|dra|dr|ir|prof|kh|ust|ustadz|st|sdr|bpk|ibu|bu|pak|bapak|mbak|mas|raden|r|rr|ny|nn|tn)\.?$/i;

/** "Moh. Hasan" → "Hasan", "Hj. Siti Aminah" → "Siti", "Budi" → "Budi". */
export function firstName(name: string): string {
  const words = name.trim().split(/\s+/);
  const first = words.find((w) => !HONORIFICS.test(w) && !w.endsWith('.') && w.length > 1);
  return first ?? words[words.length - 1] ?? name.trim();
}

function formatCount(n: number): string {
  return n.toLocaleString('id-ID');
}

/**
 * Which menu option a message picks: a number ("2", "2.", "no 2", "pilih 2 ya", "2️⃣"), or the
 * option's own words ("hadir", "tidak hadir"). A negation anywhere ("sy tidak akan hadir", "ta'
 * bisa dateng", "I will not attend") picks the option that is itself negative; doubt ("belum tau",
 * "mungkin") or a question ("yg hadir istri sy boleh?") picks nothing, so the question is asked
 * again rather than the wrong answer recorded. Otherwise the longest matching phrase wins.
 */
export function pickOption(
  menu: readonly MenuOption[],
  normalized: string,
  tokens: readonly string[],
  rawText: string,
  words: Pick<FlowBundle, 'negations' | 'doubt'>,
): MenuOption | null {
  const NEGATIONS = words.negations;
  const number = NUMBER_ANSWER.exec(normalized);
  if (number) return menu[Number(number[1]) - 1] ?? null;
  const whole = menu.find((o) => o.exact.some((w) => normalizeWord(w) === normalized));
  if (whole) return whole;
  if (tokens.some((t) => words.doubt.has(t)) || rawText.includes('?')) return null;
  // "hadir tidak", "datang gak": asked, not answered.
  if (tokens.length > 1 && NEGATIONS.has(tokens[tokens.length - 1]!)) return null;

  const partsOf = wordParts;
  const mentions = (words: readonly string[]) =>
    words.some((word) => {
      const parts = partsOf(word);
      for (let i = 0; i + parts.length <= tokens.length; i++) {
        if (parts.every((p, k) => tokenScore(tokens[i + k]!, p) >= 0.8)) return true;
      }
      return false;
    });

  // "tidak ada halangan" is a yes: a positive option's own phrase with a negation in it wins first.
  const positiveNegated = menu.find(
    (o) => !o.negative && o.words.some((w) => partsOf(w).length > 1 && partsOf(w).some((p) => NEGATIONS.has(p)) && mentions([w])),
  );
  if (positiveNegated) return positiveNegated;
  const flagged = menu.filter((o) => o.negative);
  const negative =
    flagged.length > 0 ? flagged : menu.filter((o) => [...o.words, ...o.exact].some((w) => partsOf(w).some((p) => NEGATIONS.has(p))));
  if (negative.length === 1 && tokens.some((t) => NEGATIONS.has(t))) {
    // Where the negation stands decides: "tidak akan hadir", "ga bisa dateng" (before an option
    // word) or a leading "enggak, ada acara" mean no; "saya hadir, tidak ada halangan" means yes;
    // "tidak, saya hadir kok" says both and is asked again.
    const optionWords = new Set(
      menu
        .flatMap((o) => [...o.words, ...o.exact].filter((w) => !partsOf(w).some((p) => NEGATIONS.has(p)) || o === negative[0]).flatMap(partsOf))
        .filter((p) => !NEGATIONS.has(p) && p.length >= 3),
    );
    const isOptionWord = (t: string) => {
      for (const w of optionWords) if (tokenScore(t, w) >= 0.8) return true;
      return false;
    };
    // "tidak, saya hadir": a leading no set off by punctuation answers something else.
    const standaloneLead = /^\W*\p{L}+\s*[,.!;]/u.test(rawText);
    const negatedWord = tokens.some((t, i) => NEGATIONS.has(t) && !(i === 0 && standaloneLead) && tokens.slice(i + 1, i + 4).some(isOptionWord));
    if (negatedWord) return negative[0]!;
    if (NEGATIONS.has(tokens[0]!)) return tokens.slice(1).some(isOptionWord) ? null : negative[0]!;
  }

  let best: { option: MenuOption; length: number } | null = null;
  let tie = false;
  for (const option of menu) {
    let length = 0;
    for (const word of option.words) {
      const parts = partsOf(word);
      if (parts.length > length && mentions([word])) length = parts.length;
    }
    if (length === 0) continue;
    if (!best || length > best.length) {
      best = { option, length };
      tie = false;
    } else if (length === best.length) tie = true;
  }
  return best && !tie ? best.option : null;
}
