/**
 * The Dinas' view of the cooperatives' own figures: the yearly rows the boards imported
 * (`kopbot import laporan`), across cooperatives, so the *koperasi sehat* indicators can be
 * compared by district and book year. For the web console (and any report) to call; it returns
 * data, not text.
 */
import { z } from 'zod';
import { DomainError } from './errors.ts';
import type { AnnualReportRecord, DomainStores } from './ports.ts';

export type { AnnualReportRecord };

/** What a caller may filter by: a district (kecamatan, any case) and a book year. */
export const ZReportFilter = z
  .object({
    district: z.string().trim().min(1).max(100).optional(),
    bookYear: z.number().int().min(1990).max(2100).optional(),
  })
  .strict();
export type ReportFilter = z.input<typeof ZReportFilter>;

/**
 * Every cooperative's yearly figures, of one district and one book year when asked: by
 * district, cooperative code and book year. A district is matched as a person reads it, without
 * regard to case or surrounding spaces: "kraksaan" finds the cooperatives filed under "Kraksaan"
 * and under "KRAKSAAN" alike. One not on file is refused with a sentence.
 */
export async function listAnnualReports(domain: Pick<DomainStores, 'reports' | 'koperasi'>, filter: ReportFilter = {}): Promise<AnnualReportRecord[]> {
  const parsed = ZReportFilter.safeParse(filter);
  if (!parsed.success) {
    throw new DomainError('report_filter_invalid', 'Saringan laporan tidak sah: kecamatan berupa teks, tahun buku berupa tahun (misalnya 2025).');
  }
  const { district, bookYear } = parsed.data;
  let spellings: string[] | undefined;
  if (district !== undefined) {
    spellings = (await domain.koperasi.districts()).filter((d) => districtKey(d) === districtKey(district));
    if (spellings.length === 0) throw new DomainError('district_unknown', `Kecamatan ${district} tidak ada di data koperasi.`);
  }
  const rows = await domain.reports.annualReports({ ...(spellings === undefined ? {} : { districts: spellings }), ...(bookYear === undefined ? {} : { bookYear }) });
  // Sorted here, not by the database: its collation would order "Kraksaan" and "kraksaan" apart, differently on each store.
  return rows.sort(
    (a, b) =>
      districtKey(a.koperasi.district ?? '').localeCompare(districtKey(b.koperasi.district ?? ''), 'id') ||
      (a.koperasi.code < b.koperasi.code ? -1 : a.koperasi.code > b.koperasi.code ? 1 : 0) ||
      a.bookYear - b.bookYear,
  );
}

function districtKey(district: string): string {
  return district.trim().replace(/\s+/g, ' ').toLocaleLowerCase('id');
}
