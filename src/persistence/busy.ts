/**
 * SQLite allows one writer at a time. When the service, an import and a seed touch the same
 * file, a write can find the lock taken; Prisma then reports a timeout rather than waiting for
 * the driver's busy timeout. Work that is one transaction can simply be tried again.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export function isBusyError(error: unknown): boolean {
  const e = error as { code?: string; message?: string; cause?: unknown } | null;
  if (!e) return false;
  if (e.code === 'P1008' || e.code?.startsWith('SQLITE_BUSY')) return true;
  const message = e.message ?? '';
  if (/SQLITE_BUSY|database is locked|Operation has timed out/i.test(message)) return true;
  return e.cause !== undefined && e.cause !== error && isBusyError(e.cause);
}

export class DatabaseBusyError extends Error {
  constructor(options?: ErrorOptions) {
    super('Basis data sedang dipakai proses lain (misalnya impor lain) terlalu lama; tidak ada yang diubah. Coba lagi sebentar lagi.', options);
    this.name = 'DatabaseBusyError';
  }
}

/** Run a whole transaction, retrying while the database is busy (about 30 seconds in all). */
export async function retryWhileBusy<T>(work: () => Promise<T>, delaysMs: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 15000]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      const delay = delaysMs[attempt];
      if (delay === undefined) throw new DatabaseBusyError({ cause: error });
      await sleep(delay);
    }
  }
}
