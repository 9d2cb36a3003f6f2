/**
 * The declared code texts (src/core/texts.ts) and the code agree: every key a lookup in src/
 * names is declared, so flows check and start-up check it, and nothing declared is left over.
 * The compiler refuses an undeclared key wherever a TextKey is asked for (jobs, channels, the
 * domain, actions); this covers the engine's own lookups too, which take the flows' keys.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { FLOWS_DIR } from '../../src/core/create-engine.ts';
import { findTextUses } from '../../src/core/flows/code-text-uses.ts';
import { CODE_TEXT_KEYS } from '../../src/core/texts.ts';

const ROOT = join(FLOWS_DIR, '..');
const SRC = join(ROOT, 'src');

/** A catalogue lookup and where its key is: `t(key)`, `#say(key)`, `x.text(language, key, …)`. */
const LOOKUPS: Record<string, number> = { t: 0, '#say': 0, message: 1, text: 1, requireText: 1, lookup: 1 };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

interface KeyUse {
  at: string;
  /** A key written out, or the fixed start of one built from a template. */
  key: string;
  template: boolean;
}

/** The keys a lookup's argument can be when written in the source: literals, either side of a ?:, a template's start. */
function keysOf(node: ts.Expression): { key: string; template: boolean }[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [{ key: node.text, template: false }];
  if (ts.isConditionalExpression(node)) return [...keysOf(node.whenTrue), ...keysOf(node.whenFalse)];
  if (ts.isParenthesizedExpression(node)) return keysOf(node.expression);
  if (ts.isTemplateExpression(node)) return [{ key: node.head.text, template: true }];
  return []; // a TextKey value (checked by the compiler) or a key a flow names (checked by flows check)
}

function lookupsIn(file: string): KeyUse[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const uses: KeyUse[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
      const index = name === undefined ? undefined : LOOKUPS[name];
      const argument = index === undefined ? undefined : node.arguments[index];
      if (argument) {
        const line = source.getLineAndCharacterOfPosition(argument.getStart()).line + 1;
        for (const found of keysOf(argument)) uses.push({ ...found, at: `${relative(ROOT, file)}:${line}` });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

const uses = sourceFiles(SRC).flatMap(lookupsIn);

describe('texts the code uses', () => {
  it('finds the lookups of every layer (the scan is not empty-handed)', () => {
    const places = new Set(uses.map((u) => u.at.split('/').slice(0, 2).join('/')));
    for (const layer of ['src/core', 'src/jobs', 'src/domain', 'src/channels', 'src/officer']) expect(places).toContain(layer);
  });

  it('every key a lookup in src/ writes out is declared in src/core/texts.ts', () => {
    const declared = new Set<string>(CODE_TEXT_KEYS);
    const undeclared = uses.filter((u) => (u.template ? !CODE_TEXT_KEYS.some((key) => key.startsWith(u.key)) : !declared.has(u.key)));
    expect(undeclared.map((u) => `${u.at}: ${u.key}${u.template ? '…' : ''}`)).toEqual([]);
  });

  it('every declared key is used somewhere in src/ (none left over from deleted code)', () => {
    const found = findTextUses(CODE_TEXT_KEYS, SRC);
    const unused = CODE_TEXT_KEYS.filter((key) => (found.get(key) ?? []).every((u) => u.file.endsWith('src/core/texts.ts')));
    expect(unused).toEqual([]);
  });
});
