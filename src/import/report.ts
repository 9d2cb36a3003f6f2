/** What an import found and did, in words an officer can act on. */
import type { ImportKind } from './columns.ts';

export interface ImportProblem {
  /** Row number in the file as a person counts it (header = 1); null for the whole file. */
  line: number | null;
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
  problems: ImportProblem[];
  warnings: ImportProblem[];
  ignoredColumns: string[];
}

export const KIND_LABEL: Record<ImportKind, string> = {
  koperasi: 'koperasi',
  members: 'anggota',
  savings: 'simpanan',
  loans: 'pinjaman',
  meetings: 'rapat',
};

export function describeProblem(problem: ImportProblem): string {
  const where = [problem.line !== null ? `Baris ${problem.line}` : null, problem.column ? `kolom ${problem.column}` : null]
    .filter(Boolean)
    .join(', ');
  return where ? `${where}: ${problem.message}` : problem.message;
}

/** The one-line summary every import ends with. */
export function summarize(result: ImportResult): string {
  const label = KIND_LABEL[result.kind];
  if (!result.ok) {
    const lines = new Set(result.problems.map((p) => p.line).filter((l) => l !== null));
    const where = lines.size > 0 ? ` di ${lines.size} baris` : '';
    return `Impor ${label} dibatalkan: ${result.problems.length} masalah${where}; tidak ada data yang diubah.`;
  }
  return `Impor ${label} selesai: ${result.rows} baris (${result.created} baru, ${result.updated} diperbarui, ${result.unchanged} tetap).`;
}
