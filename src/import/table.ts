/**
 * Reading an import file (CSV or XLSX) into header names and rows of cells. A cell keeps its
 * text and, from Excel, whether it held a number or a date: a NIK stored as a number has lost
 * digits, and only the cell type can prove it.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import ExcelJS from 'exceljs';

export interface Cell {
  text: string;
  /** Set when a spreadsheet cell held a number. */
  number?: number;
  /** Set when a spreadsheet cell held a date (UTC fields carry the calendar date/time). */
  date?: Date;
  /** Set when a spreadsheet cell was typed as text: its digits are exactly as entered. */
  typedText?: boolean;
}

export interface Row {
  /** Line (CSV) or row (XLSX) number in the file, as a person counts it: the header is 1. */
  line: number;
  cells: Cell[];
}

/**
 * Every non-empty row, header included (the header is not always the first row: title
 * lines). A CSV's rows are read as they are consumed, so a large file never sits in memory
 * twice: as rows and as the records made from them.
 */
export interface Table {
  rows: AsyncIterable<Row>;
  /** XLSX: the worksheet's name. */
  sheet?: string;
  /** CSV only: how the bytes were read, and the separator found. */
  encoding?: Encoding;
  delimiter?: string;
}

export class TableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TableError';
  }
}

export type Encoding = 'utf-8' | 'windows-1252' | 'mixed' | 'utf-16';

/**
 * The text of a CSV: UTF-16 when it starts with its byte-order mark (Excel's "Unicode Text"),
 * UTF-8 when it is valid UTF-8, else Windows-1252 (older Excel on Windows). A file that is
 * UTF-8 but for a few Windows-1252 bytes (rows pasted from another file) is decoded line by
 * line, each line the way it was written.
 */
export function decode(buffer: Buffer): { text: string; encoding: Encoding } {
  if (buffer[0] === 0xff && buffer[1] === 0xfe) return { text: iconv.decode(buffer.subarray(2), 'utf16le'), encoding: 'utf-16' };
  if (buffer[0] === 0xfe && buffer[1] === 0xff) return { text: iconv.decode(buffer.subarray(2), 'utf16be'), encoding: 'utf-16' };
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  try {
    return { text: utf8.decode(buffer).replace(/^\uFEFF/, ''), encoding: 'utf-8' };
  } catch {
    // Node's TextDecoder('windows-1252') maps 0x80–0x9F to C1 controls (’ becomes U+0092);
    // iconv-lite maps them to the characters Windows shows (’ “ ” – …).
    let sawUtf8 = false;
    const lines: string[] = [];
    let start = 0;
    while (start <= buffer.length) {
      let end = buffer.indexOf(0x0a, start);
      if (end === -1) end = buffer.length;
      const line = buffer.subarray(start, end);
      try {
        const text = utf8.decode(line);
        if (/[^\x00-\x7f]/.test(text)) sawUtf8 = true;
        lines.push(text);
      } catch {
        lines.push(iconv.decode(line, 'win1252'));
      }
      start = end + 1;
    }
    return { text: lines.join('\n').replace(/^\uFEFF/, ''), encoding: sawUtf8 ? 'mixed' : 'windows-1252' };
  }
}

/** Bytes that no CSV a clerk saves contains: NUL, or the start of a ZIP (an .xlsx renamed). */
function binaryKind(buffer: Buffer): 'xlsx' | 'binary' | null {
  if (buffer[0] === 0x50 && buffer[1] === 0x4b && buffer[2] === 0x03 && buffer[3] === 0x04) return 'xlsx';
  const head = buffer.subarray(0, 4096);
  if (head[0] === 0xd0 && head[1] === 0xcf) return 'binary';
  return head.includes(0) ? 'binary' : null;
}

const DELIMITERS = [';', ',', '\t', '|'] as const;

/** How many times each delimiter occurs in a line, outside double quotes. */
function delimiterCounts(line: string): number[] {
  const counts = DELIMITERS.map(() => 0);
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted) {
      const i = DELIMITERS.indexOf(ch as (typeof DELIMITERS)[number]);
      if (i >= 0) counts[i]!++;
    }
  }
  return counts;
}

/**
 * The separator, judged over the first lines: the one that splits the most lines into the
 * same number of fields. Title lines ("DAFTAR ANGGOTA …") have none and do not count;
 * Indonesian Excel writes ";" because "," is its decimal separator, so a name with a comma
 * does not outvote it.
 */
export function sniffDelimiter(text: string): string {
  const lines = text.split(/\r?\n/, 40).filter((line) => line.trim() !== '');
  let best: { delimiter: string; lines: number; fields: number } = { delimiter: ',', lines: 0, fields: 0 };
  DELIMITERS.forEach((delimiter, i) => {
    const tally = new Map<number, number>();
    for (const line of lines) {
      const n = delimiterCounts(line)[i]!;
      if (n > 0) tally.set(n, (tally.get(n) ?? 0) + 1);
    }
    for (const [fields, count] of tally) {
      if (count > best.lines || (count === best.lines && fields > best.fields)) best = { delimiter, lines: count, fields };
    }
  });
  return best.delimiter;
}

async function readCsv(path: string): Promise<Table[]> {
  const buffer = await readFile(path);
  const isUtf16 = (buffer[0] === 0xff && buffer[1] === 0xfe) || (buffer[0] === 0xfe && buffer[1] === 0xff);
  const binary = isUtf16 ? null : binaryKind(buffer);
  if (binary === 'xlsx') throw new TableError('Berkas ini sebenarnya berkas Excel (.xlsx) yang diberi nama .csv: ganti ekstensinya menjadi .xlsx, atau simpan ulang dari Excel sebagai CSV.');
  if (binary === 'binary') throw new TableError('Berkas ini bukan teks CSV (isinya data biner, mungkin berkas .xls atau program). Buka di Excel lalu simpan sebagai CSV atau .xlsx.');
  const decoded = decode(buffer);
  let text = decoded.text;
  // Excel may start a CSV with "sep=;" to name its separator; it does not show that line as a row.
  const sep = /^sep=(.)\r?\n/i.exec(text);
  if (sep) text = text.slice(sep[0].length);
  if (text.trim() === '') throw new TableError('Berkas kosong: tidak ada baris judul kolom.');
  const delimiter = sep ? sep[1]! : sniffDelimiter(text);
  async function* rows(): AsyncGenerator<Row> {
    // Parsed as a stream, in slices.
    const slices = function* () {
      for (let i = 0; i < text.length; i += 1 << 20) yield text.slice(i, i + (1 << 20));
    };
    // Rows are numbered as Excel numbers them: one per record, blank ones included, however
    // many lines a quoted value (an address) spans.
    const parser = Readable.from(slices()).pipe(parse({ delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: false, trim: false }));
    let number = 0;
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        number++;
        if (record.some((v) => v.trim() !== '')) yield { line: number, cells: record.map((value) => ({ text: value })) };
      }
    } catch (error) {
      const e = error as { lines?: number; message: string };
      const where = e.lines ? ` di sekitar baris ${number + 1}` : '';
      const why = /quote/i.test(e.message) ? 'tanda kutip " yang tidak ditutup' : 'susunan kolom yang tidak terbaca';
      throw new TableError(`Berkas CSV rusak${where}: ${why}. Buka di Excel, periksa baris itu, lalu simpan lagi sebagai CSV.`, { cause: error });
    }
  }
  return [{ rows: rows(), encoding: decoded.encoding, delimiter }];
}

function cellOf(value: ExcelJS.CellValue): Cell {
  if (value === null || value === undefined) return { text: '' };
  if (typeof value === 'number') return { text: String(value), number: value };
  if (typeof value === 'string') return { text: value, typedText: true };
  if (typeof value === 'boolean') return { text: value ? 'TRUE' : 'FALSE' };
  if (value instanceof Date) return { text: value.toISOString(), date: value };
  if ('richText' in value) return { text: value.richText.map((r) => r.text).join(''), typedText: true };
  if ('result' in value) return cellOf((value.result ?? null) as ExcelJS.CellValue);
  if ('text' in value) return { text: String(value.text) };
  if ('error' in value) return { text: String(value.error) };
  return { text: String(value) };
}

/** Every worksheet of a workbook, in order: the import takes the first whose header it knows. */
async function readXlsx(path: string): Promise<Table[]> {
  const buffer = await readFile(path);
  if (buffer.length === 0) throw new TableError('Berkas kosong: tidak ada baris judul kolom.');
  if (!(buffer[0] === 0x50 && buffer[1] === 0x4b)) {
    throw new TableError(
      buffer[0] === 0xd0 && buffer[1] === 0xcf
        ? 'Berkas ini format Excel lama (.xls) yang diberi nama .xlsx: buka di Excel lalu simpan sebagai .xlsx atau CSV.'
        : 'Berkas ini bukan berkas Excel .xlsx yang sah (mungkin CSV atau teks yang diberi nama .xlsx): ganti ekstensinya, atau simpan ulang dari Excel sebagai .xlsx.',
    );
  }
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(buffer as unknown as ArrayBuffer);
  } catch (error) {
    throw new TableError('Berkas Excel rusak atau tidak lengkap dan tidak bisa dibaca: buka di Excel lalu simpan ulang sebagai .xlsx.', { cause: error });
  }
  const tables: Table[] = [];
  for (const sheet of workbook.worksheets) {
    const rows: Row[] = [];
    sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
      const width = row.cellCount;
      const cells: Cell[] = [];
      for (let c = 1; c <= width; c++) {
        const cell = row.getCell(c);
        const value = cellOf(cell.value);
        // A number formatted "000" shows 7 as 007: member numbers keep the zeros the officer sees.
        const zeros = typeof cell.numFmt === 'string' ? /^0+$/.exec(cell.numFmt)?.[0] : undefined;
        if (value.number !== undefined && zeros && Number.isInteger(value.number)) value.text = String(value.number).padStart(zeros.length, '0');
        // A percentage cell holds the fraction (0.0325) and shows "3.25%": the text is what the clerk sees.
        if (value.number !== undefined && typeof cell.numFmt === 'string' && cell.numFmt.includes('%')) value.text = `${Math.round(value.number * 1_000_000) / 10_000}%`;
        cells.push(value);
      }
      if (cells.some((cell) => cell.text.trim() !== '')) rows.push({ line: rowNumber, cells });
    });
    if (rows.length === 0) continue;
    tables.push({
      sheet: sheet.name,
      rows: (async function* () {
        // Handed over one by one, and let go of as they are read.
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i]!;
          rows[i] = undefined as unknown as Row;
          yield row;
        }
      })(),
    });
  }
  if (tables.length === 0) throw new TableError('Berkas kosong: tidak ada baris judul kolom.');
  return tables;
}

/** Open a CSV or XLSX file for reading its rows: one table for a CSV, one per non-empty sheet for a workbook. */
export async function readTable(path: string): Promise<Table[]> {
  const extension = extname(path).toLowerCase();
  try {
    if (extension === '.xlsx') return await readXlsx(path);
    if (extension === '.csv' || extension === '.txt') return await readCsv(path);
  } catch (error) {
    if (error instanceof TableError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TableError(`Berkas ${path} tidak ditemukan.`, { cause: error });
    if (code === 'EISDIR') throw new TableError(`${path} adalah folder, bukan berkas: sebutkan berkas .csv atau .xlsx di dalamnya.`, { cause: error });
    if (code === 'EACCES') throw new TableError(`Berkas ${path} tidak boleh dibaca oleh pengguna ini.`, { cause: error });
    throw new TableError(`Berkas ${path} tidak bisa dibaca${code ? ` (${code})` : ''}: periksa berkasnya, lalu simpan ulang dari Excel sebagai CSV atau .xlsx.`, { cause: error });
  }
  if (extension === '.xls') throw new TableError('Format .xls (Excel lama) tidak didukung: simpan ulang sebagai .xlsx atau .csv.');
  throw new TableError(`Jenis berkas ${extension || '(tanpa ekstensi)'} tidak didukung: gunakan .csv atau .xlsx.`);
}
