/**
 * Commander speaks English in its own lines ("Usage:", "Options:", "error: missing required
 * argument"). The clerk reads Indonesian everywhere, so those lines are translated here, for
 * every command, in one place.
 */
import { Help, type Command } from 'commander';

const TITLES: Record<string, string> = {
  'Usage:': 'Cara pakai:',
  'Arguments:': 'Argumen:',
  'Options:': 'Pilihan:',
  'Global Options:': 'Pilihan umum:',
  'Commands:': 'Perintah:',
};

/** Commander's error sentences, matched on their English form. */
const ERRORS: [RegExp, (...groups: string[]) => string][] = [
  [/^error: missing required argument '(.+)'$/, (name) => `galat: argumen wajib '${name}' belum diisi`],
  [/^error: option '(.+)' argument missing$/, (flags) => `galat: pilihan '${flags}' perlu diisi nilainya`],
  [/^error: required option '(.+)' not specified$/, (flags) => `galat: pilihan wajib '${flags}' belum diisi`],
  [/^error: unknown option '(.+)'$/, (flag) => `galat: pilihan '${flag}' tidak dikenal`],
  [/^error: unknown command '(.+)'$/, (name) => `galat: perintah '${name}' tidak dikenal`],
  [/^error: too many arguments(?: for '(.+)')?\. Expected (\d+) arguments? but got (\d+)\.$/, (name, expected, got) => `galat: terlalu banyak argumen${name ? ` untuk '${name}'` : ''}: seharusnya ${expected}, tertulis ${got}.`],
  [/^error: command-argument value '(.*)' is invalid for argument '(.+)'\. Allowed choices are (.+)\.$/, (value, name, choices) => `galat: '${value}' bukan nilai yang sah untuk ${name}; pilihan: ${choices}.`],
  [/^error: option '(.+)' argument '(.*)' is invalid\. Allowed choices are (.+)\.$/, (flags, value, choices) => `galat: '${value}' bukan nilai yang sah untuk ${flags}; pilihan: ${choices}.`],
  [/^error: option '(.+)' argument '(.*)' is invalid\.(.*)$/, (flags, value, rest) => `galat: '${value}' bukan nilai yang sah untuk ${flags}.${rest}`],
  [/^\(Did you mean one of (.+)\?\)$/, (names) => `(Maksud Anda salah satu dari ${names}?)`],
  [/^\(Did you mean (.+)\?\)$/, (name) => `(Maksud Anda ${name}?)`],
];

export function translateError(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      for (const [pattern, render] of ERRORS) {
        const match = pattern.exec(line);
        if (match) return render(...match.slice(1).map((g) => g ?? ''));
      }
      return line.replace(/^error: /, 'galat: ');
    })
    .join('\n');
}

class IndonesianHelp extends Help {
  override styleTitle(str: string): string {
    return TITLES[str] ?? str;
  }

  override commandUsage(command: Parameters<Help['commandUsage']>[0]): string {
    return super.commandUsage(command).replace('[options]', '[pilihan]').replace('[command]', '[perintah]');
  }

  override subcommandTerm(command: Parameters<Help['subcommandTerm']>[0]): string {
    return super.subcommandTerm(command).replace('[options]', '[pilihan]');
  }

  override optionDescription(option: Parameters<Help['optionDescription']>[0]): string {
    return translateExtras(super.optionDescription(option));
  }

  override argumentDescription(argument: Parameters<Help['argumentDescription']>[0]): string {
    return translateExtras(super.argumentDescription(argument));
  }
}

function translateExtras(text: string): string {
  return text.replace(/\(choices: /, '(pilihan: ').replace(/, default: |\(default: /, (m) => (m.startsWith('(') ? '(bawaan: ' : ', bawaan: ')).replace(/\(env: /, '(variabel lingkungan: ');
}

/** Indonesian help and error lines for a command and all its subcommands. */
export function inIndonesian(command: Command): Command {
  command.createHelp = () => Object.assign(new IndonesianHelp(), command.configureHelp());
  command.helpOption('-h, --help', 'tampilkan bantuan perintah ini');
  if (command.commands.length > 0) command.helpCommand('help [perintah]', 'tampilkan bantuan untuk perintah');
  command.configureOutput({
    outputError: (text, write) => write(translateError(text)),
  });
  for (const sub of command.commands) inIndonesian(sub);
  return command;
}
