/** Member statuses whose data a verified member may see (not KELUAR, not MENINGGAL). */
export const USABLE_MEMBER_STATUSES: readonly string[] = ['AKTIF', 'NONAKTIF'];

/** Member numbers as cooperatives write them: "001", "A-001", "KSU/2019/117", "12 045". */

export const MEMBER_NUMBER = /^[A-Za-z0-9][A-Za-z0-9.\-/ ]{0,29}$/;

/** "7", "07", "007"…: the forms a digits-only member number takes with and without leading zeros. */
export function zeroPaddedForms(memberNumber: string): string[] {
  if (!/^\d+$/.test(memberNumber)) return [memberNumber];
  const bare = memberNumber.replace(/^0+(?=\d)/, '');
  const forms = [];
  for (let width = bare.length; width <= 12; width++) forms.push(bare.padStart(width, '0'));
  return forms;
}
