/**
 * Database faults a person can act on, named as such: a damaged file, a file from a newer
 * kopbot, a full disk. Each becomes one sentence for whoever runs kopbot; a member only ever
 * hears that what they sent could not be saved.
 */

export class DatabaseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

function codesOf(error: unknown, depth = 0): string[] {
  const e = error as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object' || depth > 5) return [];
  const own = [typeof e.code === 'string' ? e.code : '', typeof e.message === 'string' ? e.message : ''];
  return e.cause !== undefined && e.cause !== error ? [...own, ...codesOf(e.cause, depth + 1)] : own;
}

/** SQLITE_FULL, however a driver wraps it (Prisma keeps only SQLite's message), or PostgreSQL's disk_full (53100). */
export function isDiskFullError(error: unknown): boolean {
  if (error instanceof DiskFullError) return true;
  return codesOf(error).some((text) => text === 'SQLITE_FULL' || text === '53100' || /database or disk is full|SQLITE_FULL|ENOSPC/i.test(text));
}

/** A damaged file: SQLITE_CORRUPT (any extended code) or SQLITE_NOTADB; PostgreSQL's data_corrupted or index_corrupted (XX001, XX002). */
export function isCorruptError(error: unknown): boolean {
  return codesOf(error).some((text) => /^SQLITE_(CORRUPT|NOTADB)/.test(text) || text === 'XX001' || text === 'XX002' || /database disk image is malformed|file is not a database/i.test(text));
}

/** A unique key refused the row: Prisma's P2002, SQLite's constraint codes, PostgreSQL's 23505. */
export function isUniqueViolation(error: unknown): boolean {
  return codesOf(error).some((text) => text === 'P2002' || text === '23505' || /^SQLITE_CONSTRAINT_(PRIMARYKEY|UNIQUE)$/.test(text));
}

export class DiskFullError extends DatabaseError {
  constructor(options?: ErrorOptions) {
    super('Disk penuh: basis data tidak bisa menyimpan perubahan ini; kosongkan ruang disk di server, lalu jalankan perintah ini lagi.', options);
    this.name = 'DiskFullError';
  }
}

export function corruptDatabaseError(path: string, detail: string, options?: ErrorOptions): DatabaseError {
  return new DatabaseError(
    `Basis data ${path} rusak (${detail.trim().split('\n')[0]}); kopbot tidak memakainya agar kerusakan tidak bertambah, pulihkan dari cadangan terakhir.`,
    options,
  );
}

export function newerDatabaseError(path: string, unknown: readonly string[]): DatabaseError {
  return new DatabaseError(
    `Basis data ini dari versi kopbot yang lebih baru (${path} memuat migrasi ${unknown.join(', ')} yang tidak dikenal versi ini); jalankan versi kopbot yang membuatnya atau yang lebih baru.`,
  );
}
