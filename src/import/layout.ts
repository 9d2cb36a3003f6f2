/**
 * Where the data is in a sheet as clerks export it: title lines above the header, a header
 * in the long or (savings) wide layout, a totals row (JUMLAH, TOTAL, often merged across
 * columns) and a signature block under the list ("Kraksaan, 31 Oktober 2026", "Ketua", a
 * name). Only the data rows are read; what is skipped is listed once for the clerk.
 */
import { columnLetter, mapHeaders, missingColumnProblem, normalizeHeader, type HeaderMapping, type ImportKind } from './columns.ts';
import { savingsKindOf } from './savings-kinds.ts';
import type { Row } from './table.ts';
import { parseDate } from './values.ts';
import { addDays, addMonths } from '../core/format.ts';

/** How far down a header may sit under title lines. */
export const HEADER_SEARCH_ROWS = 20;

/** The column every data row has filled; rows without it may be totals, headings or signatures. */
export const KEY_COLUMNS: Record<ImportKind, string> = {
  koperasi: 'kode',
  members: 'nomor_anggota',
  savings: 'nomor_anggota',
  loans: 'nomor_anggota',
  meetings: 'jenis',
  report: 'tahun_buku',
  shu: 'nomor_anggota',
};

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

/** Kinds a cooperative keeps besides pokok, wajib and sukarela, as a wide sheet heads them without "Simpanan". */
const EXTRA_KINDS = /^(hari_raya|thr|pendidikan|berjangka|qurban|kurban|idul_fitri|lebaran|khusus|wisata|haji|umroh|umrah|sosial|jasa)$/;
const BASE_KIND = /\b(pokok|wajib|sukarela|manasuka)\b/;
/** "s/d Bulan Ini", "Saldo Akhir": the balance to date. */
const TO_DATE = /(s\s*\/\s*d|s\.\s*d\.?|sampai( dengan)?)\s*(bulan ini|sekarang|saat ini|\d)|\bsaldo\b|\bakhir\b/;
/** "Bulan Ini", "s/d Bulan Lalu", "Setoran": a movement or an earlier balance, not the balance. */
const MOVEMENT = /\b(bulan ini|bulan lalu|lalu|ini|setor(an)?|tarik(an)?|penarikan|mutasi|debet|debit|kredit|tambahan|awal|masuk|keluar)\b/;

/** Headers that say "a savings balance of this kind": Simpanan Wajib, Simp. Pokok, SW, Tabungan Hari Raya, Hari Raya. */
function savingsKindHeader(header: string, extras: boolean): { kind: string; label: string } | null {
  const normalized = normalizeHeader(header);
  if (/^(sp|sw|ss|pokok|wajib|sukarela|manasuka)$/.test(normalized) || /^(simpanan|simp|smp|s|tabungan)_[a-z]/.test(normalized)) {
    return savingsKindOf(header.replace(/^tabungan\b/i, 'Simpanan'));
  }
  if (extras && EXTRA_KINDS.test(normalized)) return savingsKindOf(`Simpanan ${header.trim()}`);
  return null;
}

type WideResult = WideSavings | { problems: string[] } | null;

function wideSavings(headers: readonly string[], mapping: HeaderMapping): WideResult {
  if (!mapping.index.has('nomor_anggota')) return null;
  const taken = new Set([...mapping.index.entries()].filter(([key]) => key !== 'saldo' && key !== 'jenis_simpanan').map(([, i]) => i));
  const columns: { index: number; header: string; kind: string; label: string; base: string | null; shape: 'plain' | 'to_date' | 'movement' }[] = [];
  let totalIndex: number | undefined;
  const standard = headers.some((h) => savingsKindHeader(h, false) !== null);
  headers.forEach((header, index) => {
    if (taken.has(index)) return;
    if (TOTAL_HEADERS.has(normalizeHeader(header))) {
      totalIndex = index;
      return;
    }
    const kind = savingsKindHeader(header, standard);
    if (!kind) return;
    const words = header.toLowerCase();
    const base = BASE_KIND.exec(words)?.[1] ?? null;
    const rest = base ? words.replace(/simpanan|simp\.?|smp\.?/g, '').replace(base, '') : '';
    const shape = !base || rest.trim() === '' ? 'plain' : TO_DATE.test(rest) ? 'to_date' : MOVEMENT.test(rest) ? 'movement' : 'plain';
    columns.push({ index, header, ...kind, base, shape });
  });
  if (columns.length === 0) return null;
  // A kind may come as one balance column, or as earlier balance, this month's movement and the
  // balance to date: the balance is read, the rest left; two balances for one kind are refused.
  const kinds: WideSavings['kinds'] = [];
  const problems: string[] = [];
  const byKind = new Map<string, typeof columns>();
  for (const column of columns) {
    const key = column.base ?? column.kind;
    byKind.set(key, [...(byKind.get(key) ?? []), column]);
  }
  for (const [key, group] of byKind) {
    const plain = group.filter((c) => c.shape === 'plain');
    const toDate = group.filter((c) => c.shape === 'to_date');
    const chosen = plain.length === 1 && toDate.length === 0 ? plain[0] : plain.length === 0 && toDate.length === 1 ? toDate[0] : undefined;
    if (!chosen) {
      const names = group.map((c) => `${columnLetter(c.index)} (${c.header})`).join(', ');
      problems.push(
        `Kolom ${names} sama-sama simpanan ${key.replace(/_/g, ' ')}, dan tidak jelas mana saldonya (saldo lalu, mutasi bulan ini, saldo sampai sekarang). Sisakan satu kolom saldo per jenis, misalnya "Simpanan ${key.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase())}" berisi saldo sampai tanggal laporan, lalu impor lagi.`,
      );
      continue;
    }
    // A running-total column names its base kind: "Simpanan Wajib s/d Bulan Ini" is wajib.
    const kind = (chosen.base ? savingsKindOf(chosen.base) : null) ?? { kind: chosen.kind, label: chosen.label };
    kinds.push({ index: chosen.index, key: `simpanan:${kind.kind}`, kind: kind.kind, label: kind.label, header: chosen.header });
  }
  if (problems.length > 0) return { problems };
  return { kinds, totalIndex };
}


/**
 * The header row: the first of the top rows that names every required column. Savings may
 * instead be wide (member number and kind columns), and may take their date from the title
 * or the command line, so `per_tanggal` is then not required.
 */
export function findLayout(kind: ImportKind, rows: readonly Row[], options: { asOfKnown: boolean }): Layout | { problems: string[]; line: number } {
  let best: { row: Row; headers: string[]; mapping: HeaderMapping } | null = null;
  const limit = Math.min(HEADER_SEARCH_ROWS, rows.length);
  const attempt = (headerRow: Row, headers: string[], titleRows: Row[]): Layout | { problems: string[]; line: number } | HeaderMapping => {
    const mapping = mapHeaders(kind, headers);
    const dated = options.asOfKnown || titleDate(titleRows) !== null;
    const missing = mapping.missing.filter((key) => !(kind === 'savings' && key === 'per_tanggal' && dated));
    if (kind === 'savings' && mapping.problems.length === 0) {
      // "Jumlah" is the long layout's balance column, and the wide layout's total.
      const wide = wideSavings(headers, mapping);
      if (wide && 'problems' in wide) return { problems: wide.problems, line: headerRow.line };
      if (wide && (!mapping.index.has('jenis_simpanan') || missing.length > 0)) {
        if (!mapping.index.has('per_tanggal') && !dated) {
          return { problems: ['Tanggal saldo tidak diketahui: tambahkan kolom per_tanggal, tulis "PER 31 OKTOBER 2026" di judul, atau gunakan --per-tanggal.'], line: headerRow.line };
        }
        mapping.index.delete('saldo');
        mapping.index.delete('jenis_simpanan');
        mapping.ignored = mapping.ignored.filter((h) => !wide.kinds.some((k) => k.header === h) && !TOTAL_HEADERS.has(normalizeHeader(h)));
        return { headerRow, headers, mapping, wide, titleRows };
      }
    }
    if (missing.length === 0 && mapping.problems.length === 0) return { headerRow, headers, mapping, titleRows };
    return mapping;
  };
  for (let i = 0; i < limit; i++) {
    const row = rows[i]!;
    const headers = cellTexts(row);
    const titleRows = rows.slice(0, i) as Row[];
    // A header of two rows: a group ("SIMPANAN", "ALAMAT") merged over the columns it
    // names in the row below ("Pokok | Wajib | Sukarela"). Tried first, when the row below
    // names columns and holds no data in the key column.
    const below = rows[i + 1];
    if (below) {
      const lower = cellTexts(below);
      const combined = Array.from({ length: Math.max(headers.length, lower.length) }, (_, c) => (lower[c] ?? '') || (headers[c] ?? ''));
      const upperOnly = mapHeaders(kind, headers);
      const keyIndex = upperOnly.index.get(KEY_COLUMNS[kind]);
      const subHeader = lower.filter((t) => t !== '').length >= 2 && (keyIndex === undefined || (lower[keyIndex] ?? '') === '' || lower[keyIndex] === headers[keyIndex]) && lower.every((t) => t === '' || /^[\p{L}][\p{L}\d .,'/()-]*$/u.test(t));
      if (subHeader && combined.join('|') !== headers.join('|')) {
        const found = attempt(below, combined, titleRows);
        if ('headerRow' in found && (found.wide || found.mapping.index.size > upperOnly.index.size)) return found;
      }
    }
    const found = attempt(row, headers, titleRows);
    if (!('missing' in found)) return found;
    const mapping = found;
    const score = mapping.index.size;
    if (!best || score > best.mapping.index.size) best = { row, headers, mapping };
  }
  const { row, headers, mapping } = best!;
  const turned = kind === 'report' ? transposedReport(rows.slice(0, limit)) : null;
  if (turned) return { problems: [turned], line: row.line };
  const hint =
    kind === 'savings'
      ? ' Simpanan bisa satu baris per jenis (nomor_anggota, jenis_simpanan, saldo, per_tanggal) atau satu baris per anggota dengan kolom per jenis (Simpanan Pokok, Simpanan Wajib, …).'
      : '';
  const missing = mapping.missing.map((key) =>
    key === 'per_tanggal' && kind === 'savings'
      ? 'Tanggal saldo tidak diketahui: tambahkan kolom per_tanggal, tulis "PER 31 OKTOBER 2026" di judul, atau gunakan --per-tanggal.'
      : missingColumnProblem(kind, key, headers, hint),
  );
  return { problems: [...mapping.problems, ...missing], line: row.line };
}

/**
 * A RAT book's "perkembangan koperasi" table: the figures down the first columns (Jumlah
 * Anggota, Aset, SHU…) and the years across (Uraian | 2024 | 2025). Read as it is, it would
 * give nonsense; the clerk is told how to turn it (Excel's Paste Special → Transpose).
 */
function transposedReport(rows: readonly Row[]): string | null {
  const keys = new Set<string>();
  let years = 0;
  for (const row of rows) {
    const texts = cellTexts(row);
    for (const text of texts.slice(0, 3)) {
      const key = mapHeaders('report', [text]).index.keys().next().value;
      if (key !== undefined && key !== 'tahun_buku') keys.add(key);
    }
    years = Math.max(years, texts.filter((t) => /^(tahun|th\.?|tb|tahun buku)?\s*(19|20)\d{2}$/i.test(t)).length);
  }
  if (keys.size < 3 || years === 0) return null;
  return 'Laporan ini tersusun satu baris per uraian (Jumlah Anggota, Aset, SHU, …) dengan tahun sebagai kolom. Susun satu baris per tahun buku, dengan judul kolom tahun_buku, jumlah_anggota, aset, modal_sendiri, simpanan_anggota, pinjaman_beredar, volume_usaha, pendapatan, biaya, shu: di Excel, salin tabelnya lalu Tempel Spesial → Transpose, simpan, dan impor lagi.';
}

const MONTHS = 'januari|februari|pebruari|maret|april|mei|juni|juli|agustus|september|oktober|nopember|november|desember|jan|feb|mar|apr|jun|jul|agu|agt|agus|sep|sept|okt|nov|des';
const DATE_IN_TEXT = new RegExp(`(\\d{1,2}\\s+(?:${MONTHS})\\.?\\s+\\d{4}|\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{4}|\\d{4}-\\d{2}-\\d{2})`, 'gi');
const MONTH_IN_TEXT = new RegExp(`\\b(?:bulan|periode|per|posisi)\\s+(${MONTHS})\\s+(\\d{4})\\b`, 'i');
const AS_OF_WORDS = /\b(per|posisi|s\s*\/\s*d|s\.\s*d|sampai dengan|keadaan|periode|tanggal|tgl)\b/i;

/**
 * The as-of date a title gives: "PER 31 OKTOBER 2026", "Posisi 31/10/2026", "s/d 31 Oktober
 * 2026", "REKAP SIMPANAN 31 OKTOBER 2026", a date cell beside "Posisi", or "BULAN OKTOBER
 * 2026" (the month's last day). One date is taken; among several, the one after "per",
 * "posisi", "s/d"…; when that is still not one date, none.
 */
export function titleDate(titleRows: readonly Row[]): string | null {
  const found: { date: string; marked: boolean }[] = [];
  for (const row of titleRows) {
    let markedCell = false;
    for (const cell of row.cells) {
      if (cell.date) {
        const parsed = parseDate(cell);
        if (parsed.ok) found.push({ date: parsed.value, marked: markedCell });
        continue;
      }
      const text = cell.text;
      for (const match of text.matchAll(DATE_IN_TEXT)) {
        const parsed = parseDate({ text: match[1]! });
        if (parsed.ok) found.push({ date: parsed.value, marked: AS_OF_WORDS.test(text.slice(0, match.index)) });
      }
      const month = MONTH_IN_TEXT.exec(text);
      if (month && !DATE_IN_TEXT.test(text)) {
        const parsed = parseDate({ text: `1 ${month[1]} ${month[2]}` });
        if (parsed.ok) found.push({ date: addDays(addMonths(parsed.value, 1), -1), marked: true });
      }
      DATE_IN_TEXT.lastIndex = 0;
      markedCell = AS_OF_WORDS.test(text) && text.trim().length <= 30;
    }
  }
  const distinct = (items: typeof found) => [...new Set(items.map((f) => f.date))];
  if (distinct(found).length === 1) return found[0]!.date;
  const marked = distinct(found.filter((f) => f.marked));
  return marked.length === 1 ? marked[0]! : null;
}

/** JUMLAH, TOTAL, Sub-Total, "J U M L A H", Grand Total, Jumlah Keseluruhan… */
function isTotalWord(text: string): boolean {
  const squeezed = text.toLowerCase().replace(/[\s\-_.:]/g, '');
  // Not a member number that merely starts so: "JML-001", "TOTAL-1".
  return text.length <= 40 && /^(jumlah|total|grandtotal|subtotal|jml|jumlahtotal|jumlahkeseluruhan|totalkeseluruhan|jumlahseluruhnya)(?![0-9])/.test(squeezed);
}

const PLACE_DATE = /^[a-z][a-z .'-]{1,40},\s*(?:[a-z']+,?\s+)?\d{1,2}[\s/.-]+(?:[a-z]+|\d{1,2})[\s/.-]+\d{4}$/i;
const SIGNATURE_WORDS = /^(ketua|wakil ketua|sekretaris|bendahara|pengurus|pengawas|mengetahui|menyetujui|disetujui|manajer|manager|kepala|dibuat oleh|diperiksa oleh|keterangan|catatan|dicetak|tanggal cetak|sumber|ttd)(?=$|[\s,.:;])|^(nip|nrp)[.:\s]|^a\.n\.\s/i;

/** A line of the block under a printed list: a place and date, a title, a name in brackets, a NIP, a print stamp. */
export function isSignatureText(text: string): boolean {
  const t = text.trim();
  return PLACE_DATE.test(t) || SIGNATURE_WORDS.test(t) || /^\(.{2,60}\)$/.test(t);
}

/** What a template leaves in an unused row: its row number, a copied-down 0 or "-". */
function isTemplateValue(text: string): boolean {
  return /^(-+|0+([.,]0+)?|rp\.? ?0*([.,]0+)?|rp\.? ?-|\d{1,6}\.?)$/i.test(text.trim());
}

export interface SkippedRows {
  totals: number[];
  footer: number[];
  /** Rows that are not members: a group heading ("KELOMPOK B"), an unused template row. */
  blank: number[];
}

/**
 * Sorts the rows under the header, as they are read, into data and what is not data:
 * totals rows wherever they are, group headings and unused template rows, and a signature
 * block under the last row that has its key column filled. Rows without a key are held back
 * until a keyed row follows (they were data, or headings) or the file ends.
 */
export class RowSorter {
  readonly skipped: SkippedRows = { totals: [], footer: [], blank: [] };
  #held: Row[] = [];

  constructor(private readonly keyIndex: number | undefined) {}

  #key(row: Row): string {
    const key = this.keyIndex === undefined ? '' : (row.cells[this.keyIndex]?.text.trim() ?? '');
    // "Mengetahui," or "(H. Moh. Sholeh)" in the member-number column is the signature block.
    return isSignatureText(key) ? '' : key;
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
    // "KELOMPOK A" alone in the member-number column: a heading, not a member.
    if (/\s|^\p{L}+$/u.test(key) && row.cells.filter((c) => c.text.trim() !== '').length === 1) {
      this.skipped.blank.push(row.line);
      return [];
    }
    const ready = this.#release(this.#held);
    this.#held = [];
    ready.push(row);
    return ready;
  }

  /** Held rows before a keyed row: headings and unused template rows are skipped, the rest is data. */
  #release(held: Row[]): Row[] {
    const data: Row[] = [];
    for (const row of held) {
      const filled = row.cells.filter((c) => c.text.trim() !== '');
      if (filled.length <= 1 || filled.every((c) => isTemplateValue(c.text))) this.skipped.blank.push(row.line);
      else data.push(row);
    }
    return data;
  }

  /** At the end of the file: the held rows are a signature block, or data after all. */
  end(): Row[] {
    const held = this.#held;
    this.#held = [];
    const filled = (row: Row) => row.cells.filter((c) => c.text.trim() !== '');
    const short = held.every((row) => filled(row).length <= 6 && filled(row).every((c) => c.text.trim().length <= 80));
    const signed = held.some((row) => filled(row).some((c) => isSignatureText(c.text)));
    if (held.length > 0 && short && signed) {
      this.skipped.footer.push(...held.map((row) => row.line));
      return [];
    }
    return this.#release(held);
  }
}

/** A totals row: its key cell is empty or itself says JUMLAH/TOTAL, and one of its first cells does. */
function isTotals(row: Row, key: string): boolean {
  if (key !== '' && !isTotalWord(key)) return false;
  const first = row.cells.map((c) => c.text.trim()).filter((t) => t !== '').slice(0, 4);
  return first.some(isTotalWord);
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
