/**
 * Who an officer is: the board of one cooperative (PENGURUS, PENGAWAS, PENGELOLA) or the
 * regency's Dinas staff (DINAS, PPKL, no cooperative). One person may hold several rows (two
 * roles, two cooperatives); a message to officers goes once per phone.
 */
import type { Domain, OfficerRecord } from './ports.ts';

export const BOARD_ROLES: readonly string[] = ['PENGURUS', 'PENGAWAS', 'PENGELOLA'];
export const DINAS_ROLES: readonly string[] = ['DINAS', 'PPKL'];

export function isBoard(officer: OfficerRecord): boolean {
  return officer.koperasi !== null && BOARD_ROLES.includes(officer.role);
}

export function isDinas(officer: OfficerRecord): boolean {
  return officer.koperasiId === null && DINAS_ROLES.includes(officer.role);
}

/** Keep the first row of each phone: one person, one message. */
export function onePerPhone<T extends { phone: string }>(rows: readonly T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => (seen.has(row.phone) ? false : (seen.add(row.phone), true)));
}

/** The board of one cooperative, once per phone. */
export async function boardOf(domain: Pick<Domain, 'officers'>, koperasiId: number): Promise<OfficerRecord[]> {
  return onePerPhone((await domain.officers.ofKoperasi(koperasiId)).filter(isBoard));
}

/** The boards of every cooperative, by cooperative, once per phone each: one read for a job over all of them. */
export async function boardsByKoperasi(domain: Pick<Domain, 'officers'>): Promise<Map<number, OfficerRecord[]>> {
  const boards = new Map<number, OfficerRecord[]>();
  for (const officer of (await domain.officers.all()).filter(isBoard)) boards.set(officer.koperasiId!, [...(boards.get(officer.koperasiId!) ?? []), officer]);
  for (const [id, rows] of boards) boards.set(id, onePerPhone(rows));
  return boards;
}

/** Officers by phone: the desk's lookup for every private message. */
export async function officersByPhone(domain: Pick<Domain, 'officers'>): Promise<Map<string, OfficerRecord[]>> {
  const byPhone = new Map<string, OfficerRecord[]>();
  for (const row of await domain.officers.all()) byPhone.set(row.phone, [...(byPhone.get(row.phone) ?? []), row]);
  return byPhone;
}
