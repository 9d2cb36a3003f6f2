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

/**
 * Update many rows by id at once: each row is [id, ...values for columns]. One statement per
 * slice (`WITH v AS (VALUES …) UPDATE … FROM v`), instead of one round trip per row.
 */
export async function updateMany(
  tx: Tx,
  table: string,
  columns: readonly string[],
  rows: readonly [number, ...Value[]][],
  options: { touch?: boolean; now?: Date } = {},
): Promise<number> {
  if (rows.length === 0) return 0;
  const width = columns.length + 1;
  const perStatement = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMETERS / width)));
  const stamp = (options.now ?? new Date()).toISOString().replace('Z', '+00:00');
  const names = ['id', ...columns.map((_, i) => `c${i}`)];
  const set = columns.map((c, i) => `"${c}" = v."c${i}"`);
  if (options.touch !== false) set.push(`"updatedAt" = ?`);
  let updated = 0;
  for (let i = 0; i < rows.length; i += perStatement) {
    const slice = rows.slice(i, i + perStatement);
    const tuple = `(${new Array(width).fill('?').join(', ')})`;
    const values: Value[] = slice.flat();
    if (options.touch !== false) values.push(stamp);
    const sql = `WITH v(${names.join(', ')}) AS (VALUES ${new Array(slice.length).fill(tuple).join(', ')}) UPDATE "${table}" SET ${set.join(', ')} FROM v WHERE "${table}"."id" = v."id"`;
    updated += await tx.$executeRawUnsafe(sql, ...values);
  }
  return updated;
}
