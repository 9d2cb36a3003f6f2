/**
 * The layers hold: business operations (src/domain), the officer desk (src/officer) and the jobs
 * (src/jobs) and the imports (src/import) reach storage only through ports, so they run on every store; and no import cycle
 * runs through them (the jobs and the desk once imported each other).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

const SRC = join(ROOT, 'src');
const LAYERS = ['domain', 'officer', 'jobs', 'import'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every import and re-export of a file, relative ones resolved to paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const patterns = [/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm, /^\s*import\s+'([^']+)'/gm, /import\('([^']+)'\)/g];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)]).map((m) =>
    m[1]!.startsWith('.') ? resolve(dirname(file), m[1]!) : m[1]!,
  );
}

const files = sources(SRC);
const inLayers = files.filter((f) => LAYERS.some((layer) => f.startsWith(join(SRC, layer) + '/')));

describe('layers', () => {
  test('the domain, the desk, the jobs and the imports import no store: no Prisma, no better-sqlite3, nothing of src/persistence', () => {
    const offending = inLayers.flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith(join(SRC, 'persistence')) || target.includes('generated/prisma') || /^(@prisma|better-sqlite3|pg)(\/|$)/.test(target))
        .map((target) => `${relative(SRC, file)} -> ${target.startsWith('/') ? relative(SRC, target) : target}`),
    );
    expect(offending).toEqual([]);
  });

  test('nothing outside src/persistence imports Prisma, better-sqlite3 or pg', () => {
    const outside = files.filter((f) => !f.startsWith(join(SRC, 'persistence') + '/'));
    const offending = outside.flatMap((file) =>
      importsOf(file)
        .filter((target) => target.includes('generated/prisma') || /^(@prisma|better-sqlite3|pg)(\/|$)/.test(target))
        .map((target) => `${relative(SRC, file)} -> ${target.startsWith('/') ? relative(SRC, target) : target}`),
    );
    expect(offending).toEqual([]);
  });

  test('no import cycle runs through the domain, the desk or the jobs', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(SRC))]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') {
          const cycle = [...stack.slice(stack.indexOf(next)), next];
          if (cycle.some((f) => inLayers.includes(f))) cycles.push(cycle.map((f) => relative(SRC, f)).join(' -> '));
        } else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
