/**
 * Understanding what members type: "cek sldo", "sisa utang brp", "kapan rat", "piro utangku".
 * Text is normalised (case, accents, emoji, stretched letters), slang is mapped through the
 * lexicon from flows/, then each intent's words are matched exactly, by prefix (saldonya,
 * utangku) or within a small edit distance (sldo, pinjman, tabngan).
 */

/** Text made of ASCII only: NFKD leaves it as it is and it holds no combining marks. */
const ASCII = /^[\x00-\x7f]*$/;

/** Lowercase, strip accents/emoji/punctuation, squeeze letters stretched 3+ times ("saldooo"). */
export function normalizeText(text: string): string {
  // Most messages are plain ASCII ("cek sldo"): the same steps with ASCII classes (in ASCII,
  // \p{L} is a-z once lowercased and \p{N} is 0-9), without the Unicode passes.
  if (ASCII.test(text)) {
    return text
      .toLowerCase()
      .replace(/[^a-z0-9']+/g, ' ')
      .replace(/'/g, '')
      .replace(/([a-z])\1{2,}/g, '$1')
      .trim()
      .replace(/\s+/g, ' ');
  }
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .replace(/'/g, '')
    .replace(/(\p{L})\1{2,}/gu, '$1')
    .trim()
    .replace(/\s+/g, ' ');
}

/**
 * normalizeText of a word or phrase the flows define (menu options' words): a finite set, so
 * each is normalised once per process rather than on every message.
 */
const normalizedWords = new Map<string, string>();
export function normalizeWord(word: string): string {
  let normalized = normalizedWords.get(word);
  if (normalized === undefined) {
    normalized = normalizeText(word);
    // Bounded all the same, should a caller pass text that is not the flows' own.
    if (normalizedWords.size >= 10_000) normalizedWords.clear();
    normalizedWords.set(word, normalized);
  }
  return normalized;
}

const wordPartsCache = new Map<string, readonly string[]>();
/** A flow word or phrase, normalised and split into its words (cached like normalizeWord). */
export function wordParts(word: string): readonly string[] {
  let parts = wordPartsCache.get(word);
  if (parts === undefined) {
    parts = normalizeWord(word).split(' ');
    if (wordPartsCache.size >= 10_000) wordPartsCache.clear();
    wordPartsCache.set(word, parts);
  }
  return parts;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("sadlo"). */
/** The distance table, reused: every cell editDistance reads it has written first. */
let table = new Int32Array(1024);

export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows = a.length + 1;
  const cols = b.length + 1;
  if (table.length < rows * cols) table = new Int32Array(rows * cols * 2);
  const d = table;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    let rowMin = Number.MAX_SAFE_INTEGER;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j < cols; j++) {
      const bj = b.charCodeAt(j - 1);
      const cost = ai === bj ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) {
        v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
  }
  return d[rows * cols - 1]!;
}

/** How close a typed token is to a keyword, 0 (no match) to 1 (exact). */
export function tokenScore(token: string, word: string): number {
  if (token === word) return 1;
  if (word.length >= 4 && token.length >= 4 && token.startsWith(word) && token.length - word.length <= 4) return 0.9;
  if (word.length < 4 || token.length < 3) return 0;
  // A different first letter is far more often another word than a typo (checked first: it
  // settles most pairs without computing a distance).
  if (token.charCodeAt(0) !== word.charCodeAt(0)) return 0;
  const allowed = word.length >= 7 ? 2 : 1;
  const distance = editDistance(token, word, allowed);
  if (distance > allowed) return 0;
  return distance === 1 ? 0.8 : 0.7;
}

export interface IntentWords {
  name: string;
  /** Single normalised tokens. */
  words: readonly string[];
  /** Multi-token normalised phrases, matched as a contiguous run. */
  phrases: readonly string[];
}

export interface IntentMatch {
  name: string;
  score: number;
  /** Index of the first token that matched, to answer in the order things were asked. */
  position: number;
}

/** Tokens of a text after emoji, normalisation and slang mapping. */
export function tokenize(text: string, lexicon: ReadonlyMap<string, string>, emoji?: ReadonlyMap<string, string>): string[] {
  let raw = text;
  if (emoji) for (const [symbol, word] of emoji) if (raw.includes(symbol)) raw = raw.replaceAll(symbol, ` ${word} `);
  const normalized = normalizeText(raw);
  if (normalized === '') return [];
  const out: string[] = [];
  for (const raw of normalized.split(' ')) {
    const mapped = lexicon.get(raw) ?? raw;
    for (const t of mapped.split(' ')) out.push(t);
  }
  return out;
}

function phrasePosition(tokens: readonly string[], phrase: readonly string[]): number {
  outer: for (let i = 0; i + phrase.length <= tokens.length; i++) {
    for (let k = 0; k < phrase.length; k++) {
      // Inside a phrase only long words may carry a typo: "utang saya" must not read as "uang saya".
      const word = phrase[k]!;
      if (tokenScore(tokens[i + k]!, word) < (word.length >= 6 ? 0.7 : 0.9)) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * The best intent for these tokens, or null. A phrase beats a single word; among words the
 * closest match wins and further matching words add a little, so "saldo simpanan wajib" is
 * clearly savings. Ties keep the intent listed first in the flow file.
 */
export function matchIntent(
  tokens: readonly string[],
  intents: readonly IntentWords[],
  threshold = 0.75,
  known?: ReadonlySet<string>,
): IntentMatch | null {
  return matchIntents(tokens, intents, threshold, known)[0] ?? null;
}

const knownWordsCache = new WeakMap<readonly IntentWords[], Set<string>>();

export function knownWordsOf(intents: readonly IntentWords[]): Set<string> {
  let known = knownWordsCache.get(intents);
  if (!known) {
    known = new Set(intents.flatMap((i) => i.words));
    knownWordsCache.set(intents, known);
  }
  return known;
}

/** An intent's words as the matcher reads them, built once per intent (flows do not change while running). */
const compiledIntents = new WeakMap<IntentWords, { phraseWords: string[][]; wordSet: ReadonlySet<string> }>();
function compiled(intent: IntentWords): { phraseWords: string[][]; wordSet: ReadonlySet<string> } {
  let c = compiledIntents.get(intent);
  if (!c) {
    c = { phraseWords: intent.phrases.map((p) => p.split(' ')), wordSet: new Set(intent.words) };
    compiledIntents.set(intent, c);
  }
  return c;
}

/** Every intent that matches, best first (ties keep flow order). */
export function matchIntents(
  tokens: readonly string[],
  intents: readonly IntentWords[],
  threshold = 0.75,
  knownWords?: ReadonlySet<string>,
): IntentMatch[] {
  // A token that is itself one of the known words is not a typo of another: "utang" is not
  // "uang", "rat" is not "rate", "siap" is not "siapa".
  const known = knownWords ?? knownWordsOf(intents);
  const matches: IntentMatch[] = [];
  for (const intent of intents) {
    const { phraseWords, wordSet } = compiled(intent);
    let score = 0;
    let position = Number.MAX_SAFE_INTEGER;
    for (const phrase of phraseWords) {
      const at = phrasePosition(tokens, phrase);
      if (at >= 0) {
        score = Math.max(score, 1.2);
        position = Math.min(position, at);
      }
    }
    let hits = 0;
    for (let index = 0; index < tokens.length; index++) {
      const token = tokens[index]!;
      let tokenBest = 0;
      if (known.has(token)) {
        // A known word matches itself only.
        if (wordSet.has(token)) tokenBest = 1;
      } else {
        for (const word of intent.words) {
          const s = tokenScore(token, word);
          if (s > tokenBest) tokenBest = s;
          if (s === 1) break;
        }
      }
      if (tokenBest >= threshold) {
        hits++;
        score = Math.max(score, tokenBest);
        position = Math.min(position, index);
      }
    }
    if (hits > 1) score += 0.05 * (hits - 1);
    if (score >= threshold) matches.push({ name: intent.name, score, position });
  }
  // Array.prototype.sort is stable: equal scores keep the flow's order.
  return matches.sort((a, b) => b.score - a.score);
}
