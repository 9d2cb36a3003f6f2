/** `kopbot flows check` points at the file and line of every mistake a staff member can make. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLOWS_DIR } from '../../src/core/create-engine.ts';
import { FLOW_ACTION_NAMES as ACTION_NAMES, FLOW_CONDITION_ACTIONS } from '../../src/core/create-engine.ts';
import { FlowCheckError, loadFlows } from '../../src/core/flows/load.ts';
import { CODE_TEXTS } from '../../src/core/texts.ts';
import { createApp } from '../../src/app.ts';
import { tempDir } from '../helpers/app.ts';

const ROOT = join(FLOWS_DIR, '..');

/** Where a source file names a key as a string literal: "src/jobs/run-due.ts:46". */
function useOf(file: string, key: string): string {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const index = lines.findIndex((line) => line.includes(`'${key}'`));
  expect(index).toBeGreaterThanOrEqual(0);
  return `${file}:${index + 1}`;
}

/** Delete a key (its line and the indented lines that continue it) from a catalogue. */
function deleteKey(dir: string, lang: 'id' | 'en', key: string): void {
  const path = join(dir, 'messages', `${lang}.yaml`);
  const lines = readFileSync(path, 'utf8').split('\n');
  const at = lines.findIndex((line) => line.startsWith(`${key}:`));
  expect(at).toBeGreaterThanOrEqual(0);
  let end = at + 1;
  while (end < lines.length && /^\s+\S/.test(lines[end]!)) end++;
  lines.splice(at, end - at);
  writeFileSync(path, lines.join('\n'));
}

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
    loadFlows(dir, ACTION_NAMES, FLOW_CONDITION_ACTIONS);
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

  it('refuses an if: that names an action with effects (it runs before deciding, for every matching "ya")', () => {
    const dir = copyFlows();
    const line = edit(dir, 'officer.yaml', '    idle: true\n    if: officer.bimtek_waiting\n', '    idle: true\n    if: officer.bimtek_answer\n') + 1;
    expect(problems(dir)).toEqual([`officer.yaml:${line}: aksi "officer.bimtek_answer" bukan syarat baca-saja untuk if: (yang ada: officer.bimtek_waiting)`]);
  });

  it('refuses an officer menu option shown to one role that leads to the other role\'s step', () => {
    const dir = copyFlows();
    const line = edit(dir, 'officer.yaml', '        when: dinas\n        words: [peserta,', '        when: board\n        words: [peserta,');
    expect(problems(dir)).toEqual([`officer.yaml:${line}: pilihan untuk board menuju node "bimtek_list" yang hanya untuk dinas`]);
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

  describe('texts the code uses', () => {
    it('the shipped catalogues have every key code names, in every language', () => {
      const flows = loadFlows(FLOWS_DIR, ACTION_NAMES);
      for (const key of Object.values(CODE_TEXTS).flat()) {
        expect(flows.messages.id[key], key).toBeTypeOf('string');
        expect(flows.messages.en[key], key).toBeTypeOf('string');
      }
    });

    it('reminder.rat deleted from both catalogues: refused, at the line of the RAT job that uses it, once per language', () => {
      const dir = copyFlows();
      deleteKey(dir, 'id', 'reminder.rat');
      deleteKey(dir, 'en', 'reminder.rat');
      const at = useOf('src/jobs/run-due.ts', 'reminder.rat');
      expect(problems(dir)).toEqual([
        `${at}: pesan "reminder.rat" dipakai kode tetapi tidak ada di messages/id.yaml`,
        `${at}: pesan "reminder.rat" dipakai kode tetapi tidak ada di messages/en.yaml`,
      ]);
    });

    it('a key deleted from en only: refused naming en, beside the catalogues disagreeing', () => {
      const dir = copyFlows();
      deleteKey(dir, 'en', 'reminder.rat');
      const at = useOf('src/jobs/run-due.ts', 'reminder.rat');
      expect(problems(dir).sort()).toEqual(
        [`${at}: pesan "reminder.rat" dipakai kode tetapi tidak ada di messages/en.yaml`, 'messages/en.yaml:1: pesan "reminder.rat" ada di id.yaml tetapi tidak di en.yaml'].sort(),
      );
    });

    it('keys of the officers’ actions, the domain, channels and the engine are known; every use is named, and a key built from a template points at the template', () => {
      const dir = copyFlows();
      for (const key of ['officer.rat_past_limit', 'bimtek.invitation', 'chat.slow_down', 'option.repeat', 'reminder.when_1', 'collectibility.macet']) {
        deleteKey(dir, 'id', key);
        deleteKey(dir, 'en', key);
      }
      const found = problems(dir).filter((p) => p.includes('messages/id.yaml'));
      expect(found).toHaveLength(6);
      expect(found).toContain(`${useOf('src/officer/actions.ts', 'officer.rat_past_limit')}: pesan "officer.rat_past_limit" dipakai kode tetapi tidak ada di messages/id.yaml`);
      expect(found).toContain(`${useOf('src/domain/bimtek.ts', 'bimtek.invitation')}: pesan "bimtek.invitation" dipakai kode tetapi tidak ada di messages/id.yaml`);
      expect(found).toContain(`${useOf('src/channels/telegram/telegram-channel.ts', 'chat.slow_down')}: pesan "chat.slow_down" dipakai kode tetapi tidak ada di messages/id.yaml`);
      expect(found).toContain(`${useOf('src/domain/days-away.ts', 'reminder.when_1')}: pesan "reminder.when_1" dipakai kode tetapi tidak ada di messages/id.yaml`);
      // Used in several places by the engine (the decision names it, the executor says it): the first is the pointer, the others are listed.
      expect(found.find((p) => p.includes('"option.repeat"'))).toMatch(/^src\/core\/decide\.ts:\d+: pesan "option\.repeat" dipakai kode tetapi tidak ada di messages\/id\.yaml \(juga dipakai di src\/core\/decide\.ts:\d+/);
      const template = readFileSync(join(ROOT, 'src/core/actions/member-data.ts'), 'utf8').split('\n').findIndex((line) => line.includes('`collectibility.${'));
      expect(found).toContain(`src/core/actions/member-data.ts:${template + 1}: pesan "collectibility.macet" dipakai kode tetapi tidak ada di messages/id.yaml`);
    });

    it('the service refuses to start on such flows, with the same sentences', async () => {
      const dir = copyFlows();
      deleteKey(dir, 'id', 'reminder.rat');
      deleteKey(dir, 'en', 'reminder.rat');
      const database = tempDir('kopbot-flows-app-');
      const started = createApp({ DATABASE_URL: `file:${join(database, 'test.db')}`, LOG_LEVEL: 'silent' }, { flowsDir: dir });
      await expect(started).rejects.toBeInstanceOf(FlowCheckError);
      await expect(started).rejects.toThrow(`${useOf('src/jobs/run-due.ts', 'reminder.rat')}: pesan "reminder.rat" dipakai kode tetapi tidak ada di messages/id.yaml`);
    });
  });
});
