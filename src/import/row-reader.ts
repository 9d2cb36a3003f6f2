/** Reading one row's cells by column key, collecting problems with their row and column. */
import type { ImportProblem } from './report.ts';
import type { Cell, Row } from './table.ts';
import type { Parsed } from './values.ts';

export class RowReader {
  readonly problems: ImportProblem[] = [];
  /** Doubtful but possible values: reported, not blocking. */
  readonly warnings: ImportProblem[] = [];

  constructor(
    private readonly index: ReadonlyMap<string, number>,
    private readonly row: Row,
  ) {}

  get line(): number {
    return this.row.line;
  }

  cell(key: string): Cell {
    const i = this.index.get(key);
    return (i === undefined ? undefined : this.row.cells[i]) ?? { text: '' };
  }

  /** Whether the file has this column at all (as opposed to an empty cell). */
  hasColumn(key: string): boolean {
    return this.index.has(key);
  }

  has(key: string): boolean {
    return this.cell(key).text.trim() !== '';
  }

  text(key: string): string {
    return this.cell(key).text.trim().replace(/\s+/g, ' ');
  }

  problem(column: string | null, message: string): void {
    this.problems.push({ line: this.row.line, column, message });
  }

  warn(column: string | null, message: string): void {
    this.warnings.push({ line: this.row.line, column, message });
  }

  /** Required text of at most max characters. */
  required(key: string, max = 200): string | null {
    const value = this.text(key);
    if (value === '') {
      this.problem(key, 'wajib diisi');
      return null;
    }
    if (value.length > max) {
      this.problem(key, `terlalu panjang (maksimal ${max} karakter)`);
      return null;
    }
    return value;
  }

  /** Apply a parser to a cell; empty optional cells give fallback. */
  parse<T>(key: string, parser: (cell: Cell) => Parsed<T>, options: { optional: true; fallback: T }): T | null;
  parse<T>(key: string, parser: (cell: Cell) => Parsed<T>, options?: { optional?: false }): T | null;
  parse<T>(key: string, parser: (cell: Cell) => Parsed<T>, options: { optional?: boolean; fallback?: T } = {}): T | null {
    if (!this.has(key)) {
      if (options.optional) return options.fallback ?? null;
      this.problem(key, 'wajib diisi');
      return null;
    }
    const parsed = parser(this.cell(key));
    if (!parsed.ok) {
      this.problem(key, parsed.error);
      return null;
    }
    if (parsed.note !== undefined) this.warn(key, parsed.note);
    return parsed.value;
  }
}
