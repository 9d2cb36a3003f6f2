/**
 * The conversation engine: one inbound message in, the replies out, for members and officers
 * alike (one conversation per chat, one session row). It knows flows, sessions and identities
 * through ports; channels and storage are someone else's business. A turn perceives the message
 * (reads only), decides what to do (src/core/decide.ts: pure), then acts (runs actions, walks
 * nodes, renders) and saves the session.
 */
import { isDiskFullError } from '../persistence/faults.ts';
import type { Logger } from 'pino';
import type { Action, ActionArgs, ActionContext } from './actions/types.ts';
import { createCatalogue, type Catalogue, type RenderTrace } from './catalogue.ts';
import { conditionalGlobals, decide, readText, saysGlobal, understand, pickOption, visibleOptions, type Decision, type Perception } from './decide.ts';
import type { FlowBundle } from './flows/load.ts';
import type { FlowNode, MenuOption } from './flows/schema.ts';
import type { Language } from './format.ts';
import type { InboundMessage, Reply, ReplyBatch, ReplyDocument, ReplyOption } from './message.ts';
import type { Identity, MemberRef, MemberService, OfficerDirectory, OfficerRef, Services, SessionData, SessionState } from './ports.ts';
import { StaleSessionError } from './ports.ts';
import { USABLE_MEMBER_STATUSES } from './member-number.ts';
import { actingIdentity, NO_ROLES, permits, rolesOf, type Roles } from './roles.ts';
import { matchIntent, tokenize } from './text-match.ts';
import { TurnAdmission } from './turn-admission.ts';

export { understand, pickOption };

const MAX_HOPS = 25;
/** Answers to one message, when other instances keep saving this chat's session first. */
const MAX_TURN_ATTEMPTS = 3;

export interface EngineOptions {
  flows: FlowBundle;
  actions: ReadonlyMap<string, Action>;
  /**
   * Actions whose effect must not happen twice (a complaint filed, a rating saved, a code
   * spent or a wrong guess counted): a turn that ran one is not taken again when its save is
   * refused as stale.
   */
  onceOnly?: ReadonlySet<string>;
  /**
   * Once-only actions that act for many (an announcement to every member, a RAT moved): before
   * one runs, the session is saved as it stands then (the confirmation closed), so that of two
   * instances answering the same confirmation at once, the later is refused before it acts and
   * answers again from the fresher state instead of sending a second time.
   */
  claimFirst?: ReadonlySet<string>;
  services: Services;
  /** The officers on file by phone: who gets the officers' flows (none without one). */
  officers?: OfficerDirectory;
  /**
   * Read-only twins of actions, by action name: what settings.before_request would do is
   * perceived with its probe before the turn decides, and the action itself runs only if the
   * decision takes that way.
   */
  probes?: ReadonlyMap<string, Action>;
  logger: Logger;
  clock?: () => Date;
  /** Default time zone (the TZ setting). */
  timeZone?: string;
  /** The texts (default: over flows.messages). */
  catalogue?: Catalogue;
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
  readonly claimFirst: ReadonlySet<string>;
  readonly #services: Services;
  readonly #logger: Logger;
  readonly #clock: () => Date;
  readonly #chatQueues = new Map<string, Promise<void>>();
  readonly #admission = new TurnAdmission();
  readonly #officers?: OfficerDirectory;
  readonly #probes: ReadonlyMap<string, Action>;
  readonly timeZone: string;

  constructor(options: EngineOptions) {
    this.timeZone = options.timeZone ?? 'Asia/Jakarta';
    this.#flows = options.flows;
    this.#catalogue = options.catalogue ?? createCatalogue(options.flows.messages, options.logger);
    this.#actions = options.actions;
    this.onceOnly = options.onceOnly ?? new Set();
    this.claimFirst = options.claimFirst ?? new Set();
    this.#services = options.services;
    this.#logger = options.logger;
    this.#clock = options.clock ?? (() => new Date());
    this.#officers = options.officers;
    this.#probes = options.probes ?? new Map();
  }

  /** The officers with this phone on file now (none without a directory). */
  async officersOf(phone: string): Promise<OfficerRef[]> {
    return (await this.#officers?.officersOf(phone)) ?? [];
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
    // An officer's phone is never one typed: the one the channel vouches for, or remembers.
    const phone = vouched.verifiedPhone ?? vouched.rememberedPhone;
    const roles = phone && message.chatType === 'private' ? rolesOf(vouched, identity, await this.officersOf(phone)) : NO_ROLES;
    const turn = new Turn(this, vouched, identity, now, stored, roles);
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
      this.#logger.debug({ channel: message.channel, chatId: message.chatId, rule: turn.rule, replies: turn.replies.length, node: turn.node }, 'answered');
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
    const request = tokens.length > 0 && tokens.length <= 3 && (matchIntent(tokens, this.#flows.intents.filter((i) => !i.weak && !i.officer), 0.9) !== null);
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
  /** The read-only probe of an action, if it has one (what it would do, done by nothing). */
  probe(name: string): Action | undefined {
    return this.#probes.get(name);
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
  /** The rule that decided this turn (for the debug log). */
  rule = '';
  #identity: Identity;
  #state: SessionState = { node: null, data: {}, expiresAt: new Date(0), version: 0 };
  #original = '';
  #pendingText: string[] = [];
  #expiredWhileWaiting = false;
  /** The session version the next save carries (moves on when a claim was saved, see EngineOptions.claimFirst). */
  #version = 0;
  #claimed = false;
  /** A node asked for the "share my phone number" button. */
  #requestContact = false;
  /** RAT documents (issue 17): a document an action gave (ActionResult.document), for the next reply flushed. */
  #document: ReplyDocument | undefined;
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
    private readonly roles: Roles,
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
    this.#version = stored?.version ?? 0;

    const shown = this.#state.data.shown;
    const decision = decide(this.engine.flows, await this.#perceive(), {
      node: this.#state.node,
      expiredWhileWaiting: this.#expiredWhileWaiting,
      ...(shown && shown.menu === this.#state.node ? { shown: shown.labels } : {}),
    });
    this.rule = decision.rule;
    await this.#execute(decision);
    this.#flush();
    this.#tidyContactKeyboard();
    // What a multi-step flow collected lives as long as one of its questions is open.
    if (this.#state.node === null) {
      delete this.#state.data.slots;
      delete this.#state.data.shown;
    }

    const idleMs = this.#idleMinutes() * 60_000;
    const changed = JSON.stringify([this.#state.node, this.#state.data]) !== this.#original;
    // Refreshing the expiry on every message would cost a write per message; a minute of slack is harmless.
    if (changed || this.#claimed || this.now.getTime() + idleMs - storedExpiry > 60_000) {
      await sessions.save(this.message.channel, this.message.chatId, {
        node: this.#state.node,
        data: this.#state.data,
        expiresAt: new Date(this.now.getTime() + idleMs),
        // The version read (or the claim saved), even when the stored state had expired: the row is still there.
        version: this.#version,
      });
    }
  }

  /** How long the conversation waits where it stands: the open node's own idle_minutes, else the flows'. */
  #idleMinutes(): number {
    const { flows } = this.engine;
    return (this.#state.node ? flows.nodes[this.#state.node]?.idle_minutes : undefined) ?? flows.settings.idle_minutes;
  }

  /** Save the session as it stands before an action that acts for many (EngineOptions.claimFirst). */
  async #claim(): Promise<void> {
    await this.engine.services.sessions.save(this.message.channel, this.message.chatId, {
      node: this.#state.node,
      data: { ...this.#state.data },
      expiresAt: new Date(this.now.getTime() + this.#idleMinutes() * 60_000),
      version: this.#version,
    });
    this.#version++;
    this.#claimed = true;
  }

  /** Everything decide() needs, read and changed nothing: the words, the proofs, a probe of before_request. */
  async #perceive(): Promise<Perception> {
    const { flows } = this.engine;
    const { contact, button } = this.message;
    const text = readText(flows, this.message.text ?? '', (t) => tokenize(t, flows.lexicon, flows.emoji));
    const before = flows.settings.before_request;
    let named: Perception['named'];
    // Only where a rule may use it: not for a contact, a button, or a message too long to read.
    if (before && !contact && !button && text.text.length <= flows.settings.max_message_length) {
      const probe = this.engine.probe(before.action);
      const result = probe ? await probe(this.#actionContext({}, text.text)) : {};
      const target = result.outcome ? before.outcomes[result.outcome] : undefined;
      if (target) named = { target, vars: result.vars ?? {} };
    }
    // Conditional globals the whole message says (an officer's bare "ya"): their read-only conditions.
    const held = new Set<string>();
    if (!contact && !button) {
      for (const g of conditionalGlobals(flows, this.roles.onFile)) {
        if (!saysGlobal(g, text)) continue;
        if ((await this.engine.action(g.condition!)(this.#actionContext({}, text.text))).outcome === 'yes') held.add(g.name);
      }
    }
    return {
      ...text,
      held,
      contact,
      button,
      unsupported: this.message.unsupported === true,
      document: this.message.document !== undefined,
      member: verifiedMemberOf(this.#identity, this.message) !== null,
      roles: this.roles,
      named,
    };
  }

  /** Carry out one decision: switch membership, run actions, walk nodes, render. */
  async #execute(decision: Decision): Promise<void> {
    const { flows } = this.engine;
    const text = (this.message.text ?? '').trim();
    if (decision.dropWaiting) this.#state.node = null;
    const waiting = this.#state.node ? flows.nodes[this.#state.node] : undefined;
    switch (decision.kind) {
      case 'contact_not_own':
        // Someone else's contact, or a forwarded one, proves nothing about the sender.
        this.#say('contact.not_own');
        this.#requestContact = true;
        return;
      case 'contact_own': {
        // The sender's own number: thank them (a message of its own, which takes the contact
        // keyboard away), then carry on with what verification was started for.
        const phone = this.message.contact!.phone;
        this.#say('contact.received');
        this.#flush();
        // The proof is for this phone and for whom the file gives it to now, from now on.
        dropSessionProof(this.#state.data);
        this.#state.data.provenPhone = phone;
        this.#state.data.provenAt = this.now.toISOString();
        this.#state.data.provenMembers = (await this.engine.services.members.findActiveByPhone(phone)).map((m) => m.id);
        this.#state.data.provenOfficers = (await this.engine.officersOf(phone)).map((o) => o.id);
        if (decision.keepStep) {
          // An officer's step waited for this contact: it goes on with the next answer.
          this.#say('officer.contact_step_resume');
          return;
        }
        this.#state.node = null;
        this.#state.data.resume ??= 'main';
        await this.#enter('verify');
        return;
      }
      case 'share_contact_step':
        this.#say('officer.share_contact_step');
        this.#requestContact = true;
        return;
      case 'no_role':
        this.#state.node = null;
        this.#say('officer.no_role');
        return;
      case 'unsupported':
        this.#say('input.unsupported');
        if (decision.menu && waiting?.menu) this.#flush(this.#optionsOf(waiting.menu, {}, decision.menu), decision.menu);
        return;
      case 'stale_button':
        // The button of a question that is no longer open: ask it afresh rather than record an
        // answer to something that has changed since.
        this.#say('button.stale');
        this.#state.node = null;
        // What another step collected is not this question's (a Dinas text under a members' preview).
        delete this.#state.data.slots;
        await this.#enter(decision.reopen);
        return;
      case 'too_long':
        this.#say('input.too_long', { max: formatCount(flows.settings.max_message_length) });
        return;
      case 'pick':
        this.#state.node = null;
        await this.#runOption(decision.option);
        return;
      case 'go':
        this.#state.node = null;
        if (decision.forgetResume) delete this.#state.data.resume;
        await this.#enter(decision.target);
        return;
      case 'input':
        if (decision.switchFirst) await this.#runAction(flows.settings.before_request!.action, {}, text);
        await this.#answerInput(waiting!, text);
        return;
      case 'later':
        this.#state.node = null;
        this.#say('option.later');
        this.#footer();
        return;
      case 'reask':
        this.#say(decision.say, { max: String(decision.max) });
        if (waiting?.menu) this.#flush(this.#optionsOf(waiting.menu, {}, decision.node), decision.node);
        return;
      case 'enter':
        await this.#answerRequest(decision, text);
        return;
      case 'main_invalid':
        this.#say('option.invalid', { max: String(decision.max) });
        await this.#enter('main');
        return;
      case 'not_understood':
        if (decision.expired) this.#say('session.expired');
        this.#state.node = null;
        await this.#enter('not_understood');
        return;
    }
  }

  /** What the text asks for, in order; a cooperative it names switched to first. */
  async #answerRequest(decision: Extract<Decision, { kind: 'enter' }>, text: string): Promise<void> {
    const { flows } = this.engine;
    let targets = decision.targets;
    if (decision.switched) {
      const result = await this.#runAction(flows.settings.before_request!.action, {}, text);
      const switched = result.outcome ? flows.settings.before_request!.outcomes[result.outcome] : undefined;
      if (targets.length === 0) {
        // Nothing else asked: say which cooperative is shown now (or, if the switch no longer
        // holds, that the text was not understood).
        this.#state.node = null;
        await this.#enter(switched ?? 'not_understood', result.vars ?? {});
        return;
      }
      if (switched) {
        // Say which cooperative is now shown before answering for it.
        const says = flows.nodes[switched]?.say;
        for (const key of typeof says === 'string' ? [says] : (says ?? [])) this.#say(key, result.vars ?? {});
      }
    }
    this.#state.node = null;
    for (const [i, target] of targets.entries()) {
      await this.#enter(target, {}, i === targets.length - 1, decision.answer);
      if (this.#state.node !== null) break; // a question is open (verification, say): answer it first
    }
  }

  /** A menu's options as numbered choices, only those this sender sees (see visibleOptions). */
  #optionsOf(menu: readonly MenuOption[], vars: Readonly<Record<string, string>>, node: string): ReplyOption[] {
    const visible = visibleOptions(menu, this.roles);
    // A menu that depends on the roles is answered by what was shown (a role lost meanwhile
    // does not renumber it: its option is then refused by its node's guard).
    if (visible !== menu) this.#state.data.shown = { menu: node, labels: visible.map((o) => o.label) };
    else if (this.#state.data.shown?.menu === node) delete this.#state.data.shown;
    return visible.map((option, i) => ({ key: String(i + 1), label: this.engine.message(this.language, option.label, vars) }));
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
    const ctx = this.#actionContext(args, input);
    // Refused as stale here, the turn has done nothing yet: it is answered again from a fresh load.
    if (this.engine.claimFirst.has(name) && !this.#claimed) await this.#claim();
    if (this.engine.onceOnly.has(name)) this.acted = true;
    return this.engine.action(name)(ctx);
  }

  #actionContext(args: ActionArgs, input: string): ActionContext {
    const identity = () => this.#identity;
    const proof = this.roles.proof;
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
      officers: this.roles.officers,
      // Worded only for an officer's action (most turns are members').
      get via() {
        return actingIdentity(identity(), proof);
      },
    };
    return ctx;
  }

  /**
   * Walk the flow from `start` until it waits (a menu, an input) or ends. `answer`: when the walk
   * reaches that menu, the option the request already chose is run in place of asking.
   */
  async #enter(start: string, initialVars: Record<string, string> = {}, withFooter = true, answer?: { node: string; option: MenuOption }): Promise<void> {
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
      if (node.requires && node.requires !== 'member' && !permits(this.roles, node.requires)) {
        // An officer's node: the phone must be proven in this session, and the role held.
        this.#state.node = null;
        if (this.roles.onFile && !this.roles.inSession) {
          // RAT documents (issue 17): a file sent is asked to be sent again once the contact proves the phone.
          this.#say(this.message.document ? 'officer.share_contact_document' : 'officer.share_contact');
          this.#requestContact = true;
        } else if (this.roles.onFile) this.#say('officer.no_role');
        else {
          name = 'not_understood';
          continue;
        }
        return;
      }

      if (node.action) {
        const result = await this.#runAction(node.action, node.args ?? {}, this.message.text ?? '');
        vars = { ...vars, ...result.vars };
        if (result.document) this.#document = result.document; // RAT documents (issue 17)
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
      if (node.menu && answer?.node === name) {
        // "insyaallah hadir": the request answers the question this node asks, so it is not asked.
        this.#state.node = null;
        await this.#runOption(answer.option);
        return;
      }
      const says = typeof node.say === 'string' ? [node.say] : (node.say ?? []);
      for (const key of says) this.#pendingText.push(this.engine.message(this.language, key, allVars, this.message.channel, this.#trace));
      if (node.request_contact) this.#requestContact = true;

      if (node.menu) {
        this.#flush(this.#optionsOf(node.menu, allVars, name), name);
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
    // RAT documents (issue 17): the document goes with the reply its node's text is in.
    if (this.#document && this.replies.length > 0) {
      this.replies[this.replies.length - 1]!.document = this.#document;
      this.#document = undefined;
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
