/**
 * Where the data is in a sheet as clerks export it: title lines above the header, a header
 * in the long or (savings) wide layout, a totals row (JUMLAH, TOTAL, often merged across
 * columns) and a signature block under the list ("Kraksaan, 31 Oktober 2026", "Ketua", a
 * name). Only the data rows are read; what is skipped is listed once for the clerk.
 */
import { mapHeaders, missingColumnProblem, normalizeHeader, type HeaderMapping, type ImportKind } from './columns.ts';
import { savingsKindOf } from './savings-kinds.ts';
import type { Row } from './table.ts';
import { parseDate } from './values.ts';

/** How far down a header may sit under title lines. */
export const HEADER_SEARCH_ROWS = 20;

export function cellTexts(row: Row): string[] {
  const texts = row.cells.map((c) => c.text.trim());
  while (texts.length > 0 && texts[texts.length - 1] === '') texts.pop();
  return texts;
}

/** A wide savings sheet's kind columns: one balance column per kind, and an optional total. */
export interface WideSavings {
  kinds: { index: number; key: string; kind: string; label: string; header: string }[];
  totalIndex: number | undefined;
}

export interface Layout {
  headerRow: Row;
  headers: string[];
  mapping: HeaderMapping;
  /** Savings kept one row per member with a column per kind. */
  wide?: WideSavings;
  /** Rows above the header (titles), where an as-of date may be written. */
  titleRows: Row[];
}

const TOTAL_HEADERS = new Set(['jumlah', 'total', 'jumlah_simpanan', 'total_simpanan', 'jumlah_total', 'total_saldo', 'jumlah_saldo', 'saldo_total']);

/** Headers that say "a savings balance of this kind": Simpanan Wajib, Simp. Pokok, SW, Tabungan Hari Raya. */
function savingsKindHeader(header: string): { kind: string; label: string } | null {
  const normalized = normalizeHeader(header);
  if (/^(sp|sw|ss|pokok|wajib|sukarela|manasuka)$/.test(normalized) || /^(simpanan|simp|smp|s|tabungan)_[a-z]/.test(normalized)) {
    return savingsKindOf(header.replace(/^tabungan\b/i, 'Simpanan'));
  }
  return null;
}

function wideSavings(headers: readonly string[], mapping: HeaderMapping): WideSavings | null {
  if (!mapping.index.has('nomor_anggota')) return null;
  const kinds: WideSavings['kinds'] = [];
  let totalIndex: number | undefined;
  headers.forEach((header, index) => {
    if ([...mapping.index.values()].includes(index) && normalizeHeader(header) !== 'jumlah') return;
    if (TOTAL_HEADERS.has(normalizeHeader(header))) {
      totalIndex = index;
      return;
    }
    const kind = savingsKindHeader(header);
    if (kind && !kinds.some((k) => k.kind === kind.kind)) kinds.push({ index, key: `simpanan:${kind.kind}`, ...kind, header });
  });
  return kinds.length > 0 ? { kinds, totalIndex } : null;
}

/**
 * The header row: the first of the top rows that names every required column. Savings may
 * instead be wide (member number and kind columns), and may take their date from the title
 * or the command line, so `per_tanggal` is then not required.
 */
export function findLayout(kind: ImportKind, rows: readonly Row[], options: { asOfKnown: boolean }): Layout | { problems: string[]; line: number } {
  let best: { row: Row; headers: string[]; mapping: HeaderMapping } | null = null;
  const limit = Math.min(HEADER_SEARCH_ROWS, rows.length);
  for (let i = 0; i < limit; i++) {
    const row = rows[i]!;
    const headers = cellTexts(row);
    const mapping = mapHeaders(kind, headers);
    const titleRows = rows.slice(0, i) as Row[];
    const dated = options.asOfKnown || titleDate(titleRows) !== null;
    const missing = mapping.missing.filter((key) => !(kind === 'savings' && key === 'per_tanggal' && dated));
    if (missing.length === 0 && mapping.problems.length === 0) return { headerRow: row, headers, mapping, titleRows };
    if (kind === 'savings' && mapping.problems.length === 0) {
      // "Jumlah" is the long layout's balance column, and the wide layout's total.
      const wide = wideSavings(headers, mapping);
      if (wide && !mapping.index.has('per_tanggal') && !dated) {
        return { problems: ['Tanggal saldo tidak diketahui: tambahkan kolom per_tanggal, tulis "PER 31 OKTOBER 2026" di judul, atau gunakan --per-tanggal.'], line: row.line };
      }
      if (wide) {
        mapping.index.delete('saldo');
        mapping.index.delete('jenis_simpanan');
        mapping.ignored = mapping.ignored.filter((h) => !wide.kinds.some((k) => k.header === h) && !TOTAL_HEADERS.has(normalizeHeader(h)));
        return { headerRow: row, headers, mapping, wide, titleRows };
      }
    }
    const score = mapping.index.size;
    if (!best || score > best.mapping.index.size) best = { row, headers, mapping };
  }
  const { row, headers, mapping } = best!;
  const hint =
    kind === 'savings'
      ? ' Simpanan bisa satu baris per jenis (nomor_anggota, jenis_simpanan, saldo, per_tanggal) atau satu baris per anggota dengan kolom per jenis (Simpanan Pokok, Simpanan Wajib, …).'
      : '';
  const missing = mapping.missing.map((key) =>
    key === 'per_tanggal' && kind === 'savings'
      ? 'Tanggal saldo tidak diketahui: tambahkan kolom per_tanggal, tulis "PER 31 OKTOBER 2026" di judul, atau gunakan --per-tanggal.'
      : missingColumnProblem(key, headers, hint),
  );
  return { problems: [...mapping.problems, ...missing], line: row.line };
}

/** "PER 31 OKTOBER 2026", "Posisi per tanggal 31/10/2026", "s.d. 31 Oktober 2026" in a title line. */
export function titleDate(titleRows: readonly Row[]): string | null {
  for (const row of titleRows) {
    for (const cell of row.cells) {
      const match = /\b(?:per|posisi|s\.?\s?d\.?|sampai dengan|keadaan|tanggal|tgl\.?)\b\s*(?:tanggal|tgl\.?)?\s*:?\s*((?:[a-z']+,?\s+)?\d{1,2}[\s/.-]+(?:[a-z]+|\d{1,2})\.?[\s/.-]+\d{4})/i.exec(cell.text);
      if (!match) continue;
      const parsed = parseDate({ text: match[1]! });
      if (parsed.ok) return parsed.value;
    }
  }
  return null;
}

const TOTAL_WORDS = /^(jumlah|total|grand total|sub ?total|jml|jumlah total|jumlah keseluruhan|total keseluruhan)\b/i;
const PLACE_DATE = /^[a-z][a-z .'-]{1,40},\s*(?:[a-z']+,?\s+)?\d{1,2}[\s/.-]+(?:[a-z]+|\d{1,2})[\s/.-]+\d{4}$/i;

export interface SkippedRows {
  totals: number[];
  footer: number[];
}

/**
 * Sorts the rows under the header, as they are read, into data and what is not data:
 * totals rows wherever they are, and a signature block under the last row that has its key
 * column filled (rows of one or two cells, with a place and date, a title or a name). Rows
 * without a key are held back until a keyed row follows (they were data) or the file ends.
 */
export class RowSorter {
  readonly skipped: SkippedRows = { totals: [], footer: [] };
  #held: Row[] = [];

  constructor(private readonly keyIndex: number | undefined) {}

  #key(row: Row): string {
    return this.keyIndex === undefined ? '' : (row.cells[this.keyIndex]?.text.trim() ?? '');
  }

  /** The rows that are now known to be data. */
  push(row: Row): Row[] {
    const key = this.#key(row);
    if (isTotals(row, key)) {
      this.skipped.totals.push(row.line);
      return [];
    }
    if (key === '') {
      this.#held.push(row);
      return [];
    }
    const ready = this.#held;
    this.#held = [];
    ready.push(row);
    return ready;
  }

  /** At the end of the file: the held rows are a signature block, or data after all. */
  end(): Row[] {
    const held = this.#held;
    this.#held = [];
    const filled = (row: Row) => row.cells.filter((c) => c.text.trim() !== '');
    const sparse = held.every((row) => filled(row).length <= 2);
    const signed = held.some((row) => filled(row).some((c) => PLACE_DATE.test(c.text.trim()) || SIGNATURE_WORDS.test(c.text.trim())));
    if (held.length > 0 && sparse && signed) {
      this.skipped.footer.push(...held.map((row) => row.line));
      return [];
    }
    return held;
  }
}

const SIGNATURE_WORDS = /^(ketua|sekretaris|bendahara|pengurus|pengawas|mengetahui|menyetujui|manajer|manager|kepala|dibuat oleh|diperiksa oleh)\b/i;

/** A totals row: its key cell is empty or itself says JUMLAH/TOTAL, and one of its first cells does. */
function isTotals(row: Row, key: string): boolean {
  if (key !== '' && !TOTAL_WORDS.test(key)) return false;
  const first = row.cells.map((c) => c.text.trim()).filter((t) => t !== '').slice(0, 4);
  return first.some((text) => TOTAL_WORDS.test(text) && text.length <= 40);
}

/** "20004" or "20006–20011, 20020", for the clerk's note. */
export function lineRanges(lines: readonly number[]): string {
  const ranges: string[] = [];
  let start = lines[0];
  let prev = lines[0];
  const push = () => {
    if (start === undefined || prev === undefined) return;
    ranges.push(start === prev ? String(start) : `${start}–${prev}`);
  };
  for (const line of lines.slice(1)) {
    if (line === prev! + 1) {
      prev = line;
      continue;
    }
    push();
    start = line;
    prev = line;
  }
  push();
  if (ranges.length > 8) return `${ranges.slice(0, 8).join(', ')} dan ${ranges.length - 8} tempat lain`;
  return ranges.join(', ');
}
