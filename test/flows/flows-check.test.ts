/** `kopbot flows check` points at the file and line of every mistake a staff member can make. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLOWS_DIR } from '../../src/core/create-engine.ts';
import { ACTION_NAMES } from '../../src/core/actions/index.ts';
import { FlowCheckError, loadFlows } from '../../src/core/flows/load.ts';
import { tempDir } from '../helpers/app.ts';

function copyFlows(): string {
  const dir = join(tempDir('kopbot-flows-'), 'flows');
  cpSync(FLOWS_DIR, dir, { recursive: true });
  return dir;
}

function edit(dir: string, file: string, from: string, to: string): number {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  expect(text).toContain(from);
  const line = text.slice(0, text.indexOf(from)).split('\n').length;
  writeFileSync(path, text.replace(from, to));
  return line;
}

function problems(dir: string): string[] {
  try {
    loadFlows(dir, ACTION_NAMES);
  } catch (error) {
    if (error instanceof FlowCheckError) return error.problems.map((p) => `${p.file.split('flows/').pop()}:${p.line}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('flows check', () => {
  it('accepts the shipped flows', () => {
    expect(problems(FLOWS_DIR)).toEqual([]);
  });

  it('points at a go to a node that does not exist', () => {
    const dir = copyFlows();
    const line = edit(dir, 'member.yaml', '{ label: menu.loans, go: loans }', '{ label: menu.loans, go: loanz }');
    expect(problems(dir)).toEqual([`member.yaml:${line}: node "loanz" tidak ada`]);
  });

  it('points at an unknown action', () => {
    const dir = copyFlows();
    const line = edit(dir, 'member.yaml', 'action: savings.summary', 'action: savings.sumary');
    const found = problems(dir);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^member.yaml:${line}: aksi "savings.sumary" tidak dikenal`));
  });

  it('points at a message missing from one language', () => {
    const dir = copyFlows();
    edit(dir, 'messages/en.yaml', 'thanks.text:', 'thanks.txt:');
    const found = problems(dir);
    expect(found).toContain('messages/en.yaml:1: pesan "thanks.text" ada di id.yaml tetapi tidak di en.yaml');
    expect(found.some((p) => p.startsWith('member.yaml:') && p.includes('pesan "thanks.text" tidak ada di messages/en.yaml'))).toBe(true);
  });

  it('points at a misspelt field and at broken YAML', () => {
    const dir = copyFlows();
    const line = edit(dir, 'member.yaml', '    say: help.text\n', '    sya: help.text\n');
    expect(problems(dir).some((p) => p.startsWith(`member.yaml:${line - 1}:`) || p.startsWith(`member.yaml:${line}:`))).toBe(true);

    const broken = copyFlows();
    const badLine = edit(broken, 'lexicon.yaml', '  brp: berapa', '  brp: [berapa');
    const found = problems(broken);
    expect(found[0]).toMatch(/^lexicon.yaml:\d+: YAML tidak sah/);
    expect(Number(found[0]!.split(':')[1])).toBeGreaterThanOrEqual(badLine);
  });

  it('refuses a flow without a required node', () => {
    const dir = copyFlows();
    edit(dir, 'member.yaml', '  not_understood:\n', '  not_understood_x:\n');
    expect(problems(dir).some((p) => p.includes('node wajib "not_understood" tidak ada'))).toBe(true);
  });

  it('lets a reworded reply through without code changes', () => {
    const dir = copyFlows();
    edit(dir, 'messages/id.yaml', 'thanks.text: "Sama-sama, senang bisa membantu. 🙏"', 'thanks.text: "Sami-sami, Bapak/Ibu."');
    const flows = loadFlows(dir, ACTION_NAMES);
    expect(flows.messages.id['thanks.text']).toBe('Sami-sami, Bapak/Ibu.');
  });
});
