/**
 * The one audit writer. Every audit row, whichever store writes it (Prisma, the SQLite hot
 * path's prepared statement, a transaction that must include it), is built here: personal data
 * in the detail (phones, NIKs, JIDs) masked by the loggers' own maskers, the detail as JSON.
 */
import { maskPersonalData } from '../logger.ts';

export interface AuditEntry {
  /** "cli", "officer:12", "member:34", "system". */
  actor: string;
  /** "broadcast.queue", "rat.move", "bimtek.rsvp", … */
  action: string;
  koperasiId?: number | null;
  detail?: Record<string, unknown>;
}

/** An audit row as stored: the detail masked and serialised. */
export interface AuditRow {
  actor: string;
  action: string;
  koperasiId: number | null;
  detail: string;
}

export function auditRow(entry: AuditEntry): AuditRow {
  return {
    actor: entry.actor,
    action: entry.action,
    koperasiId: entry.koperasiId ?? null,
    detail: JSON.stringify(maskPersonalData(entry.detail ?? {})),
  };
}

export interface AuditStore {
  write(row: AuditRow, at: Date): Promise<void>;
}

export function recordAudit(store: AuditStore, entry: AuditEntry, at: Date = new Date()): Promise<void> {
  return store.write(auditRow(entry), at);
}
