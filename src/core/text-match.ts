/**
 * Understanding what members type: "cek sldo", "sisa utang brp", "kapan rat", "piro utangku".
 * Text is normalised (case, accents, emoji, stretched letters), slang is mapped through the
 * lexicon from flows/, then each intent's words are matched exactly, by prefix (saldonya,
 * utangku) or within a small edit distance (sldo, pinjman, tabngan).
 */

/** Lowercase, strip accents/emoji/punctuation, squeeze letters stretched 3+ times ("saldooo"). */
export function normalizeText(text: string): string {
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

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("sadlo"). */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    let rowMin = Number.MAX_SAFE_INTEGER;
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
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
  const allowed = word.length >= 7 ? 2 : 1;
  const distance = editDistance(token, word, allowed);
  if (distance > allowed) return 0;
  // A different first letter is far more often another word than a typo.
  if (token[0] !== word[0]) return 0;
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
    let score = 0;
    let position = Number.MAX_SAFE_INTEGER;
    for (const phrase of intent.phrases) {
      const at = phrasePosition(tokens, phrase.split(' '));
      if (at >= 0) {
        score = Math.max(score, 1.2);
        position = Math.min(position, at);
      }
    }
    let hits = 0;
    tokens.forEach((token, index) => {
      let tokenBest = 0;
      for (const word of intent.words) {
        const s = known.has(token) && token !== word ? 0 : tokenScore(token, word);
        if (s > tokenBest) tokenBest = s;
        if (s === 1) break;
      }
      if (tokenBest >= threshold) {
        hits++;
        score = Math.max(score, tokenBest);
        position = Math.min(position, index);
      }
    });
    if (hits > 1) score += 0.05 * (hits - 1);
    if (score >= threshold) matches.push({ name: intent.name, score, position });
  }
  // Array.prototype.sort is stable: equal scores keep the flow's order.
  return matches.sort((a, b) => b.score - a.score);
}
