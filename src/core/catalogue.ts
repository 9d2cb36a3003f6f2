/**
 * The texts port: every text a person reads comes from flows/messages/<language>.yaml through a
 * Catalogue. The conversation engine renders the keys its flows name; jobs, channels and
 * business operations ask for the keys their code names (src/core/texts.ts declares those, so
 * `kopbot flows check` and start-up know every one of them).
 *
 * Lookup: a variant written for the channel (`menu.title.telegram`) wins over the key; a
 * language falls back to Indonesian; `{name}` placeholders are filled from the variables.
 */
import type { Logger } from 'pino';
import type { Language } from './format.ts';
import type { TextKey } from './texts.ts';

export type TextVars = Readonly<Record<string, string>>;

/** The catalogues of every language, key → template (FlowBundle.messages). */
export type MessageFiles = Readonly<Record<Language, Readonly<Record<string, string>>>>;

/** What a turn has rendered so far: catalogue texts, and data values that contain markup. */
export interface RenderTrace {
  literals: Set<string>;
  rendered: Set<string>;
}

/**
 * A text that is not in the catalogue, for a message the bot was about to send on its own
 * initiative: nothing is queued rather than a reminder that is only its footer.
 */
export class MissingTextError extends Error {
  readonly code = 'missing_text';
  constructor(
    readonly key: string,
    readonly language: Language,
  ) {
    super(`Teks "${key}" tidak ada di flows/messages/${language}.yaml, jadi tidak ada pesan yang diantrekan; periksa dengan kopbot flows check.`);
    this.name = 'MissingTextError';
  }
}

export interface Catalogue {
  /**
   * A text for a reply being given now, in the reader's language (and channel's variant). A
   * missing key is logged and reads as '': a conversation goes on. Start-up refuses flows
   * that lack a key code uses, so this is a last resort.
   */
  text(language: Language, key: TextKey, vars?: TextVars, channel?: string): string;
  /**
   * A text for a message the bot sends on its own initiative (reminders, invitations,
   * notices queued into the outbox). A missing key throws MissingTextError.
   */
  requireText(language: Language, key: TextKey, vars?: TextVars): string;
  /** Any key, as a flow names it, recording markup in the turn's trace: the engine's lookup. */
  lookup(language: Language, key: string, vars?: TextVars, channel?: string, trace?: RenderTrace): string;
  has(language: Language, key: string): boolean;
}

/** Markup characters the channels give meaning to (WhatsApp's and our templates' *bold*). */
const MARKUP = /[*_~`]/;

/** True when `value` is made only of catalogue texts (their *bold* is meant) apart from plain text. */
export function fromCatalogue(value: string, rendered: ReadonlySet<string>): boolean {
  let rest = value;
  for (const text of [...rendered].sort((a, b) => b.length - a.length)) if (text !== '' && rest.includes(text)) rest = rest.split(text).join('\n');
  return !MARKUP.test(rest);
}

/** Fill a template's `{name}` placeholders. */
export function render(template: string, vars: TextVars, trace?: RenderTrace): string {
  const out = template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    const value = vars[name] ?? '';
    // A data value with markup characters ("Siti *Bu*") is text, not formatting: tell the
    // channel. A value an action built from catalogue texts keeps its formatting.
    if (trace && MARKUP.test(value) && !fromCatalogue(value, trace.rendered)) trace.literals.add(value);
    return value;
  });
  trace?.rendered.add(out);
  return out;
}

/** The catalogue over the flows' message files. */
export function createCatalogue(messages: MessageFiles, logger?: Logger): Catalogue {
  const templateOf = (language: Language, key: string, channel?: string): string | undefined => {
    const catalogue = messages[language];
    const fallback = messages.id;
    const variant = channel ? `${key}.${channel}` : undefined;
    return (variant ? (catalogue[variant] ?? fallback[variant]) : undefined) ?? catalogue[key] ?? fallback[key];
  };
  const lookup = (language: Language, key: string, vars: TextVars = {}, channel?: string, trace?: RenderTrace): string => {
    const template = templateOf(language, key, channel);
    if (template === undefined) {
      logger?.warn({ key, language }, 'message key missing from the catalogue');
      return '';
    }
    return render(template, vars, trace);
  };
  return {
    lookup,
    text: (language, key, vars, channel) => lookup(language, key, vars, channel),
    requireText(language, key, vars = {}) {
      const template = templateOf(language, key);
      if (template === undefined) throw new MissingTextError(key, language);
      return render(template, vars);
    },
    has: (language, key) => messages[language][key] !== undefined,
  };
}
