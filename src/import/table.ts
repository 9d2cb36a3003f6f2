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
  /** CSV only: how the bytes were read, and the separator found. */
  encoding?: 'utf-8' | 'windows-1252';
  delimiter?: string;
}

export class TableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TableError';
  }
}

/** The text of a CSV: UTF-8 when it is valid UTF-8, else Windows-1252 (older Excel on Windows). */
export function decode(buffer: Buffer): { text: string; encoding: 'utf-8' | 'windows-1252' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buffer).replace(/^\uFEFF/, ''), encoding: 'utf-8' };
  } catch {
    // Node's TextDecoder('windows-1252') maps 0x80–0x9F to C1 controls (’ becomes U+0092);
    // iconv-lite maps them to the characters Windows shows (’ “ ” – …).
    return { text: iconv.decode(buffer, 'win1252'), encoding: 'windows-1252' };
  }
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

async function readCsv(path: string): Promise<Table> {
  const decoded = decode(await readFile(path));
  let text = decoded.text;
  // Excel may start a CSV with "sep=;" to name its separator.
  const sep = /^sep=(.)\r?\n/i.exec(text);
  let lineOffset = 0;
  if (sep) {
    text = text.slice(sep[0].length);
    lineOffset = 1;
  }
  if (text.trim() === '') throw new TableError('Berkas kosong: tidak ada baris judul kolom.');
  const delimiter = sep ? sep[1]! : sniffDelimiter(text);
  async function* rows(): AsyncGenerator<Row> {
    // Parsed as a stream, in slices.
    const slices = function* () {
      for (let i = 0; i < text.length; i += 1 << 20) yield text.slice(i, i + (1 << 20));
    };
    const parser = Readable.from(slices()).pipe(parse({ delimiter, relax_column_count: true, skip_empty_lines: true, trim: false, info: true }));
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (record.some((v) => v.trim() !== '')) yield { line: info.lines + lineOffset, cells: record.map((value) => ({ text: value })) };
      }
    } catch (error) {
      const e = error as { lines?: number; message: string };
      throw new TableError(`Berkas CSV rusak${e.lines ? ` di sekitar baris ${e.lines + lineOffset}` : ''}: ${e.message}`, { cause: error });
    }
  }
  return { rows: rows(), encoding: decoded.encoding, delimiter };
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

async function readXlsx(path: string): Promise<Table> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.readFile(path);
  } catch (error) {
    throw new TableError(`Berkas Excel tidak bisa dibaca (${(error as Error).message}). Simpan ulang sebagai .xlsx.`, { cause: error });
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new TableError('Berkas Excel tidak punya lembar kerja.');
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
      cells.push(value);
    }
    if (cells.some((cell) => cell.text.trim() !== '')) rows.push({ line: rowNumber, cells });
  });
  if (rows.length === 0) throw new TableError('Berkas kosong: tidak ada baris judul kolom.');
  return {
    rows: (async function* () {
      // Handed over one by one, and let go of as they are read.
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        rows[i] = undefined as unknown as Row;
        yield row;
      }
    })(),
  };
}

/** Open a CSV or XLSX file for reading its rows. */
export async function readTable(path: string): Promise<Table> {
  const extension = extname(path).toLowerCase();
  try {
    if (extension === '.xlsx') return await readXlsx(path);
    if (extension === '.csv' || extension === '.txt') return await readCsv(path);
  } catch (error) {
    if (error instanceof TableError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TableError(`Berkas ${path} tidak ditemukan.`, { cause: error });
    throw new TableError(`Berkas ${path} tidak bisa dibaca: ${(error as Error).message}`, { cause: error });
  }
  if (extension === '.xls') throw new TableError('Format .xls (Excel lama) tidak didukung: simpan ulang sebagai .xlsx atau .csv.');
  throw new TableError(`Jenis berkas ${extension || '(tanpa ekstensi)'} tidak didukung: gunakan .csv atau .xlsx.`);
}
