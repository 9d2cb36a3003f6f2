/**
 * Inserting many rows at once, for imports of tens of thousands of rows. Prisma's
 * `createMany` builds the whole statement as objects first (about 4 KB of memory per row);
 * a multi-row INSERT with bound parameters, in bounded slices, costs only the values.
 * Timestamps are written as Prisma writes them (ISO text on SQLite, see database.ts; a
 * timestamp(3) in UTC on PostgreSQL). Placeholders are `?` on SQLite and `$n` on PostgreSQL.
 */
import { storeKindOfClient, type Db, type StoreKind } from './database.ts';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];
type Value = string | number | bigint | boolean | null;

/** SQLite allows 32,766 bound parameters per statement; PostgreSQL 65,535. */
const MAX_PARAMETERS = 30_000;
const MAX_ROWS = 200;

/** Numbered placeholders for one statement: `?` on SQLite, `$1, $2, …` on PostgreSQL. */
function placeholders(kind: StoreKind): (cast?: string) => string {
  let n = 0;
  return kind === 'postgresql' ? (cast) => `$${++n}${cast ? `::${cast}` : ''}` : () => '?';
}

/** The moment of a write as bound for the store: ISO text on SQLite (as Prisma writes it there), UTC text cast on PostgreSQL. */
function stampOf(kind: StoreKind, now: Date): string {
  return kind === 'postgresql' ? now.toISOString() : now.toISOString().replace('Z', '+00:00');
}

/** Insert rows (each a value per column, in order) into table, with createdAt/updatedAt set when asked. */
export async function insertMany(
  tx: Tx,
  table: string,
  columns: readonly string[],
  rows: readonly Value[][],
  options: { timestamps?: readonly ('createdAt' | 'updatedAt' | 'importedAt')[]; now?: Date } = {},
): Promise<number> {
  const kind = storeKindOfClient(tx);
  const stamps = options.timestamps ?? [];
  const stamp = stampOf(kind, options.now ?? new Date());
  const names = [...columns, ...stamps].map((c) => `"${c}"`).join(', ');
  const width = columns.length + stamps.length;
  const perStatement = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMETERS / width)));
  let inserted = 0;
  for (let i = 0; i < rows.length; i += perStatement) {
    const slice = rows.slice(i, i + perStatement);
    const next = placeholders(kind);
    const tuples: string[] = [];
    const values: Value[] = [];
    for (const row of slice) {
      if (row.length !== columns.length) throw new Error(`insertMany ${table}: ${row.length} values for ${columns.length} columns`);
      values.push(...row);
      for (let s = 0; s < stamps.length; s++) values.push(stamp);
      tuples.push(`(${Array.from({ length: width }, () => next()).join(', ')})`);
    }
    inserted += await tx.$executeRawUnsafe(`INSERT INTO "${table}" (${names}) VALUES ${tuples.join(', ')}`, ...values);
  }
  return inserted;
}

/**
 * Update many rows by id at once: each row is [id, ...values for columns]. One statement per
 * slice (`WITH v AS (VALUES …) UPDATE … FROM v`), instead of one round trip per row. On
 * PostgreSQL a VALUES list takes its column types from its values, not from the table it
 * updates: each placeholder is cast, the id to integer, a column to its `types` entry (text
 * unless named).
 */
export async function updateMany(
  tx: Tx,
  table: string,
  columns: readonly string[],
  rows: readonly [number, ...Value[]][],
  options: { touch?: boolean; now?: Date; types?: Readonly<Record<string, string>> } = {},
): Promise<number> {
  if (rows.length === 0) return 0;
  const kind = storeKindOfClient(tx);
  const width = columns.length + 1;
  const perStatement = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMETERS / width)));
  const stamp = stampOf(kind, options.now ?? new Date());
  const names = ['id', ...columns.map((_, i) => `c${i}`)];
  const set = columns.map((c, i) => `"${c}" = v."c${i}"`);
  let updated = 0;
  for (let i = 0; i < rows.length; i += perStatement) {
    const slice = rows.slice(i, i + perStatement);
    const next = placeholders(kind);
    const tuples = slice.map(() => `(${[next('integer'), ...columns.map((c) => next(options.types?.[c] ?? 'text'))].join(', ')})`);
    const values: Value[] = slice.flat();
    const assignments = [...set];
    if (options.touch !== false) {
      assignments.push(`"updatedAt" = ${next()}`);
      values.push(stamp);
    }
    const sql = `WITH v(${names.join(', ')}) AS (VALUES ${tuples.join(', ')}) UPDATE "${table}" SET ${assignments.join(', ')} FROM v WHERE "${table}"."id" = v."id"`;
    updated += await tx.$executeRawUnsafe(sql, ...values);
  }
  return updated;
}
