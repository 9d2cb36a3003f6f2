/**
 * `kopbot import KIND FILE`: read, check every row, and write all rows in one transaction or
 * none at all. The result lists every problem by row and column.
 */
import { basename } from 'node:path';
import type { Db } from '../persistence/database.ts';
import { localDate } from '../core/format.ts';
import { mapHeaders, type ImportKind } from './columns.ts';
import { IMPORTERS, type ImportContext, type KoperasiRef, type Located } from './importers.ts';
import type { ImportProblem, ImportResult } from './report.ts';
import { RowReader } from './row-reader.ts';
import { readTable, TableError, type Row } from './table.ts';
import { retryWhileBusy } from '../persistence/busy.ts';

export interface ImportOptions {
  koperasiCode?: string;
  /** Who is importing, for the audit log ("cli", "officer:12"). */
  actor: string;
  now?: Date;
  /** Default zone for new cooperatives and for dates outside one (the TZ setting). */
  timeZone?: string;
  onProgress?: (done: number, total: number) => void;
}

async function resolveKoperasi(db: Db, code: string | undefined): Promise<KoperasiRef | string> {
  const select = { id: true, code: true, timezone: true, bookYearEnd: true } as const;
  if (code) {
    const koperasi = await db.koperasi.findUnique({ where: { code: code.trim().toUpperCase() }, select });
    return koperasi ?? `Koperasi dengan kode ${code} belum terdaftar. Impor data koperasi dulu (kopbot import koperasi BERKAS).`;
  }
  const all = await db.koperasi.findMany({ select, take: 2 });
  if (all.length === 1) return all[0]!;
  if (all.length === 0) return 'Belum ada koperasi terdaftar. Impor data koperasi dulu (kopbot import koperasi BERKAS).';
  return 'Ada lebih dari satu koperasi: sebutkan koperasinya dengan --koperasi KODE.';
}

export async function importFile(db: Db, kind: ImportKind, path: string, options: ImportOptions): Promise<ImportResult> {
  const result: ImportResult = {
    kind,
    file: basename(path),
    ok: false,
    rows: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    problems: [],
    warnings: [],
    ignoredColumns: [],
  };
  const fail = (message: string, line: number | null = null): ImportResult => {
    result.problems.push({ line, column: null, message });
    return result;
  };
  const importer = IMPORTERS[kind];

  let koperasi: KoperasiRef | null = null;
  if (importer.needsKoperasi) {
    const resolved = await resolveKoperasi(db, options.koperasiCode);
    if (typeof resolved === 'string') return fail(resolved);
    koperasi = resolved;
  }

  let table;
  try {
    table = await readTable(path);
  } catch (error) {
    if (error instanceof TableError) return fail(error.message);
    throw error;
  }
  // The header is the first of the top rows that names every required column: exports often
  // start with a title ("DAFTAR ANGGOTA KSP …") and a blank line.
  let headerAt = 0;
  let headers = mapHeaders(kind, cellTexts(table.rows[0]!));
  for (let i = 1; i < Math.min(6, table.rows.length) && headers.problems.length > 0; i++) {
    const candidate = mapHeaders(kind, cellTexts(table.rows[i]!));
    if (candidate.problems.length === 0) {
      headers = candidate;
      headerAt = i;
    }
  }
  const headerRow = table.rows[headerAt]!;
  result.ignoredColumns = headers.ignored;
  if (headers.problems.length > 0) {
    for (const problem of headers.problems) fail(problem, headerRow.line);
    return result;
  }
  const dataRows = table.rows.slice(headerAt + 1);
  if (dataRows.length === 0) return fail('Berkas tidak berisi baris data di bawah judul kolom.');

  const now = options.now ?? new Date();
  const defaultTimeZone = options.timeZone ?? 'Asia/Jakarta';
  const ctx: ImportContext = { koperasi, today: localDate(now, koperasi?.timezone ?? defaultTimeZone), defaultTimeZone };
  const records: Located<unknown>[] = [];
  const width = cellTexts(headerRow).length;
  const keyed = importer.duplicateKey;
  const seen = new Map<string, number>();
  for (const row of dataRows) {
    // A value holding the separator ("Laporan; SHU" in a ;-separated file) spills into cells
    // past the last column: refuse rather than lose it.
    const extra = row.cells.slice(width).filter((c) => c.text.trim() !== '');
    if (extra.length > 0) {
      result.problems.push({
        line: row.line,
        column: null,
        message: `berisi ${width + extra.length} nilai, padahal judul kolom hanya ${width}; bila sebuah nilai memuat tanda pemisah (; atau ,), apit nilai itu dengan tanda kutip "…"`,
      });
      continue;
    }
    const reader = new RowReader(headers.index, row);
    if (keyed) {
      // Duplicates are found on every row, valid or not, so one run reports them all.
      const key = keyed.of(reader);
      if (key) {
        const first = seen.get(key);
        if (first !== undefined) reader.problem(keyed.column, `${keyed.what} ${key} sudah ada di baris ${first} (duplikat)`);
        else seen.set(key, row.line);
      }
    }
    const record = importer.read(reader, ctx);
    result.problems.push(...reader.problems);
    result.warnings.push(...reader.warnings);
    if (record !== null) records.push({ line: row.line, record });
  }
  result.rows = dataRows.length;
  const checked = await importer.check(db, records, ctx);
  result.problems.push(...checked.problems);
  result.warnings.push(...checked.warnings);
  result.problems.sort(byLine);
  if (result.problems.length > 0) return result;

  const total = records.length;
  const counts = await retryWhileBusy(() => db.$transaction(
    async (tx) => {
      let done = 0;
      // Written in slices so progress can be shown; it is still one transaction.
      const sum = { created: 0, updated: 0, unchanged: 0 };
      for (let i = 0; i < records.length; i += 200) {
        const slice = records.slice(i, i + 200);
        const c = await importer.write(tx, slice, ctx);
        sum.created += c.created;
        sum.updated += c.updated;
        sum.unchanged += c.unchanged;
        done += slice.length;
        options.onProgress?.(done, total);
      }
      await tx.auditLog.create({
        data: {
          actor: options.actor,
          action: `import.${kind}`,
          koperasiId: koperasi?.id ?? null,
          detail: JSON.stringify({ file: result.file, rows: result.rows, ...sum }),
        },
      });
      return sum;
    },
    { timeout: 30 * 60_000, maxWait: 60_000 },
  ));
  Object.assign(result, counts, { ok: true });
  return result;
}

function cellTexts(row: Row): string[] {
  const texts = row.cells.map((c) => c.text.trim());
  while (texts.length > 0 && texts[texts.length - 1] === '') texts.pop();
  return texts;
}

function byLine(a: ImportProblem, b: ImportProblem): number {
  return (a.line ?? 0) - (b.line ?? 0);
}
