/**
 * `kopbot import KIND FILE`: read, check every row, and write all rows in one transaction or
 * none at all. The result lists every problem by row and column.
 */
import { basename } from 'node:path';
import { formatDate, localDate } from '../core/format.ts';
import { columnLetter, type ImportKind } from './columns.ts';
import { findLayout, HEADER_SEARCH_ROWS, KEY_COLUMNS, lineRanges, RowSorter, titleDate, type Layout } from './layout.ts';
import { interner, koperasiImporter, loanImporter, meetingImporter, memberImporter, savingsImporter, type ImportContext, type Importer, type KoperasiRef, type Located } from './importers.ts';
import { reportImporter, shuImporter } from './figures.ts';
import type { ImportProblem, ImportResult } from './report.ts';
import { RowReader } from './row-reader.ts';
import { readTable, TableError, type Encoding, type Row, type Table } from './table.ts';
import type { ImportReads, ImportStore } from './ports.ts';
import { auditRow } from '../domain/audit.ts';

export type ImportPhase = 'read' | 'check' | 'write';

export interface ImportOptions {
  koperasiCode?: string;
  /** Who is importing, for the audit log ("cli", "officer:12"). */
  actor: string;
  now?: Date;
  /** Default zone for new cooperatives and for dates outside one (the TZ setting). */
  timeZone?: string;
  /** Savings: the as-of date when the file has no per_tanggal column (--per-tanggal). */
  asOf?: string;
  /** Progress through reading, checking and writing; total is unknown while reading. */
  onProgress?: (phase: ImportPhase, done: number, total: number | null) => void;
}

const IMPORTERS: Record<ImportKind, Importer<unknown>> = {
  koperasi: koperasiImporter as Importer<unknown>,
  members: memberImporter as Importer<unknown>,
  savings: savingsImporter as Importer<unknown>,
  loans: loanImporter as Importer<unknown>,
  meetings: meetingImporter as Importer<unknown>,
  report: reportImporter as Importer<unknown>,
  shu: shuImporter as Importer<unknown>,
};

async function resolveKoperasi(store: ImportReads, code: string | undefined): Promise<KoperasiRef | string> {
  if (code) {
    const koperasi = await store.koperasiByCode(code.trim().toUpperCase());
    return koperasi ?? `Koperasi dengan kode ${code} belum terdaftar. Impor data koperasi dulu (kopbot import koperasi BERKAS).`;
  }
  const all = await store.someKoperasi(2);
  if (all.length === 1) return all[0]!;
  if (all.length === 0) return 'Belum ada koperasi terdaftar. Impor data koperasi dulu (kopbot import koperasi BERKAS).';
  return 'Ada lebih dari satu koperasi: sebutkan koperasinya dengan --koperasi KODE.';
}

export async function importFile(store: ImportStore, kind: ImportKind, path: string, options: ImportOptions): Promise<ImportResult> {
  const result: ImportResult = {
    kind,
    file: basename(path),
    ok: false,
    rows: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    records: 0,
    problems: [],
    warnings: [],
    ignoredColumns: [],
    columns: {},
  };
  const fail = (message: string, line: number | null = null): ImportResult => {
    result.problems.push({ line, column: null, message });
    return result;
  };
  const importer = IMPORTERS[kind];

  let koperasi: KoperasiRef | null = null;
  if (importer.needsKoperasi) {
    const resolved = await resolveKoperasi(store, options.koperasiCode);
    if (typeof resolved === 'string') return fail(resolved);
    koperasi = resolved;
  }

  options.onProgress?.('read', 0, null);
  // A workbook may hold instructions or a summary before the data: the first sheet whose
  // header names the required columns is read.
  let tables: Table[];
  let table: Table | undefined;
  let layout: Layout | undefined;
  let head: Row[] = [];
  let rows: AsyncIterator<Row> | undefined;
  let refusal: { problems: string[]; line: number } | undefined;
  try {
    tables = await readTable(path);
    for (const candidate of tables) {
      const iterator = candidate.rows[Symbol.asyncIterator]();
      const top: Row[] = [];
      while (top.length < HEADER_SEARCH_ROWS) {
        const next = await iterator.next();
        if (next.done) break;
        top.push(next.value);
      }
      const found = findLayout(kind, top, { asOfKnown: options.asOf !== undefined });
      if (!('problems' in found)) {
        [table, layout, head, rows] = [candidate, found, top, iterator];
        break;
      }
      refusal ??= found;
    }
  } catch (error) {
    if (error instanceof TableError) return fail(error.message);
    throw error;
  }
  if (!table || !layout || !rows) {
    for (const problem of refusal?.problems ?? ['Berkas kosong: tidak ada baris judul kolom.']) fail(problem, refusal?.line ?? null);
    if (tables.length > 1) {
      fail(`Berkas Excel ini punya ${tables.length} lembar kerja (${tables.map((t) => `"${t.sheet}"`).join(', ')}); tidak satu pun berjudul kolom yang dikenali.`);
    }
    return result;
  }
  if (tables.length > 1) result.warnings.push({ line: null, column: null, message: `dibaca lembar kerja "${table.sheet}" (dari ${tables.length} lembar).` });
  const { headerRow, headers, mapping, wide } = layout;
  result.ignoredColumns = mapping.ignored;
  const index = new Map(mapping.index);
  if (wide) {
    for (const column of wide.kinds) index.set(column.key, column.index);
    if (wide.totalIndex !== undefined) index.set('simpanan:jumlah', wide.totalIndex);
  }
  for (const [key, i] of index) result.columns[key] = `${columnLetter(i)} (${headers[i]})`;
  const ENCODING_NOTES: Partial<Record<Encoding, string>> = {
    'windows-1252': 'berkas dibaca sebagai Windows-1252 (CSV dari Excel lama); huruf seperti ’ “ ” – terbaca benar.',
    mixed: 'sebagian baris berkas ini ditulis dengan Windows-1252 dan sebagian UTF-8 (baris yang disalin dari berkas lain); tiap baris dibaca sesuai penulisannya. Periksa nama dengan huruf khusus.',
    'utf-16': 'berkas dibaca sebagai UTF-16 ("Teks Unicode" dari Excel).',
  };
  const encodingNote = table.encoding ? ENCODING_NOTES[table.encoding] : undefined;
  if (encodingNote) result.warnings.push({ line: null, column: null, message: encodingNote });

  const now = options.now ?? new Date();
  const defaultTimeZone = options.timeZone ?? 'Asia/Jakarta';
  const ctx: ImportContext = {
    koperasi,
    today: localDate(now, koperasi?.timezone ?? defaultTimeZone),
    defaultTimeZone,
    asOf: options.asOf ?? titleDate(layout.titleRows),
    wide,
    intern: interner(),
    now,
  };
  if (kind === 'savings' && !index.has('per_tanggal') && options.asOf === undefined && ctx.asOf) {
    result.warnings.push({ line: null, column: null, message: `tanggal saldo diambil dari judul berkas: per ${formatDate(ctx.asOf)}.` });
  }
  const records: Located<unknown>[] = [];
  const width = headers.length;
  const keyed = importer.duplicateKey;
  const seen = new Map<string, number>();
  const readRow = (row: Row) => {
    if (++result.rows % 1000 === 0) options.onProgress?.('read', result.rows, null);
    // A value holding the separator ("Laporan; SHU" in a ;-separated file) spills into cells
    // past the last column: refuse rather than lose it.
    const extra = row.cells.slice(width).filter((c) => c.text.trim() !== '');
    if (extra.length > 0) {
      result.problems.push({
        line: row.line,
        column: null,
        message: `berisi ${width + extra.length} nilai, padahal judul kolom hanya ${width}; bila sebuah nilai memuat tanda pemisah (; atau ,), apit nilai itu dengan tanda kutip "…"`,
      });
      return;
    }
    const reader = new RowReader(index, row);
    if (keyed) {
      // Duplicates are found on every row, valid or not, so one run reports them all.
      const key = keyed.of(reader);
      if (key) {
        const first = seen.get(key);
        if (first !== undefined) reader.problem(typeof keyed.column === 'string' ? keyed.column : keyed.column(reader), `${typeof keyed.what === 'string' ? keyed.what : keyed.what(reader)} ${key} sudah ada di baris ${first} (duplikat)`);
        else seen.set(key, row.line);
      }
    }
    const record = importer.read(reader, ctx);
    result.problems.push(...reader.problems);
    result.warnings.push(...reader.warnings);
    if (Array.isArray(record)) for (const r of record) records.push({ line: row.line, record: r });
    else if (record !== null) records.push({ line: row.line, record });
  };
  const sorter = new RowSorter(index.get(KEY_COLUMNS[kind]));
  try {
    for (const row of head.slice(head.indexOf(headerRow) + 1)) sorter.push(row).forEach(readRow);
    head.length = 0;
    for (let next = await rows.next(); !next.done; next = await rows.next()) sorter.push(next.value).forEach(readRow);
    sorter.end().forEach(readRow);
  } catch (error) {
    if (error instanceof TableError) return fail(error.message);
    throw error;
  }
  options.onProgress?.('read', result.rows, null);
  seen.clear(); // the duplicate check is done; its keys need not outlive the reading
  const { skipped } = sorter;
  if (skipped.totals.length > 0 || skipped.footer.length > 0 || skipped.blank.length > 0) {
    const parts = [
      skipped.totals.length > 0 ? `baris ${lineRanges(skipped.totals)} (baris jumlah)` : null,
      skipped.blank.length > 0 ? `baris ${lineRanges(skipped.blank)} (judul kelompok atau baris kosong templat)` : null,
      skipped.footer.length > 0 ? `baris ${skipped.footer[0]}–${skipped.footer[skipped.footer.length - 1]} (tanda tangan dan keterangan di bawah daftar)` : null,
    ].filter(Boolean);
    result.warnings.push({ line: null, column: null, message: `${parts.join(' dan ')} tidak dibaca sebagai data.` });
  }
  if (result.rows === 0 && result.problems.length === 0) return fail('Berkas tidak berisi baris data di bawah judul kolom.');
  options.onProgress?.('check', 0, null);
  const crossChecked = await importer.check(store, records, ctx);
  result.problems.push(...crossChecked.problems);
  result.warnings.push(...crossChecked.warnings);
  result.problems.sort(byLine);
  result.warnings.sort(byLine);
  if (result.problems.length > 0) return result;

  const total = records.length;
  const counts = await store.inTransaction(async (writer) => {
    let done = 0;
    // Written in slices so progress can be shown; it is still one transaction.
    const sum = await importer.write(writer, records, ctx, (n) => {
      done += n;
      if (n > 0) options.onProgress?.('write', done, total);
    });
    await writer.audit(auditRow({ actor: options.actor, action: `import.${kind}`, koperasiId: koperasi?.id ?? null, detail: { file: result.file, rows: result.rows, ...sum } }));
    return sum;
  });
  Object.assign(result, counts, { ok: true, records: records.length });
  return result;
}


function byLine(a: ImportProblem, b: ImportProblem): number {
  return (a.line ?? 0) - (b.line ?? 0);
}
