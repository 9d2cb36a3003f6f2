/**
 * Where the code names a catalogue key, so flows check can point at the use of a text it
 * cannot find (src/jobs/run-due.ts:46), not only at the list that declares it. Read only when
 * something is missing: the declaration (src/core/texts.ts) is what makes the check complete;
 * this finds the lines to show.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TextUse {
  file: string;
  line: number;
}

const SRC_DIR = fileURLToPath(new URL('../../', import.meta.url));
const DECLARATIONS = join(SRC_DIR, 'core', 'texts.ts');

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files.sort();
}

const COMMENT_LINE = /^\s*(?:\/\/|\/\*|\*)/;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Each key's uses in src/: the key as a string literal, or the template that builds it
 * (`collectibility.${…}` for collectibility.macet). A key only declared points at its
 * declaration in src/core/texts.ts.
 */
export function findTextUses(keys: readonly string[], srcDir: string = SRC_DIR): Map<string, TextUse[]> {
  const uses = new Map<string, TextUse[]>(keys.map((key) => [key, []]));
  const declared = new Map<string, TextUse[]>(keys.map((key) => [key, []]));
  if (keys.length === 0) return uses;
  let files: string[];
  try {
    files = sourceFiles(srcDir);
  } catch {
    return uses; // no sources beside this build: the check still names the key and the file
  }
  const patterns = keys.map((key) => {
    const prefix = key.includes('.') ? key.slice(0, key.lastIndexOf('.') + 1) : null;
    return { key, pattern: new RegExp(`(['"\`])${escape(key)}\\1${prefix ? `|\`${escape(prefix)}\\$\\{` : ''}`) };
  });
  for (const path of files) {
    const file = relative(process.cwd(), path) || path;
    const into = path === DECLARATIONS ? declared : uses;
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        if (COMMENT_LINE.test(text)) return; // a key named in a comment is no use of it
        for (const { key, pattern } of patterns) if (pattern.test(text)) into.get(key)!.push({ file, line: i + 1 });
      });
  }
  for (const key of keys) if (uses.get(key)!.length === 0) uses.set(key, declared.get(key)!);
  return uses;
}
