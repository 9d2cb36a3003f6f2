/**
 * The cooperative's own figures: its yearly report (`kopbot import laporan`, one row per book
 * year) and each member's SHU (`kopbot import shu`). What can be checked is checked before
 * anything is written: SHU = pendapatan − biaya, jasa modal + jasa usaha = total (within a
 * rupiah: the books are kept to the sen, what is stored is rupiah), no book year that has not
 * ended, a member count not far above the members on file, SHU only for members on file.
 */
import { formatDate, formatRupiah } from '../core/format.ts';
import type { AnnualReportFields, ImportReads, MemberShuFields, StoredAnnualReport, StoredMemberShu } from './ports.ts';
import type { ImportProblem } from './report.ts';
import type { RowReader } from './row-reader.ts';
import { memberIds, readMemberNumber, unknownMembers, WRITE_SLICE, type ImportContext, type Importer, type WriteCounts } from './importers.ts';
import { isNothing, parseAmount, parseCount, parseDate, parseInteger, parsePercentBasisPoints } from './values.ts';

/** Rounding to whole rupiah leaves at most a rupiah between a total and its parts. */
const ROUNDING_TOLERANCE = 1n;

/**
 * The member count may exceed the members on file by this much before the row is refused:
 * a few members not yet imported is a note's worth, more is a wrong figure or an incomplete
 * members file. Over by more than 10% and more than 5 members: refused.
 */
export function memberCountTolerance(onFile: number): number {
  return Math.max(5, Math.ceil(onFile * 0.1));
}

const money = { roundSen: true } as const;

function readBookYear(row: RowReader, ctx: ImportContext): number | null {
  const year = row.parse('tahun_buku', (c) => parseInteger(c, 1990, 2100, /^(tb|tahun buku|tahun|thn\.?|th\.?)\s*/i));
  if (year === null) return null;
  // A book year is reported once it has closed: its figures are final only then.
  const end = `${year}-${ctx.koperasi!.bookYearEnd}`;
  if (end > ctx.today) {
    const thisYear = Number(ctx.today.slice(0, 4));
    row.problem('tahun_buku', year > thisYear ? `tahun buku ${year} masih di masa depan` : `tahun buku ${year} belum ditutup (tutup buku ${formatDate(end)}); laporannya baru bisa diimpor sesudah itu`);
    return null;
  }
  return year;
}

/** An optional date or text: undefined when the file has no such column (what is stored stays), null when the cell is empty. */
function optionalText(row: RowReader, key: string, max: number): string | null | undefined {
  if (!row.hasColumn(key)) return undefined;
  if (!row.has(key) || isNothing(row.text(key))) return null;
  const text = row.text(key);
  if (text.length > max) {
    row.problem(key, `terlalu panjang (maksimal ${max} karakter)`);
    return null;
  }
  return text;
}

function optionalDate(row: RowReader, key: string): string | null | undefined {
  if (!row.hasColumn(key)) return undefined;
  if (!row.has(key) || isNothing(row.text(key))) return null;
  return row.parse(key, parseDate, { optional: true, fallback: null });
}

/** An amount the cooperative may leave empty when it does not report it (not the same as "-", which is zero). */
function optionalAmount(row: RowReader, key: string): bigint | null {
  return row.parse(key, (c) => parseAmount(c, money), { optional: true, fallback: null });
}

// ── laporan ────────────────────────────────────────────────────────────────────────────

/** A book year's figures as the row gives them; an optional column the file lacks is undefined (kept as stored). */
export type ReportRecord = Omit<AnnualReportFields, 'nplBasisPoints' | 'ratDate' | 'note'> & {
  nplBasisPoints: number | null | undefined;
  ratDate: string | null | undefined;
  note: string | null | undefined;
};

const REPORT_FIELDS: readonly (keyof AnnualReportFields)[] = [
  'bookYear', 'memberCount', 'assets', 'ownCapital', 'memberSavings', 'loansOutstanding', 'businessVolume', 'revenue', 'costs', 'shu', 'nplBasisPoints', 'ratDate', 'note',
];

export const reportImporter: Importer<ReportRecord> = {
  needsKoperasi: true,
  duplicateKey: { column: 'tahun_buku', what: 'laporan tahun buku', of: (row) => row.text('tahun_buku').replace(/^\D+/, '') || null },
  read(row, ctx) {
    const bookYear = readBookYear(row, ctx);
    const memberCount = row.parse('jumlah_anggota', (c) => parseCount(c, 10_000_000));
    const assets = row.parse('aset', (c) => parseAmount(c, money));
    const ownCapital = optionalAmount(row, 'modal_sendiri');
    const memberSavings = optionalAmount(row, 'simpanan_anggota');
    const loansOutstanding = optionalAmount(row, 'pinjaman_beredar');
    const businessVolume = optionalAmount(row, 'volume_usaha');
    const revenue = optionalAmount(row, 'pendapatan');
    const costs = optionalAmount(row, 'biaya');
    // A year of loss is written "(12.500.000)" or "-12.500.000".
    const shu = row.parse('shu', (c) => parseAmount(c, { ...money, signed: true }));
    const nplBasisPoints = !row.hasColumn('npl_persen') ? undefined : isNothing(row.text('npl_persen')) ? null : row.parse('npl_persen', parsePercentBasisPoints, { optional: true, fallback: null });
    const ratDate = optionalDate(row, 'tanggal_rat');
    const note = optionalText(row, 'keterangan', 500);
    if (shu !== null && revenue !== null && costs !== null && bookYear !== null) {
      const expected = revenue - costs;
      const gap = shu - expected;
      if (gap > ROUNDING_TOLERANCE || gap < -ROUNDING_TOLERANCE) {
        row.problem(
          'shu',
          `SHU tahun buku ${bookYear} tertulis ${formatRupiah(shu)}, padahal pendapatan ${formatRupiah(revenue)} dikurangi biaya ${formatRupiah(costs)} adalah ${formatRupiah(expected)}; periksa ketiga angka itu (bila SHU ditulis sesudah pajak, masukkan pajaknya ke biaya)`,
        );
      }
    }
    if (ratDate && bookYear !== null) {
      const end = `${bookYear}-${ctx.koperasi!.bookYearEnd}`;
      if (ratDate > ctx.today) row.problem('tanggal_rat', `RAT ${formatDate(ratDate)} belum terjadi; kosongkan tanggal RAT sampai laporan ini disahkan`);
      else if (ratDate <= end) row.problem('tanggal_rat', `RAT ${formatDate(ratDate)} tidak mungkin mengesahkan tahun buku ${bookYear}, yang baru ditutup ${formatDate(end)}; periksa tahun buku atau tanggalnya`);
    }
    if (row.problems.length > 0 || bookYear === null || memberCount === null || assets === null || shu === null) return null;
    return { bookYear, memberCount, assets, ownCapital, memberSavings, loansOutstanding, businessVolume, revenue, costs, shu, nplBasisPoints, ratDate, note };
  },
  async check(store, records, ctx) {
    const koperasi = ctx.koperasi!;
    const problems: ImportProblem[] = [];
    const warnings: ImportProblem[] = [];
    const onFile = await store.countMembers(koperasi.id);
    const tolerance = memberCountTolerance(onFile);
    const count = (n: number) => n.toLocaleString('id-ID');
    for (const { line, record } of records) {
      const over = record.memberCount - onFile;
      if (over <= 0) continue;
      if (onFile === 0) {
        problems.push({ line, column: 'jumlah_anggota', message: `belum ada data anggota koperasi ${koperasi.code}: impor data anggota dulu (kopbot import anggota), lalu laporan ini` });
      } else if (over > tolerance) {
        problems.push({
          line,
          column: 'jumlah_anggota',
          message: `jumlah anggota tahun buku ${record.bookYear} tertulis ${count(record.memberCount)}, jauh di atas ${count(onFile)} anggota yang tercatat di koperasi ${koperasi.code} (lebih dari 10% dan lebih dari 5 orang); periksa angkanya, atau impor dulu data anggota yang lengkap`,
        });
      } else {
        warnings.push({ line, column: 'jumlah_anggota', message: `jumlah anggota ${count(record.memberCount)} sedikit di atas ${count(onFile)} anggota yang tercatat; periksa bila ada anggota yang belum diimpor` });
      }
    }
    return { problems, warnings };
  },
  async write(writer, records, ctx, written) {
    const koperasiId = ctx.koperasi!.id;
    const now = ctx.now ?? new Date();
    const stored = new Map<number, StoredAnnualReport>((await writer.annualReports(koperasiId)).map((r) => [r.bookYear, r]));
    const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
    for (const { record } of records) {
      written(1);
      const before = stored.get(record.bookYear);
      const fields: AnnualReportFields = {
        ...record,
        nplBasisPoints: record.nplBasisPoints === undefined ? (before?.nplBasisPoints ?? null) : record.nplBasisPoints,
        ratDate: record.ratDate === undefined ? (before?.ratDate ?? null) : record.ratDate,
        note: record.note === undefined ? (before?.note ?? null) : record.note,
      };
      if (!before) {
        await writer.createAnnualReport(koperasiId, fields, now);
        counts.created++;
      } else if (REPORT_FIELDS.every((key) => before[key] === fields[key])) {
        counts.unchanged++;
      } else {
        await writer.updateAnnualReport(before.id, fields, now);
        counts.updated++;
      }
    }
    return counts;
  },
};

// ── shu ────────────────────────────────────────────────────────────────────────────────

export interface ShuRecord {
  memberNumber: string;
  bookYear: number;
  jasaModal: bigint;
  jasaUsaha: bigint;
  total: bigint;
  /** Undefined: the file has no such column (what is stored stays). */
  paidOn: string | null | undefined;
  paidHow: string | null | undefined;
}

export const shuImporter: Importer<ShuRecord> = {
  needsKoperasi: true,
  duplicateKey: {
    column: 'nomor_anggota',
    what: 'SHU anggota/tahun buku',
    of: (row) => (row.text('nomor_anggota') && row.text('tahun_buku') ? `${row.text('nomor_anggota')}/${row.text('tahun_buku').replace(/^\D+/, '')}` : null),
  },
  read(row, ctx) {
    const memberNumber = readMemberNumber(row);
    const bookYear = readBookYear(row, ctx);
    const jasaModal = row.parse('jasa_modal', (c) => parseAmount(c, money));
    const jasaUsaha = row.parse('jasa_usaha', (c) => parseAmount(c, money));
    const total = row.parse('total', (c) => parseAmount(c, money));
    let paidOn = optionalDate(row, 'dibayar_tanggal');
    const paidHow = optionalText(row, 'cara_bayar', 100);
    if (jasaModal !== null && jasaUsaha !== null && total !== null) {
      const gap = total - (jasaModal + jasaUsaha);
      if (gap > ROUNDING_TOLERANCE || gap < -ROUNDING_TOLERANCE) {
        row.problem('total', `total ${formatRupiah(total)} tidak sama dengan jasa modal ${formatRupiah(jasaModal)} + jasa usaha ${formatRupiah(jasaUsaha)} (${formatRupiah(jasaModal + jasaUsaha)})`);
      }
    }
    if (paidOn && bookYear !== null) {
      const end = `${bookYear}-${ctx.koperasi!.bookYearEnd}`;
      if (paidOn > ctx.today) row.problem('dibayar_tanggal', `tanggal dibayar ${formatDate(paidOn)} belum terjadi; kosongkan sampai SHU-nya dibayarkan`);
      else if (paidOn <= end) row.problem('dibayar_tanggal', `tanggal dibayar ${formatDate(paidOn)} sebelum tahun buku ${bookYear} ditutup (${formatDate(end)}); periksa tahun buku atau tanggalnya`);
    }
    if (row.problems.length > 0 || memberNumber === null || bookYear === null || jasaModal === null || jasaUsaha === null || total === null) return null;
    if (paidOn && ctx.intern) paidOn = ctx.intern(paidOn);
    return { memberNumber, bookYear, jasaModal, jasaUsaha, total, paidOn, paidHow: paidHow && ctx.intern ? ctx.intern(paidHow) : paidHow };
  },
  async check(store, records, ctx) {
    const koperasi = ctx.koperasi!;
    const known = await memberIds(store, koperasi.id);
    return { problems: unknownMembers(records, known, koperasi.code), warnings: [] };
  },
  async write(writer, records, ctx, written) {
    const koperasiId = ctx.koperasi!.id;
    const now = ctx.now ?? new Date();
    const known = await memberIds(writer, koperasiId);
    const stored = await memberShu(writer, koperasiId);
    const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
    const created: MemberShuFields[] = [];
    let pending = 0;
    for (const { record } of records) {
      if (++pending === WRITE_SLICE) {
        written(pending);
        pending = 0;
      }
      const memberId = known.get(record.memberNumber);
      if (memberId === undefined) throw new Error(`member ${record.memberNumber} vanished during import`);
      const before = stored.get(`${memberId}/${record.bookYear}`);
      const fields: MemberShuFields = {
        memberId,
        bookYear: record.bookYear,
        jasaModal: record.jasaModal,
        jasaUsaha: record.jasaUsaha,
        total: record.total,
        paidOn: record.paidOn === undefined ? (before?.paidOn ?? null) : record.paidOn,
        paidHow: record.paidHow === undefined ? (before?.paidHow ?? null) : record.paidHow,
      };
      if (!before) {
        created.push(fields);
        if (created.length === WRITE_SLICE) {
          counts.created += await writer.insertMemberShu(koperasiId, created, now);
          created.length = 0;
        }
      } else if (
        before.jasaModal === fields.jasaModal && before.jasaUsaha === fields.jasaUsaha && before.total === fields.total &&
        before.paidOn === fields.paidOn && before.paidHow === fields.paidHow
      ) {
        counts.unchanged++;
      } else {
        await writer.updateMemberShu(before.id, fields, now);
        counts.updated++;
      }
    }
    counts.created += await writer.insertMemberShu(koperasiId, created, now);
    written(pending);
    return counts;
  },
};

/** Every SHU row of a cooperative, by "memberId/bookYear". */
async function memberShu(store: ImportReads, koperasiId: number): Promise<Map<string, StoredMemberShu>> {
  const rows = new Map<string, StoredMemberShu>();
  await store.forEachMemberShu(koperasiId, (row) => rows.set(`${row.memberId}/${row.bookYear}`, row));
  return rows;
}
