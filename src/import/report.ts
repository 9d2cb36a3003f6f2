/** What an import found and did, in words an officer can act on. */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'csv-stringify/sync';
import { KIND_NAMES, type ImportKind } from './columns.ts';

export interface ImportProblem {
  /** Row number in the file as a person counts it (header = 1); null for the whole file. */
  line: number | null;
  /** The column's key (nomor_anggota, tanggal_masuk, simpanan:wajib); null for the whole row. */
  column: string | null;
  message: string;
}

export interface ImportResult {
  kind: ImportKind;
  file: string;
  ok: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Records made from the rows: a wide savings row gives one per kind. */
  records: number;
  problems: ImportProblem[];
  warnings: ImportProblem[];
  ignoredColumns: string[];
  /** Column key → how the clerk sees it: "F (Tgl Masuk)". */
  columns: Record<string, string>;
}

/** The clerk's word for each kind. */
export const KIND_LABEL: Record<ImportKind, string> = KIND_NAMES;

const count = (n: number) => n.toLocaleString('id-ID');

function columnName(key: string, columns: Record<string, string>): string {
  return columns[key] ?? key;
}

/** "Baris 7, kolom F (Tgl Masuk): tanggal 31/2/2020 tidak ada di kalender". */
export function describeProblem(problem: ImportProblem, columns: Record<string, string> = {}): string {
  const where = [problem.line !== null ? `Baris ${problem.line}` : null, problem.column ? `kolom ${columnName(problem.column, columns)}` : null]
    .filter(Boolean)
    .join(', ')
    .replace(/^k/, 'K');
  return where ? `${where}: ${problem.message}` : problem.message;
}

/** Problems of the same kind: the same column and the same sentence with other values. */
function shapeOf(problem: ImportProblem): string {
  return `${problem.column ?? ''}|${problem.message.replace(/"[^"]*"/g, '"…"').replace(/\d[\d.,/-]*/g, '#').replace(/Rp#/g, '#')}`;
}

/**
 * A screenful: problems grouped by shape, a few examples of each, then a count, so a
 * 20,000-row file with one systematic mistake gives one readable report.
 */
function screenful(items: ImportProblem[], columns: Record<string, string>, options: { prefix: string; what: string; limit: number; perShape: number }): string[] {
  const groups = new Map<string, ImportProblem[]>();
  for (const item of items) {
    const key = shapeOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const lines: string[] = [];
  let shown = 0;
  for (const group of groups.values()) {
    if (shown >= options.limit) break;
    const examples = group.slice(0, Math.min(options.perShape, options.limit - shown));
    for (const item of examples) lines.push(`${options.prefix}${describeProblem(item, columns)}`);
    shown += examples.length;
    const rest = group.length - examples.length;
    if (rest > 0) {
      const column = group[0]!.column;
      lines.push(`  … dan ${count(rest)} ${options.what} lain yang serupa${column ? ` di kolom ${columnName(column, columns)}` : ''}.`);
    }
    groups.delete(shapeOf(group[0]!));
  }
  const hidden = [...groups.values()].reduce((sum, group) => sum + group.length, 0);
  if (hidden > 0) lines.push(`… dan ${count(hidden)} ${options.what} lain (lihat semuanya dengan --laporan BERKAS.csv).`);
  return lines;
}

/** What the clerk reads after an import, before the summary line. */
export function reportLines(result: ImportResult): string[] {
  const lines = screenful(result.problems, result.columns, { prefix: '', what: 'masalah', limit: 20, perShape: 3 });
  lines.push(...screenful(result.warnings, result.columns, { prefix: 'Catatan: ', what: 'catatan', limit: 10, perShape: 2 }));
  if (result.ignoredColumns.length > 0) lines.push(`Kolom yang diabaikan: ${result.ignoredColumns.join(', ')}`);
  return lines;
}

/** Every problem and note, one per row, for the clerk to open in Excel (";" and UTF-8 with BOM, as Indonesian Excel reads it). */
export async function writeReportCsv(path: string, result: ImportResult): Promise<void> {
  const rows = [
    ...result.problems.map((p) => ({ p, jenis: 'masalah' })),
    ...result.warnings.map((p) => ({ p, jenis: 'catatan' })),
  ].map(({ p, jenis }) => [p.line ?? '', p.column ? columnName(p.column, result.columns) : '', jenis, p.message]);
  const text = stringify(rows, { delimiter: ';', header: true, columns: ['baris', 'kolom', 'jenis', 'keterangan'], record_delimiter: 'windows' });
  await writeFile(path, `\uFEFF${text}${text.endsWith('\r\n') ? '' : '\r\n'}`);
}

/** The one-line summary every import ends with. */
export function summarize(result: ImportResult): string {
  const label = KIND_LABEL[result.kind];
  if (!result.ok) {
    const lines = new Set(result.problems.map((p) => p.line).filter((l) => l !== null));
    const where = lines.size > 0 ? ` di ${count(lines.size)} baris` : '';
    return `Impor ${label} dibatalkan: ${count(result.problems.length)} masalah${where}; tidak ada data yang diubah.`;
  }
  const records = result.records !== result.rows && result.kind === 'savings' ? `, ${count(result.records)} saldo simpanan` : '';
  return `Impor ${label} selesai: ${count(result.rows)} baris${records} (${count(result.created)} baru, ${count(result.updated)} diperbarui, ${count(result.unchanged)} tetap).`;
}
