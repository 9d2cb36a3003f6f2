/**
 * Reads flows/, validates it with zod and cross-checks it (targets exist, actions exist,
 * every message key a flow or the code names exists in every language). Problems point at file
 * and line, so the Dinas staff member who edited a reply can find the typo.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { ZFlowFile, ZFlowPartFile, ZLexiconFile, ZMessageFile, type FlowFile, type FlowNode } from './schema.ts';
import { normalizeText, type IntentWords } from '../text-match.ts';
import type { Language } from '../format.ts';
import { CODE_TEXT_KEYS } from '../texts.ts';
import { findTextUses } from './code-text-uses.ts';

export const LANGUAGES: readonly Language[] = ['id', 'en'];
export const REQUIRED_NODES = ['main', 'help', 'verify', 'not_understood', 'group_private_only', 'cancelled'] as const;
export interface FlowProblem {
  file: string;
  line: number;
  message: string;
}

export class FlowCheckError extends Error {
  constructor(readonly problems: FlowProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n'));
    this.name = 'FlowCheckError';
  }
}

export interface GlobalWord {
  name: string;
  /** Normalised whole-message forms. */
  words: Set<string>;
  go: string;
  /** Only for a sender whose phone is an officer's on file. */
  officer: boolean;
  /** Only while no question is open. */
  idle: boolean;
  /** A cancel word (see FlowNode.cancel). */
  cancels: boolean;
  /** The read-only action whose `yes` the global needs (see ZGlobal.if). */
  condition?: string;
}

export interface FlowBundle {
  settings: FlowFile['settings'];
  nodes: Record<string, FlowNode>;
  globals: GlobalWord[];
  intents: (IntentWords & { go: string; weak: boolean; priority: boolean; officer: boolean })[];
  lexicon: Map<string, string>;
  /** Emoji read as words ("👍" → ok) before matching. */
  emoji: Map<string, string>;
  /** Words that make an answer a "no". */
  negations: ReadonlySet<string>;
  /** Words that make an answer not an answer yet. */
  doubt: ReadonlySet<string>;
  messages: Record<Language, Record<string, string>>;
}

interface ParsedFile<T> {
  file: string;
  doc: Document;
  counter: LineCounter;
  value: T | null;
  /** For a joined view of several files: the file a path of it comes from. */
  origin?: (path: readonly (string | number)[]) => ParsedFile<unknown>;
}

function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as (string | number)[], true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return 1;
}

function parseFile<T>(dir: string, name: string, schema: z.ZodType<T>, problems: FlowProblem[]): ParsedFile<T> {
  const path = join(dir, name);
  const file = relative(process.cwd(), path) || path;
  const counter = new LineCounter();
  if (!existsSync(path)) {
    problems.push({ file, line: 1, message: 'berkas tidak ditemukan' });
    return { file, doc: parseDocument('', { lineCounter: counter }), counter, value: null };
  }
  const text = readFileSync(path, 'utf8');
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  for (const error of doc.errors) {
    problems.push({ file, line: error.linePos?.[0]?.line ?? 1, message: `YAML tidak sah: ${error.message.split('\n')[0]}` });
  }
  if (doc.errors.length > 0) return { file, doc, counter, value: null };
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = issue.path.map(String).join('.');
      problems.push({ file, line: lineOf(doc, counter, issue.path), message: `${where ? `${where}: ` : ''}${issue.message}` });
    }
    return { file, doc, counter, value: null };
  }
  return { file, doc, counter, value: parsed.data };
}

/** Every message key a node uses. */
function messageKeysOf(node: FlowNode): string[] {
  const keys: string[] = [];
  if (typeof node.say === 'string') keys.push(node.say);
  else if (node.say) keys.push(...node.say);
  for (const option of node.menu ?? []) keys.push(option.label);
  return keys;
}

/**
 * The texts code names (src/core/texts.ts) that a language lacks: one problem per key and
 * language, at the key's first use in src/ (the others named in the sentence).
 */
function missingCodeTexts(messages: Record<Language, ParsedFile<Record<string, string>>>): FlowProblem[] {
  const missing = LANGUAGES.flatMap((lang) => {
    const catalogue = messages[lang].value;
    return catalogue ? CODE_TEXT_KEYS.filter((key) => !(key in catalogue)).map((key) => ({ key, lang })) : [];
  });
  if (missing.length === 0) return [];
  const uses = findTextUses([...new Set(missing.map((m) => m.key))]);
  return missing.map(({ key, lang }) => {
    const [first, ...others] = uses.get(key) ?? [];
    const also = others.length > 0 ? ` (juga dipakai di ${others.map((u) => `${u.file}:${u.line}`).join(', ')})` : '';
    return {
      file: first?.file ?? messages[lang].file,
      line: first?.line ?? 1,
      message: `pesan "${key}" dipakai kode tetapi tidak ada di messages/${lang}.yaml${also}`,
    };
  });
}

/**
 * Load and check flows/. Throws FlowCheckError listing every problem found. `conditions`: the
 * actions a global's `if:` may name (read only: they run for every message whose words match,
 * before anything is decided); without it, any known action.
 */
export function loadFlows(dir: string, actionNames: ReadonlySet<string>, conditions?: ReadonlySet<string>): FlowBundle {
  const problems: FlowProblem[] = [];
  const member = parseFile(dir, 'member.yaml', ZFlowFile, problems);
  const officer = parseFile(dir, 'officer.yaml', ZFlowPartFile, problems);
  const flow = joinFlowFiles(member, officer, problems);
  const lexicon = parseFile(dir, 'lexicon.yaml', ZLexiconFile, problems);
  const messages = Object.fromEntries(
    LANGUAGES.map((lang) => [lang, parseFile(dir, join('messages', `${lang}.yaml`), ZMessageFile, problems)]),
  ) as Record<Language, ParsedFile<Record<string, string>>>;

  if (flow.value) {
    const { nodes, globals, intents } = flow.value;
    const place = (path: (string | number)[]) => {
      const source = flow.origin?.(path) ?? flow;
      return { file: source.file, line: lineOf(source.doc, source.counter, path) };
    };
    const checkTarget = (target: string | undefined, path: (string | number)[]) => {
      if (target !== undefined && target !== '$resume' && !(target in nodes)) {
        problems.push({ ...place(path), message: `node "${target}" tidak ada` });
      }
    };
    const checkAction = (action: string | undefined, path: (string | number)[]) => {
      if (action !== undefined && !actionNames.has(action)) {
        problems.push({ ...place(path), message: `aksi "${action}" tidak dikenal (yang ada: ${[...actionNames].sort().join(', ')})` });
      }
    };
    for (const required of REQUIRED_NODES) {
      if (!(required in nodes)) problems.push({ ...place(['nodes']), message: `node wajib "${required}" tidak ada` });
    }
    for (const [name, node] of Object.entries(nodes)) {
      checkTarget(node.cancel, ['nodes', name, 'cancel']);
      checkAction(node.action, ['nodes', name, 'action']);
      for (const [outcome, target] of Object.entries(node.outcomes ?? {})) checkTarget(target, ['nodes', name, 'outcomes', outcome]);
      checkTarget(node.next, ['nodes', name, 'next']);
      node.menu?.forEach((option, i) => {
        checkTarget(option.go, ['nodes', name, 'menu', i, 'go']);
        checkAction(option.action, ['nodes', name, 'menu', i, 'action']);
        // An option shown to one role that leads to another role's step: shown, then refused.
        const needs = option.go ? nodes[option.go]?.requires : undefined;
        if (option.when && (needs === 'board' || needs === 'dinas') && needs !== option.when) {
          problems.push({ ...place(['nodes', name, 'menu', i, 'when']), message: `pilihan untuk ${option.when} menuju node "${option.go}" yang hanya untuk ${needs}` });
        }
      });
      if (node.input) {
        checkAction(node.input.action, ['nodes', name, 'input', 'action']);
        for (const [outcome, target] of Object.entries(node.input.outcomes)) checkTarget(target, ['nodes', name, 'input', 'outcomes', outcome]);
      }
      if (node.outcomes && !node.action) {
        problems.push({ ...place(['nodes', name, 'outcomes']), message: 'outcomes tanpa action tidak pernah dipakai' });
      }
      for (const lang of LANGUAGES) {
        const catalogue = messages[lang].value;
        if (!catalogue) continue;
        for (const key of messageKeysOf(node)) {
          if (!(key in catalogue)) {
            problems.push({ ...place(['nodes', name]), message: `pesan "${key}" tidak ada di messages/${lang}.yaml` });
          }
        }
      }
    }
    for (const [name, g] of Object.entries(globals)) {
      checkTarget(g.go, ['globals', name, 'go']);
      checkAction(g.if, ['globals', name, 'if']);
      if (g.if !== undefined && conditions && actionNames.has(g.if) && !conditions.has(g.if)) {
        problems.push({ ...place(['globals', name, 'if']), message: `aksi "${g.if}" bukan syarat baca-saja untuk if: (yang ada: ${[...conditions].sort().join(', ')})` });
      }
    }
    const before = flow.value.settings.before_request;
    if (before) {
      checkAction(before.action, ['settings', 'before_request', 'action']);
      for (const [outcome, target] of Object.entries(before.outcomes)) checkTarget(target, ['settings', 'before_request', 'outcomes', outcome]);
    }
    for (const [name, intent] of Object.entries(intents)) {
      checkTarget(intent.go, ['intents', name, 'go']);
      if (intent.words.length === 0 && intent.phrases.length === 0) {
        problems.push({ ...place(['intents', name]), message: 'intent perlu words atau phrases' });
      }
    }
  }

  // The catalogues must agree, so switching language never shows a missing text.
  const [first, ...rest] = LANGUAGES;
  const base = messages[first!].value;
  problems.push(...missingCodeTexts(messages));
  for (const lang of rest) {
    const other = messages[lang];
    if (!base || !other.value) continue;
    for (const key of Object.keys(base)) {
      if (!(key in other.value)) problems.push({ file: other.file, line: 1, message: `pesan "${key}" ada di ${first}.yaml tetapi tidak di ${lang}.yaml` });
    }
    for (const key of Object.keys(other.value)) {
      if (!(key in base)) {
        problems.push({ file: other.file, line: lineOf(other.doc, other.counter, [key]), message: `pesan "${key}" tidak ada di ${first}.yaml` });
      }
    }
  }

  if (problems.length > 0 || !flow.value || !lexicon.value) throw new FlowCheckError(problems);

  const lexiconMap = new Map<string, string>();
  for (const [from, to] of Object.entries(lexicon.value.words)) lexiconMap.set(normalizeText(from), normalizeText(to));
  return {
    settings: flow.value.settings,
    nodes: flow.value.nodes,
    globals: Object.entries(flow.value.globals).map(([name, g]) => ({
      name,
      go: g.go,
      words: new Set(g.words.map((w) => (w === '?' ? '?' : normalizeText(w)))),
      officer: g.only === 'officer',
      idle: g.idle,
      cancels: g.cancels,
      ...(g.if ? { condition: g.if } : {}),
    })),
    intents: Object.entries(flow.value.intents).map(([name, intent]) => ({
      name,
      go: intent.go,
      weak: intent.weak,
      priority: intent.priority,
      officer: intent.only === 'officer',
      words: intent.words.map(normalizeText),
      phrases: intent.phrases.map(normalizeText),
    })),
    lexicon: lexiconMap,
    emoji: new Map(Object.entries(lexicon.value.emoji)),
    negations: new Set(lexicon.value.negations.map(normalizeText)),
    doubt: new Set(lexicon.value.doubt.map(normalizeText)),
    messages: Object.fromEntries(LANGUAGES.map((lang) => [lang, messages[lang].value!])) as Record<Language, Record<string, string>>,
  };
}

/**
 * The members' and the officers' files as one flow: one conversation per chat. The officers'
 * globals and intents come first (an officer's "pengurus" opens the officer menu; a member's
 * is a question for the board); a node name may be used once across both files. Problems in
 * either file point at that file: the joined view keeps, per top-level entry, where it came from.
 */
function joinFlowFiles(member: ParsedFile<FlowFile>, officer: ParsedFile<z.infer<typeof ZFlowPartFile>>, problems: FlowProblem[]): ParsedFile<FlowFile> {
  if (!member.value || !officer.value) return { ...member, value: null };
  for (const name of Object.keys(officer.value.nodes)) {
    if (name in member.value.nodes) problems.push({ file: officer.file, line: lineOf(officer.doc, officer.counter, ['nodes', name]), message: `node "${name}" sudah ada di member.yaml` });
  }
  for (const section of ['globals', 'intents'] as const) {
    for (const name of Object.keys(officer.value[section])) {
      if (name in member.value[section]) problems.push({ file: officer.file, line: lineOf(officer.doc, officer.counter, [section, name]), message: `${section} "${name}" sudah ada di member.yaml` });
    }
  }
  const value: FlowFile = {
    settings: member.value.settings,
    globals: { ...officer.value.globals, ...member.value.globals },
    intents: { ...officer.value.intents, ...member.value.intents },
    nodes: { ...member.value.nodes, ...officer.value.nodes },
  };
  return { ...member, value, origin: (path) => (path[0] !== 'settings' && typeof path[1] === 'string' && path[1] in (officer.value![path[0] as 'nodes'] ?? {}) ? officer : member) };
}
