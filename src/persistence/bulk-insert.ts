/**
 * Inserting many rows at once, for imports of tens of thousands of rows. Prisma's
 * `createMany` builds the whole statement as objects first (about 4 KB of memory per row);
 * a multi-row INSERT with bound parameters, in bounded slices, costs only the values.
 * Timestamps are written as Prisma writes them here (ISO text, see database.ts).
 */
import type { Db } from './database.ts';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];
type Value = string | number | bigint | boolean | null;

/** SQLite allows 32,766 bound parameters per statement; PostgreSQL 65,535. */
const MAX_PARAMETERS = 30_000;
const MAX_ROWS = 200;

/** Insert rows (each a value per column, in order) into table, with createdAt/updatedAt set when asked. */
export async function insertMany(
  tx: Tx,
  table: string,
  columns: readonly string[],
  rows: readonly Value[][],
  options: { timestamps?: readonly ('createdAt' | 'updatedAt')[]; now?: Date } = {},
): Promise<number> {
  const stamps = options.timestamps ?? [];
  const stamp = (options.now ?? new Date()).toISOString().replace('Z', '+00:00');
  const names = [...columns, ...stamps].map((c) => `"${c}"`).join(', ');
  const width = columns.length + stamps.length;
  const perStatement = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMETERS / width)));
  let inserted = 0;
  for (let i = 0; i < rows.length; i += perStatement) {
    const slice = rows.slice(i, i + perStatement);
    const tuple = `(${new Array(width).fill('?').join(', ')})`;
    const values: Value[] = [];
    for (const row of slice) {
      if (row.length !== columns.length) throw new Error(`insertMany ${table}: ${row.length} values for ${columns.length} columns`);
      values.push(...row);
      for (let s = 0; s < stamps.length; s++) values.push(stamp);
    }
    inserted += await tx.$executeRawUnsafe(`INSERT INTO "${table}" (${names}) VALUES ${new Array(slice.length).fill(tuple).join(', ')}`, ...values);
  }
  return inserted;
}
