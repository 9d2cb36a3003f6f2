/**
 * What the bot does with one message, decided before anything is done: `decide(flows,
 * perception, point)` reads the message as perceived (its words, the sender's proofs and roles,
 * what a before-request probe found) and where the conversation stands, and returns one
 * decision. It awaits nothing and changes nothing, so "what would the bot do with this text in
 * this state" is a table test without a database. The engine's executor then acts on it.
 *
 * Precedence is the order of RULES below: the first rule that decides, decides.
 */
import type { FlowBundle, GlobalWord } from './flows/load.ts';
import type { FlowNode, MenuOption } from './flows/schema.ts';
import { permits, type Roles } from './roles.ts';
import { knownWordsOf, matchIntent, matchIntents, normalizeText, normalizeWord, tokenScore, wordParts } from './text-match.ts';

const NUMBER_ANSWER = /^(?:(?:no|nomor|nomer|nmr|pilih|pilihan|angka|yang|yg)\s*)*(\d{1,2})(?:\s+(?:ya|aja|saja|deh|dong|kak|min|pak|bu|mas|mbak|nggih|nomor|pilihan))*$/;
/** Small-talk targets that may still end a free-text prompt. */
const ESCAPES = new Set(['main', 'cancelled', 'help']);

/** The message as the executor perceived it: pure data, read before deciding. */
export interface Perception {
  /** The text, trimmed. */
  text: string;
  tokens: readonly string[];
  /** The tokens joined (lexicon and emoji applied). */
  normalized: string;
  /** The text's first 200 characters, normalised without the lexicon. */
  plain: string;
  contact?: { phone: string; own: boolean };
  button?: { menu: string; key: string };
  /** Something the bot cannot read (a voice note, a photo without caption). */
  unsupported: boolean;
  /** A file came with the message (InboundMessage.document): from an officer's phone, a RAT document. */
  document?: boolean;
  /** The sender is a member verified on this channel now (verifiedMemberOf). */
  member: boolean;
  roles: Roles;
  /** Where settings.before_request would lead (its probe: a cooperative the text names), if anywhere. */
  named?: { target: string; vars: Record<string, string> };
  /** The globals with an `if:` whose words match and whose condition holds. */
  held?: ReadonlySet<string>;
}

/** Where the conversation stands before the message. */
export interface ConversationPoint {
  /** The node whose question is open (null: none). */
  node: string | null;
  /** A question was open when the session ran out. */
  expiredWhileWaiting?: boolean;
  /** For a role-dependent menu: the labels of the options shown, in order (SessionData.shown). */
  shown?: readonly string[];
}

export type DecisionBody =
  /** Someone else's contact, or a forwarded one: it proves nothing. */
  | { kind: 'contact_not_own' }
  /** The sender's own contact: record the proof, then verify (or, mid officer step, carry on with it). */
  | { kind: 'contact_own'; keepStep: boolean }
  /** An officer's step is open and the phone's proof has ended: the contact again, the step waits. */
  | { kind: 'share_contact_step' }
  /** An officer's step is open and the role has gone meanwhile. */
  | { kind: 'no_role' }
  | { kind: 'unsupported'; menu?: string }
  /** The button of a question no longer open: say so and ask afresh. */
  | { kind: 'stale_button'; reopen: string }
  | { kind: 'too_long' }
  /** A menu answer: run the option. */
  | { kind: 'pick'; option: MenuOption }
  /** Go to a node, the question open (if any) closed. */
  | { kind: 'go'; target: string; forgetResume: boolean }
  /** The text answers the open free-text question; a cooperative it names is switched to first. */
  | { kind: 'input'; node: string; switchFirst: boolean }
  /** "belum tau": no answer yet, and that is fine. */
  | { kind: 'later' }
  /** Ask the open question again, briefly. */
  | { kind: 'reask'; node: string; say: 'option.repeat' | 'option.invalid'; max: number }
  /**
   * Answer what was asked: switch to a cooperative the text names (when `switched`), then enter
   * each target in turn. `answer`: the request already answers the question its node opens
   * ("insyaallah hadir"): that option is run in place of asking.
   */
  | { kind: 'enter'; targets: string[]; switched?: { target: string; vars: Record<string, string> }; answer?: { node: string; option: MenuOption } }
  /** A number with no menu open: the main menu, with the count. */
  | { kind: 'main_invalid'; max: number }
  | { kind: 'not_understood'; expired: boolean };

export type Decision = DecisionBody & {
  /** The rule that decided (for the debug log and the table tests). */
  rule: string;
  /** The open question is dropped before acting (its proof lapsed, or a main-menu button moved on). */
  dropWaiting: boolean;
};

/** What rules read, worked out once per message and only when a rule asks for it. */
class Reading {
  readonly waiting: FlowNode | undefined;
  /** The node name of `waiting` (null when none). */
  readonly node: string | null;
  readonly dropWaiting: boolean;
  #targets?: string[];

  constructor(
    readonly flows: FlowBundle,
    readonly p: Perception,
    readonly at: ConversationPoint,
  ) {
    let node = at.node;
    let waiting = node ? flows.nodes[node] : undefined;
    let drop = false;
    // Verification lapsed (phone changed, member left) while a member-only question was open:
    // the question is gone, the message is read afresh.
    if (waiting?.requires === 'member' && !p.member) {
      node = null;
      waiting = undefined;
      drop = true;
    }
    // A main-menu button of an earlier message: the member has moved on.
    if (waiting && p.button && p.button.menu !== node && p.button.menu === 'main' && flows.nodes.main?.menu) {
      node = null;
      waiting = undefined;
      drop = true;
    }
    this.waiting = waiting;
    this.node = node;
    this.dropWaiting = drop;
  }

  #menu?: readonly MenuOption[] | null;
  /** The open menu's options this sender sees (role-dependent options only for that role). */
  get menu(): readonly MenuOption[] | undefined {
    this.#menu ??= this.waiting?.menu ? menuAsShown(this.waiting.menu, this.p.roles, this.at.shown) : null;
    return this.#menu ?? undefined;
  }

  /** The nodes the text asks for (understand()), the officers' intents only for an officer's phone. */
  get targets(): string[] {
    this.#targets ??= understand(this.flows, this.p.tokens, this.p.roles.onFile);
    return this.#targets;
  }

  isSmallTalk(target: string): boolean {
    return smallTalk(this.flows).has(target);
  }
}

type Rule = { name: string; decide(r: Reading): DecisionBody | null };

const answerPatterns = new Map<string, RegExp>();
/** The open input's answer_pattern matches the whole text: it is the answer, whatever words it resembles. */
function isTheAnswer(waiting: FlowNode | undefined, text: string): boolean {
  const source = waiting?.input?.answer_pattern;
  if (source === undefined) return false;
  let pattern = answerPatterns.get(source);
  if (!pattern) answerPatterns.set(source, (pattern = new RegExp(`^(?:${source})$`, 'i')));
  return pattern.test(text);
}

/** Officers' requirements (anything but `member`). */
function needsOfficer(node: FlowNode | undefined): node is FlowNode & { requires: 'officer' | 'board' | 'dinas' } {
  return node?.requires !== undefined && node.requires !== 'member';
}

/** The rules, in order of precedence: the first that decides, decides. */
export const RULES: readonly Rule[] = [
  {
    name: 'contact',
    decide: ({ p, waiting }) => {
      if (!p.contact) return null;
      if (!p.contact.own) return { kind: 'contact_not_own' };
      return { kind: 'contact_own', keepStep: needsOfficer(waiting) };
    },
  },
  {
    // An officer's step under way whose proof or role has ended.
    name: 'officer_step_lapsed',
    decide: ({ p, waiting }) => {
      if (!needsOfficer(waiting) || permits(p.roles, waiting.requires)) return null;
      return p.roles.onFile && !p.roles.inSession ? { kind: 'share_contact_step' } : { kind: 'no_role' };
    },
  },
  {
    // RAT documents (issue 17): a file from an officer's phone is the RAT report or invitation
    // (flows/officer.yaml, officer_document), whatever its caption says; anyone else's is not read.
    name: 'officer_document',
    decide: ({ p, flows }) => (p.document && p.roles.onFile && flows.nodes.officer_document ? { kind: 'go', target: 'officer_document', forgetResume: false } : null),
  },
  {
    name: 'unsupported',
    decide: ({ p, waiting, node }) => (p.unsupported && p.text === '' ? { kind: 'unsupported', menu: waiting?.menu ? (node ?? 'main') : undefined } : null),
  },
  {
    name: 'stale_button',
    decide: ({ p, flows, node }) => {
      if (!p.button || p.button.menu === (node ?? 'main')) return null;
      if (p.button.menu === 'main' && flows.nodes.main?.menu) return null; // read on (Reading dropped the open question)
      return { kind: 'stale_button', reopen: flows.nodes[p.button.menu]?.menu ? p.button.menu : 'main' };
    },
  },
  {
    name: 'too_long',
    decide: ({ p, flows, waiting }) => (p.text.length > flows.settings.max_message_length && !waiting?.input ? { kind: 'too_long' } : null),
  },
  {
    // The open menu's own words come first when they are the whole message: "english" in the
    // language menu picks English rather than reopening the language menu.
    name: 'menu_word',
    decide: (r) => {
      if (r.p.text.includes('?')) return null;
      const { plain, normalized } = r.p;
      const option = r.menu?.find((o) => [...o.words, ...o.exact].some((w) => normalizeWord(w) === plain || normalizeWord(w) === normalized));
      return option ? { kind: 'pick', option } : null;
    },
  },
  {
    name: 'global',
    decide: ({ p, flows, waiting }) => {
      if (isTheAnswer(waiting, p.text)) return null;
      const global = globalOf(flows, p, waiting === undefined);
      if (!global) return null;
      // Where everything typed is the answer (an announcement), only the ways out leave: menu,
      // help, cancel, the officer menu; "stop" there is text, not the member's unsubscribe.
      if (waiting?.input && !waiting.input.escape && !(global.cancels || global.officer || ESCAPES.has(global.go))) return null;
      // A cancel word at a step with a cancel of its own ("batal" while an announcement is written).
      if (global.cancels && waiting?.cancel) return { kind: 'go', target: waiting.cancel, forgetResume: true };
      return { kind: 'go', target: global.go, forgetResume: true };
    },
  },
  {
    // A short "balik menu", "ga jadi", "cek saldo dulu" is a way out, not the answer being waited
    // for, unless it leads back to this same question ("nilai 4" at the rating prompt).
    name: 'input_escape',
    decide: (r) => {
      const { waiting, p, flows } = r;
      if (!waiting?.input?.escape || p.tokens.length > 4 || /^\d/.test(p.normalized) || isTheAnswer(waiting, p.text)) return null;
      const waitingFor = waiting.input.action;
      const escape = r.targets.find((t) => flows.nodes[t]?.input?.action !== waitingFor && t !== r.node && (ESCAPES.has(t) || !r.isSmallTalk(t)));
      return escape ? { kind: 'go', target: escape, forgetResume: true } : null;
    },
  },
  {
    name: 'input',
    // A cooperative the text names is switched to first, for a member's answer only: an officer's
    // announcement or meeting place that names one is what they typed, not a request.
    decide: ({ waiting, node, p }) => (waiting?.input && node ? { kind: 'input', node, switchFirst: p.named !== undefined && !needsOfficer(waiting) } : null),
  },
  {
    name: 'menu_pick',
    decide: (r) => {
      const menu = r.menu ?? (r.flows.nodes.main?.menu ? visibleOptions(r.flows.nodes.main.menu, r.p.roles) : undefined);
      const option = menu ? pickOption(menu, r.p.normalized, r.p.tokens, r.p.text, r.flows) : null;
      return option ? { kind: 'pick', option } : null;
    },
  },
  {
    // "belum tau, nanti sy kabari": no answer yet, and that is fine.
    name: 'doubt',
    decide: ({ menu, p, flows }) => (menu && p.tokens.some((t) => flows.doubt.has(t)) ? { kind: 'later' } : null),
  },
  {
    // An unclear answer to the same question ("tidak, saya hadir kok"): ask it again, briefly.
    // "kapan rat" asked again gets the whole answer.
    name: 'unclear_answer',
    decide: (r) => {
      const { menu, p, flows, node } = r;
      if (!menu || node === null) return null;
      const attempts = p.tokens.some((t) => flows.negations.has(t)) || menu.some((o) => [...o.words, ...o.exact].some((w) => p.tokens.includes(normalizeWord(w))));
      return attempts && r.targets.includes(node) ? { kind: 'reask', node, say: 'option.repeat', max: menu.length } : null;
    },
  },
  {
    // "sekarang yg di kpri": a cooperative named and nothing else asked.
    name: 'named_koperasi',
    decide: (r) => (r.targets.length === 0 && r.p.named ? { kind: 'enter', targets: [], switched: r.p.named } : null),
  },
  {
    // "ok", "👍" at "Apakah Anda akan hadir?" is not an answer: keep the question open.
    name: 'small_talk_at_question',
    decide: (r) =>
      r.menu && r.node !== null && r.targets.length > 0 && r.targets.every((t) => r.isSmallTalk(t) && !ESCAPES.has(t))
        ? { kind: 'reask', node: r.node, say: 'option.repeat', max: r.menu.length }
        : null,
  },
  {
    // "jam berapa mulainya?", "dimana tempatnya?": the details are in the question's own screen.
    name: 'question_at_question',
    decide: (r) => (r.menu && r.node !== null && r.targets.length === 0 && r.p.text.includes('?') ? { kind: 'go', target: r.node, forgetResume: false } : null),
  },
  {
    name: 'request',
    decide: (r) => {
      const targets = r.targets;
      if (targets.length === 0) return null;
      // "insyaallah hadir", "sy ga bisa dateng": the request already answers the question it opens.
      const opened = targets.length === 1 ? r.flows.nodes[targets[0]!] : undefined;
      const option =
        opened?.menu && opened.answer_in_request ? pickOption(visibleOptions(opened.menu, r.p.roles), r.p.normalized, r.p.tokens, r.p.text, r.flows) : null;
      return {
        kind: 'enter',
        targets,
        ...(r.p.named ? { switched: r.p.named } : {}),
        ...(option ? { answer: { node: targets[0]!, option } } : {}),
      };
    },
  },
  {
    // Anything else while a question is open: ask the same question again, briefly, and keep it open.
    name: 'other_at_question',
    decide: ({ menu, node, p }) => (menu ? { kind: 'reask', node: node ?? 'main', say: /^\d+$/.test(p.normalized) ? 'option.invalid' : 'option.repeat', max: menu.length } : null),
  },
  {
    // "004" from a phone not on file: a member number, the start of the activation route.
    name: 'member_number',
    decide: ({ p, flows }) => (/^\d{3,}$/.test(p.normalized) && flows.nodes.member_number_given && !p.member ? { kind: 'go', target: 'member_number_given', forgetResume: false } : null),
  },
  {
    name: 'number_without_menu',
    decide: ({ p, flows }) => {
      const main = flows.nodes.main?.menu;
      return main && /^\d+$/.test(p.normalized) ? { kind: 'main_invalid', max: visibleOptions(main, p.roles).length } : null;
    },
  },
  { name: 'not_understood', decide: ({ at }) => ({ kind: 'not_understood', expired: at.expiredWhileWaiting === true }) },
];

/** Decide what to do with one message: pure, synchronous, from data only. */
export function decide(flows: FlowBundle, perception: Perception, at: ConversationPoint): Decision {
  const reading = new Reading(flows, perception, at);
  for (const rule of RULES) {
    const body = rule.decide(reading);
    if (body) return { ...body, rule: rule.name, dropWaiting: reading.dropWaiting };
  }
  throw new Error('no rule decided'); // not_understood always decides
}

/** A menu's options as this sender sees them: an option `when:` a role only for that role. */
export function visibleOptions(menu: readonly MenuOption[], roles: Roles): readonly MenuOption[] {
  return menu.some((o) => o.when) ? menu.filter((o) => !o.when || permits(roles, o.when)) : menu;
}

/**
 * The open menu as the sender saw it: the options shown, in the order shown (their numbers),
 * when the menu depends on the roles and what was shown is known; else as visible now.
 */
function menuAsShown(menu: readonly MenuOption[], roles: Roles, shown: readonly string[] | undefined): readonly MenuOption[] {
  if (!shown || !menu.some((o) => o.when)) return visibleOptions(menu, roles);
  return shown.flatMap((label) => menu.filter((o) => o.label === label));
}

const smallTalkTargets = new WeakMap<FlowBundle, Set<string>>();
function smallTalk(flows: FlowBundle): Set<string> {
  let targets = smallTalkTargets.get(flows);
  if (!targets) {
    targets = new Set(flows.intents.filter((i) => i.weak).map((i) => i.go));
    smallTalkTargets.set(flows, targets);
  }
  return targets;
}

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

/**
 * The global the whole message is (a typo allowed in one long word); officers' only for an
 * officer's phone, idle ones only with no question open, conditional ones only when held.
 */
export function globalOf(flows: FlowBundle, p: Perception, idle: boolean): GlobalWord | undefined {
  return flows.globals.find((g) => (!g.officer || p.roles.onFile) && (!g.idle || idle) && (!g.condition || p.held?.has(g.name) === true) && saysGlobal(g, p));
}

const conditional = new WeakMap<FlowBundle, { members: GlobalWord[]; officers: GlobalWord[] }>();
/** The globals with an `if:` a sender may say: the members', or with the officers' (usually none for members). */
export function conditionalGlobals(flows: FlowBundle, officer: boolean): readonly GlobalWord[] {
  let lists = conditional.get(flows);
  if (!lists) {
    const all = flows.globals.filter((g) => g.condition);
    lists = { members: all.filter((g) => !g.officer), officers: all };
    conditional.set(flows, lists);
  }
  return officer ? lists.officers : lists.members;
}

/** Whether the whole message is one of the global's words. */
export function saysGlobal(g: GlobalWord, p: Pick<Perception, 'tokens' | 'normalized' | 'plain' | 'text'>): boolean {
  const { tokens, normalized, plain, text } = p;
  return (
      (g.words.has(normalized) ||
        g.words.has(plain) ||
        (text === '?' && g.words.has('?')) ||
        // A typo in a one-word command ("bantuam", "berhenri"), for words long enough to be safe.
        (tokens.length === 1 && typoSafeWords(g).some((w) => tokenScore(tokens[0]!, w) >= 0.8)))
  );
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
const intentGroups = new WeakMap<FlowBundle, { members: IntentGroups; officers: IntentGroups }>();

/** The flows' intents as understand() reads them, built once per bundle: for members, and for officers' phones. */
function intentGroupsOf(flows: FlowBundle, officer: boolean): IntentGroups {
  let groups = intentGroups.get(flows);
  if (!groups) {
    const build = (intents: FlowBundle['intents']): IntentGroups => ({
      strong: intents.filter((i) => !i.weak),
      weak: intents.filter((i) => i.weak),
      // The first of a name, as Array.find gave.
      byName: new Map([...intents].reverse().map((i) => [i.name, i])),
      conjunctions: new Set(flows.settings.conjunctions),
    });
    groups = { members: build(flows.intents.filter((i) => !i.officer)), officers: build(flows.intents) };
    intentGroups.set(flows, groups);
  }
  return officer ? groups.officers : groups.members;
}

export function understand(flows: FlowBundle, tokens: readonly string[], officer = false): string[] {
  const groups = intentGroupsOf(flows, officer);
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

/** The pure reading of a message's text (the first step of perceiving it). */
export function readText(flows: FlowBundle, raw: string, tokenize: (text: string) => string[]): Pick<Perception, 'text' | 'tokens' | 'normalized' | 'plain'> {
  const text = raw.trim();
  const tokens = tokenize(text.slice(0, flows.settings.max_message_length));
  return { text, tokens, normalized: tokens.join(' '), plain: normalizeText(text.slice(0, 200)) };
}
