/**
 * Reading an import file (CSV or XLSX) into header names and rows of cells. A cell keeps its
 * text and, from Excel, whether it held a number or a date: a NIK stored as a number has lost
 * digits, and only the cell type can prove it.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
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

/** Every non-empty row, header included: the header is not always the first row (title lines). */
export interface Table {
  rows: Row[];
}

export class TableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TableError';
  }
}

function decode(buffer: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer).replace(/^\uFEFF/, '');
  } catch {
    // Older Excel versions on Windows save CSV as Windows-1252.
    return new TextDecoder('windows-1252').decode(buffer);
  }
}

/** Indonesian Excel saves CSV with ";" because "," is the decimal separator. */
function detectDelimiter(text: string): string {
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const counts = [';', ',', '\t'].map((d) => [d, header.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![1] > 0 ? counts[0]![0] : ',';
}

async function readCsv(path: string): Promise<Table> {
  let text = decode(await readFile(path));
  // Excel may start a CSV with "sep=;" to name its separator.
  const sep = /^sep=(.)\r?\n/i.exec(text);
  let lineOffset = 0;
  if (sep) {
    text = text.slice(sep[0].length);
    lineOffset = 1;
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter: sep ? sep[1]! : detectDelimiter(text),
      relax_column_count: true,
      skip_empty_lines: true,
      trim: false,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    const e = error as { lines?: number; message: string };
    throw new TableError(`Berkas CSV rusak${e.lines ? ` di sekitar baris ${e.lines + lineOffset}` : ''}: ${e.message}`, { cause: error });
  }
  const rows = records
    .filter(({ record }) => record.some((v) => v.trim() !== ''))
    .map(({ record, info }) => ({ line: info.lines + lineOffset, cells: record.map((text) => ({ text })) }));
  if (rows.length === 0) throw new TableError('Berkas kosong: tidak ada baris judul kolom.');
  return { rows };
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
  return { rows };
}

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
