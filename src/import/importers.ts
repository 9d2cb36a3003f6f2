/**
 * One importer per kind of file: how a row becomes a record, what must hold across rows and
 * against the database, and how the records are written. Writing happens only when nothing
 * failed, inside one transaction, as upserts keyed on the natural keys, so importing the same
 * file twice changes nothing the second time.
 */
import { addMonths, daysBetween, formatDate, formatRupiah, zonedTimeToUtc } from '../core/format.ts';
import { excelRoundedColumn, normalizeNik } from '../core/nik.ts';
import { normalizePhone } from '../core/phone.ts';
import { MEMBER_NUMBER } from '../core/member-number.ts';
import type { ImportReads, ImportWriter, KoperasiFields, KoperasiRef, LoanFields, MemberFields, StoredLoan, StoredMember, StoredSavingsAccount } from './ports.ts';
import type { ImportProblem } from './report.ts';
import type { RowReader } from './row-reader.ts';
import type { WideSavings } from './layout.ts';
import { savingsKindOf } from './savings-kinds.ts';
import { ratLegalLimit } from '../domain/rat.ts';
import { isNothing, monthNumber, parseAmount, parseDate, parseInteger, parseTime } from './values.ts';

export type { KoperasiRef };

export interface ImportContext {
  koperasi: KoperasiRef | null;
  today: string;
  /** The zone a cooperative gets when its file does not name one (the TZ setting). */
  defaultTimeZone: string;
  /** Savings: the as-of date from --per-tanggal or the title ("PER 31 OKTOBER 2026"), used when a row has none. */
  asOf?: string | null;
  /** Savings kept wide: a column per kind. */
  wide?: WideSavings;
  /** One shared copy of a repeated value (dates, kinds) across the file's records. */
  intern?: (text: string) => string;
  /** The import's moment: what "uploaded on" says for figures written now. */
  now?: Date;
}

export interface Located<R> {
  line: number;
  record: R;
}

export interface WriteCounts {
  created: number;
  updated: number;
  unchanged: number;
}

export interface Importer<R> {
  needsKoperasi: boolean;
  /** The natural key of a row, to report duplicates on every row, valid or not. */
  duplicateKey?: { column: string | ((row: RowReader) => string); what: string | ((row: RowReader) => string); of(row: RowReader): string | null };
  /** A row's record (a wide savings row gives one per kind), or null when the row has problems. */
  read(row: RowReader, ctx: ImportContext): R | R[] | null;
  /** Checks across rows and against the database; returns problems and non-blocking warnings. */
  check(store: ImportReads, records: Located<R>[], ctx: ImportContext): Promise<{ problems: ImportProblem[]; warnings: ImportProblem[] }>;
  /** Writes every record inside the caller's transaction, telling `written` as slices land. */
  write(writer: ImportWriter, records: Located<R>[], ctx: ImportContext, written: (count: number) => void): Promise<WriteCounts>;
}

function duplicates<R>(records: Located<R>[], keyOf: (r: R) => string | null, column: string, what: string): ImportProblem[] {
  const seen = new Map<string, number>();
  const problems: ImportProblem[] = [];
  for (const { line, record } of records) {
    const key = keyOf(record);
    if (key === null) continue;
    const first = seen.get(key);
    if (first !== undefined) problems.push({ line, column, message: `${what} ${key} sudah ada di baris ${first} (duplikat)` });
    else seen.set(key, line);
  }
  return problems;
}

/** Records written per statement (createMany) and between progress reports. */
export const WRITE_SLICE = 1000;

/** One copy of each repeated string (dates, kinds, labels), so 300,000 records do not hold 300,000 copies. */
export function interner(): (text: string) => string {
  const seen = new Map<string, string>();
  return (text) => {
    const known = seen.get(text);
    if (known !== undefined) return known;
    seen.set(text, text);
    return text;
  };
}

/** Member number → id for every member of the cooperative (one paged read, not one parameter per row). */
export async function memberIds(store: ImportReads, koperasiId: number): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  await store.forEachMember(koperasiId, (row) => ids.set(row.memberNumber, row.id));
  return ids;
}

/** "7", "07", "007" share the key "7": digits-only member numbers without their leading zeros. */
function bareNumber(memberNumber: string): string | null {
  return /^\d+$/.test(memberNumber) ? memberNumber.replace(/^0+(?=\d)/, '') : null;
}

/** The other spellings of a digits-only member number among `numbers`, by bare key. */
function zeroTwins(numbers: Iterable<string>): Map<string, string[]> {
  const twins = new Map<string, string[]>();
  for (const number of numbers) {
    const bare = bareNumber(number);
    if (bare === null) continue;
    const forms = twins.get(bare);
    if (forms) forms.push(number);
    else twins.set(bare, [number]);
  }
  return twins;
}

export function unknownMembers<R extends { memberNumber: string }>(records: Located<R>[], known: Map<string, number>, code: string): ImportProblem[] {
  // One problem per row, though a wide savings row makes a record per kind.
  const seenLines = new Set<number>();
  const missing = records.filter(({ line, record }) => !known.has(record.memberNumber) && !seenLines.has(line) && seenLines.add(line));
  if (missing.length === 0) return [];
  const twins = zeroTwins(known.keys());
  const byCase = new Map([...known.keys()].map((number) => [number.toUpperCase(), number]));
  return missing.map(({ line, record }) => {
    const bare = bareNumber(record.memberNumber);
    const twin = bare === null ? byCase.get(record.memberNumber.toUpperCase()) : twins.get(bare)?.[0];
    return {
      line,
      column: 'nomor_anggota',
      message: twin
        ? `nomor anggota ${record.memberNumber} tidak terdaftar; maksudnya ${twin}?${bare === null ? '' : ' Nol di depan hilang bila kolom diformat angka di Excel'}`
        : `nomor anggota ${record.memberNumber} tidak terdaftar di koperasi ${code} (impor data anggota dulu)`,
    };
  });
}

export function readMemberNumber(row: RowReader): string | null {
  const value = row.required('nomor_anggota', 30);
  if (value !== null && !MEMBER_NUMBER.test(value)) {
    row.problem('nomor_anggota', `"${value}" bukan nomor anggota yang sah (huruf, angka, titik, garis miring atau tanda hubung)`);
    return null;
  }
  return value;
}

// ── koperasi ───────────────────────────────────────────────────────────────────────────

const KOPERASI_TYPES: Record<string, string> = {
  kpri: 'KPRI', 'koperasi pegawai republik indonesia': 'KPRI',
  ksu: 'KSU', 'koperasi serba usaha': 'KSU',
  ksp: 'KSP', 'koperasi simpan pinjam': 'KSP',
  kud: 'KUD', 'koperasi unit desa': 'KUD',
  kopwan: 'KOPWAN', 'koperasi wanita': 'KOPWAN', kowan: 'KOPWAN',
  ksppps: 'KSPPS', kspps: 'KSPPS', 'koperasi syariah': 'KSPPS',
  kopkar: 'KOPKAR', 'koperasi karyawan': 'KOPKAR',
  lainnya: 'LAINNYA', lain: 'LAINNYA',
};

const ZONES: Record<string, string> = {
  wib: 'Asia/Jakarta', 'asia/jakarta': 'Asia/Jakarta',
  wita: 'Asia/Makassar', 'asia/makassar': 'Asia/Makassar',
  wit: 'Asia/Jayapura', 'asia/jayapura': 'Asia/Jayapura',
};

/** A cooperative as its row gives it (quorum null: the file does not say). */
export type KoperasiRecord = Omit<KoperasiFields, 'quorumPercent'> & { quorumPercent: number | null };

function parseBookYearEnd(row: RowReader): string | null {
  if (!row.has('tutup_buku')) return '12-31';
  const cell = row.cell('tutup_buku');
  let day: number;
  let month: number;
  if (cell.date) {
    day = cell.date.getUTCDate();
    month = cell.date.getUTCMonth() + 1;
  } else {
    const text = cell.text.trim();
    const named = /^(\d{1,2})\s+([a-z]+)\.?(?:\s+\d{4})?$/i.exec(text);
    const namedMonth = named ? monthNumber(named[2]!) : undefined;
    const match = named && namedMonth ? [text, named[1]!, String(namedMonth)] : /^(\d{1,2})[-/. ](\d{1,2})(?:[-/. ]\d{2,4})?$/.exec(text);
    if (!match) {
      row.problem('tutup_buku', `"${cell.text.trim()}" bukan tanggal tutup buku (contoh: 31-12)`);
      return null;
    }
    day = Number(match[1]);
    month = Number(match[2]);
  }
  const last = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (last === undefined || day < 1 || day > last) {
    row.problem('tutup_buku', `tanggal ${day}-${month} tidak ada`);
    return null;
  }
  return `${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export const koperasiImporter: Importer<KoperasiRecord> = {
  needsKoperasi: false,
  duplicateKey: { column: 'kode', what: 'kode koperasi', of: (row) => row.text('kode').toUpperCase() || null },
  read(row, ctx) {
    // Codes are often registration numbers ("518/12/426.112/2015", "BH 123/XII/2010").
    const code = row.required('kode', 60)?.toUpperCase() ?? null;
    if (code !== null && !/^[A-Z0-9][A-Z0-9.\-_/ ]*$/.test(code)) row.problem('kode', `"${code}" hanya boleh berisi huruf, angka, spasi, titik, garis miring, - atau _`);
    const name = row.required('nama', 150);
    const typeText = row.required('jenis', 60);
    const type = typeText === null ? null : (KOPERASI_TYPES[typeText.toLowerCase()] ?? typeText.toUpperCase());
    const bookYearEnd = parseBookYearEnd(row);
    let timezone = ctx.defaultTimeZone;
    if (row.has('zona_waktu')) {
      const zone = ZONES[row.text('zona_waktu').toLowerCase()];
      if (!zone) row.problem('zona_waktu', `"${row.text('zona_waktu')}" bukan WIB, WITA atau WIT`);
      else timezone = zone;
    }
    const quorumPercent = row.parse('kuorum_persen', (c) => parseInteger({ ...c, text: c.text.replace('%', '') }, 1, 100), { optional: true, fallback: null });
    if (row.problems.length > 0 || code === null || name === null || type === null || bookYearEnd === null) return null;
    return {
      code,
      name,
      type,
      district: row.text('kecamatan') || null,
      village: row.text('desa') || null,
      bookYearEnd,
      timezone,
      quorumPercent,
    };
  },
  async check() {
    return { problems: [], warnings: [] };
  },
  async write(writer, records, _ctx, written) {
    const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
    for (const { record } of records) {
      written(1);
      const { quorumPercent, ...fields } = record;
      const data = { ...fields, ...(quorumPercent === null ? {} : { quorumPercent }) };
      const existing = await writer.koperasiRecord(record.code);
      if (!existing) {
        await writer.createKoperasi(data);
        counts.created++;
      } else if (
        existing.name === data.name && existing.type === data.type && existing.district === data.district &&
        existing.village === data.village && existing.bookYearEnd === data.bookYearEnd && existing.timezone === data.timezone &&
        (quorumPercent === null || existing.quorumPercent === quorumPercent)
      ) {
        counts.unchanged++;
      } else {
        await writer.updateKoperasi(existing.id, data);
        counts.updated++;
      }
    }
    return counts;
  },
};

// ── members ────────────────────────────────────────────────────────────────────────────

const STATUSES: Record<string, string> = {
  aktif: 'AKTIF', active: 'AKTIF', a: 'AKTIF',
  nonaktif: 'NONAKTIF', 'non aktif': 'NONAKTIF', 'non-aktif': 'NONAKTIF', 'tidak aktif': 'NONAKTIF', pasif: 'NONAKTIF', inactive: 'NONAKTIF',
  keluar: 'KELUAR', pindah: 'KELUAR', 'pindah tugas': 'KELUAR', mutasi: 'KELUAR', berhenti: 'KELUAR', mengundurkan: 'KELUAR', 'mengundurkan diri': 'KELUAR', resign: 'KELUAR', diberhentikan: 'KELUAR',
  meninggal: 'MENINGGAL', 'meninggal dunia': 'MENINGGAL', wafat: 'MENINGGAL', almarhum: 'MENINGGAL', alm: 'MENINGGAL',
};

/**
 * A member row. An optional field is undefined when the file has no such column (or, for
 * status, an empty cell): a re-import then leaves what is stored alone, instead of wiping a
 * NIK or bringing back a member who left.
 */
export interface MemberRecord {
  memberNumber: string;
  name: string;
  nik?: string | null;
  /** The NIK ends in 0 and nothing proves it was typed so: judged with the whole column. */
  nikUnprovenZero?: boolean;
  /** The NIK came as plain text (CSV, no apostrophe): its last digit cannot be proven. */
  nikUnproven?: boolean;
  phone?: string | null;
  joinedOn?: string | null;
  /** L or P. */
  gender?: string | null;
  status?: string;
}



const NIK_MESSAGES = {
  scientific: (text: string) => `NIK tertulis "${text}": Excel sudah membulatkannya dan digitnya hilang. Format kolom NIK sebagai Teks, isi ulang dari KTP, lalu ekspor lagi.`,
  rounded: (text: string, numeric: boolean) =>
    numeric
      ? `NIK ${text} tersimpan sebagai angka di Excel, yang hanya menyimpan 15 digit; digit terakhirnya bisa salah. Format kolom NIK sebagai Teks dan isi ulang dari KTP.`
      : `NIK ${text} berakhiran 0, ciri NIK yang dibulatkan Excel. Cocokkan dengan KTP; bila memang benar, tulis dengan tanda petik di depan ('${text}).`,
  length: (text: string) => `NIK harus 16 digit, tertulis ${text.replace(/\D/g, '').length} digit ("${text}")`,
  not_digits: (text: string) => `NIK hanya boleh berisi angka ("${text}")`,
};

const PHONE_MESSAGES = {
  empty: () => 'kosong',
  scientific: (text: string) => `nomor HP tertulis "${text}": Excel mengubahnya ke format ilmiah dan digitnya hilang. Format kolom sebagai Teks.`,
  not_mobile: (text: string) => `"${text}" bukan nomor HP Indonesia (harus diawali 08, 628 atau +628)`,
  invalid: (text: string) => `nomor HP "${text}" tidak sah (10 sampai 13 digit, diawali 08)`,
};

const GENDERS: Record<string, string> = {
  l: 'L', lk: 'L', laki: 'L', 'laki-laki': 'L', lakilaki: 'L', pria: 'L', m: 'L', male: 'L',
  p: 'P', pr: 'P', perempuan: 'P', wanita: 'P', w: 'P', f: 'P', female: 'P',
};

/**
 * The member's mobile number. Clerks write "0812 3456 7892 (WA)" or two numbers
 * ("0812-… / 0857-…"): the first mobile one is kept, and the clerk told. A landline or a
 * number that is not one is no reason to turn the whole file away: it is not stored, and
 * the clerk is told.
 */
function readPhone(row: RowReader): string | null {
  const text = row.text('no_hp');
  const parts = text.replace(/\((wa|whatsapp|hp|telp?)\)/gi, ' ').split(/\s*(?:\/|;|\bdan\b|&|\batau\b)\s*/i).map((p) => p.trim()).filter((p) => p !== '');
  const results = parts.map((part) => normalizePhone(part));
  const first = results.findIndex((r) => r.ok);
  if (first >= 0) {
    const found = results[first]!;
    if (parts.length > 1) row.warn('no_hp', `berisi ${parts.length} nomor ("${text}"); yang disimpan ${parts[first]}`);
    return found.ok ? found.phone : null;
  }
  const reason = results[0]?.ok === false ? results[0].reason : 'invalid';
  if (reason === 'scientific') {
    row.problem('no_hp', PHONE_MESSAGES.scientific(text));
    return null;
  }
  row.warn('no_hp', `${PHONE_MESSAGES[reason](text)}; tidak disimpan, anggota ini memakai kode aktivasi atau nomor HP yang diperbaiki`);
  return null;
}

export const memberImporter: Importer<MemberRecord> = {
  needsKoperasi: true,
  duplicateKey: { column: 'nomor_anggota', what: 'nomor anggota', of: (row) => row.text('nomor_anggota') || null },
  read(row, ctx) {
    const memberNumber = readMemberNumber(row);
    const name = row.required('nama', 100);
    let nik: string | null | undefined = row.hasColumn('nik') ? null : undefined;
    let nikUnprovenZero = false;
    let nikUnproven = false;
    if (row.has('nik') && !isNothing(row.text('nik'))) {
      const cell = row.cell('nik');
      const result = normalizeNik({ text: cell.text, wasNumeric: cell.number !== undefined, typedText: cell.typedText });
      if (result.ok) {
        nik = result.nik;
        nikUnprovenZero = result.unprovenZero;
        nikUnproven = !result.proven;
      } else if (result.reason === 'rounded') row.problem('nik', NIK_MESSAGES.rounded(cell.text.trim(), cell.number !== undefined));
      else row.problem('nik', NIK_MESSAGES[result.reason](cell.text.trim()));
    }
    let phone: string | null | undefined = row.hasColumn('no_hp') ? null : undefined;
    if (row.has('no_hp') && !isNothing(row.text('no_hp'))) phone = readPhone(row);
    const joinedOn = !row.hasColumn('tanggal_masuk') ? undefined : isNothing(row.text('tanggal_masuk')) ? null : row.parse('tanggal_masuk', parseDate, { optional: true, fallback: null });
    if (joinedOn && joinedOn > ctx.today) row.warn('tanggal_masuk', `tanggal masuk ${formatDate(joinedOn)} ada di masa depan; periksa kembali`);
    let status: string | undefined;
    if (row.has('status')) {
      const mapped = STATUSES[row.text('status').toLowerCase().replace(/\s*\(.*\)$/, '').trim()];
      if (mapped) status = mapped;
      else row.problem('status', `status "${row.text('status')}" tidak dikenal (aktif, nonaktif, keluar, meninggal)`);
    }
    let gender: string | null | undefined = row.hasColumn('jenis_kelamin') ? null : undefined;
    if (row.has('jenis_kelamin') && !isNothing(row.text('jenis_kelamin'))) {
      gender = GENDERS[row.text('jenis_kelamin').toLowerCase().replace(/[^a-z-]/g, '')] ?? null;
      if (gender === null) row.problem('jenis_kelamin', `"${row.text('jenis_kelamin')}" bukan jenis kelamin (L atau P)`);
    }
    if (row.problems.length > 0 || memberNumber === null || name === null) return null;
    return { memberNumber, name, nik, phone, joinedOn, gender, status, nikUnprovenZero, nikUnproven };
  },
  async check(store, records, ctx) {
    const problems = duplicates(records, (r) => r.nik ?? null, 'nik', 'NIK');
    const warnings: ImportProblem[] = [];
    const koperasiId = ctx.koperasi!.id;
    // NIKs are judged as a column: Excel's rounding leaves most of them ending in 0, genuine
    // NIKs end in 0 about one time in ten.
    const zeros = records.filter((r) => r.record.nikUnprovenZero);
    const unproven = records.filter((r) => r.record.nikUnproven).length;
    if (excelRoundedColumn(zeros.length, unproven)) {
      problems.push({
        line: null,
        column: 'nik',
        message: `${zeros.length} dari ${unproven} NIK berakhiran 0, ciri NIK yang dibulatkan Excel (Excel hanya menyimpan 15 digit, digit terakhir menjadi 0). Format kolom NIK sebagai Teks, isi ulang dari KTP, lalu ekspor lagi; NIK yang memang berakhiran 0 boleh ditulis dengan tanda petik di depan ('3513…0).`,
      });
    } else {
      for (const { line, record } of zeros) {
        warnings.push({ line, column: 'nik', message: `NIK ${record.nik} berakhiran 0; cocokkan dengan KTP (NIK yang dibulatkan Excel juga berakhiran 0)` });
      }
    }
    const stored: { memberNumber: string; nik: string | null; phone: string | null }[] = [];
    await store.forEachMember(koperasiId, ({ memberNumber, nik, phone }) => stored.push({ memberNumber, nik, phone }));
    const owners = new Map<string, string>();
    for (const row of stored) if (row.nik) owners.set(row.nik, row.memberNumber);
    for (const { line, record } of records) {
      const owner = record.nik ? owners.get(record.nik) : undefined;
      if (owner !== undefined && owner !== record.memberNumber) {
        problems.push({ line, column: 'nik', message: `NIK ${record.nik} sudah tercatat untuk anggota nomor ${owner}` });
      }
    }
    // Excel drops leading zeros from a numeric cell: "7" arriving for a stored "007" is the same member, reported.
    const storedNumbers = new Set(stored.map((m) => m.memberNumber));
    const twins = zeroTwins(new Set([...storedNumbers, ...records.map((r) => r.record.memberNumber)]));
    const byCase = new Map<string, string>();
    for (const number of [...storedNumbers, ...records.map((r) => r.record.memberNumber)]) if (!byCase.has(number.toUpperCase())) byCase.set(number.toUpperCase(), number);
    for (const { line, record } of records) {
      if (storedNumbers.has(record.memberNumber)) continue;
      const bare = bareNumber(record.memberNumber);
      const caseTwin = byCase.get(record.memberNumber.toUpperCase());
      const twin = bare === null ? (caseTwin !== record.memberNumber ? caseTwin : undefined) : twins.get(bare)?.find((form) => form !== record.memberNumber);
      if (twin) {
        problems.push({
          line,
          column: 'nomor_anggota',
          message: `nomor anggota ${record.memberNumber} mirip ${twin} yang sudah ada: nol di depan hilang? Format kolom nomor anggota sebagai Teks`,
        });
      }
    }
    // One phone for two members of the same cooperative: allowed (a shared family phone), but
    // whoever holds it can open both members' data, so the officer is told.
    const phones = new Map<string, string>();
    for (const { line, record } of records) {
      if (!record.phone) continue;
      const other = phones.get(record.phone);
      if (other !== undefined) {
        warnings.push({ line, column: 'no_hp', message: `nomor HP sama dengan anggota ${other}; pemegang nomor ini bisa membuka data keduanya` });
      } else phones.set(record.phone, record.memberNumber);
    }
    const inFile = new Set(records.map((r) => r.record.memberNumber));
    const firstLineOfPhone = new Map<string, number>();
    for (const { line, record } of records) if (record.phone && !firstLineOfPhone.has(record.phone)) firstLineOfPhone.set(record.phone, line);
    for (const row of stored) {
      if (!row.phone || inFile.has(row.memberNumber)) continue;
      const line = firstLineOfPhone.get(row.phone);
      if (line !== undefined) {
        warnings.push({ line, column: 'no_hp', message: `nomor HP sama dengan anggota ${row.memberNumber}; pemegang nomor ini bisa membuka data keduanya` });
      }
    }
    return { problems, warnings };
  },
  async write(writer, records, ctx, written) {
    const koperasiId = ctx.koperasi!.id;
    const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
    const existing = new Map<string, StoredMember>();
    await writer.forEachMember(koperasiId, (row) => existing.set(row.memberNumber, row));
    const created = records
      .filter(({ record }) => !existing.has(record.memberNumber))
      .map(({ record }) => ({
        memberNumber: record.memberNumber,
        name: record.name,
        nik: record.nik ?? null,
        phone: record.phone ?? null,
        joinedOn: record.joinedOn ?? null,
        gender: record.gender ?? null,
        status: record.status ?? 'AKTIF',
      }));
    for (let i = 0; i < created.length; i += WRITE_SLICE) {
      const slice = created.slice(i, i + WRITE_SLICE);
      await writer.insertMembers(koperasiId, slice);
      written(slice.length);
    }
    counts.created = created.length;
    // Changed members are updated in batches, grouped by which fields their row sets (a
    // column the file lacks, or an empty status, keeps what is stored).
    const changes = new Map<string, [number, ...(string | null)[]][]>();
    let pending = 0;
    for (const { record } of records) {
      const before = existing.get(record.memberNumber);
      if (!before) continue;
      const { nikUnprovenZero: _zero, nikUnproven: _unproven, memberNumber: _number, ...fields } = record;
      const data = Object.entries(fields).filter(([, v]) => v !== undefined) as [keyof typeof before, string | null][];
      if (data.every(([k, v]) => before[k] === v)) {
        counts.unchanged++;
      } else {
        const key = data.map(([k]) => k).join(',');
        const group = changes.get(key) ?? [];
        group.push([before.id, ...data.map(([, v]) => v)]);
        changes.set(key, group);
        counts.updated++;
      }
      if (++pending === WRITE_SLICE) {
        written(pending);
        pending = 0;
      }
    }
    for (const [key, rows] of changes) await writer.updateMembers(key.split(',') as (keyof MemberFields)[], rows);
    written(pending);
    return counts;
  },
};

// ── savings ────────────────────────────────────────────────────────────────────────────

export interface SavingsRecord {
  memberNumber: string;
  kind: string;
  label: string;
  balance: bigint;
  asOf: string;
}

/** Savings accounts of every member of a cooperative, by "memberId/kind". */
async function savingsAccounts(store: ImportReads, koperasiId: number) {
  const accounts = new Map<string, Pick<StoredSavingsAccount, 'id' | 'balance' | 'asOf' | 'label'>>();
  const intern = interner();
  await store.forEachSavingsAccount(koperasiId, (row) =>
    accounts.set(`${row.memberId}/${row.kind}`, { id: row.id, balance: row.balance, asOf: intern(row.asOf), label: intern(row.label) }),
  );
  return accounts;
}

function readAsOf(row: RowReader, ctx: ImportContext): string | null {
  if (row.hasColumn('per_tanggal') && (row.has('per_tanggal') || !ctx.asOf)) {
    const asOf = row.parse('per_tanggal', parseDate);
    if (asOf !== null && asOf > ctx.today) row.warn('per_tanggal', `tanggal saldo ${formatDate(asOf)} ada di masa depan; periksa kembali`);
    return asOf === null || !ctx.intern ? asOf : ctx.intern(asOf);
  }
  if (!ctx.asOf) {
    row.problem('per_tanggal', 'wajib diisi');
    return null;
  }
  return ctx.asOf;
}

/** One row per member with a column per kind: each filled kind cell is that kind's balance. */
function readWideSavings(row: RowReader, ctx: ImportContext, wide: WideSavings): SavingsRecord[] | null {
  const memberNumber = readMemberNumber(row);
  const asOf = readAsOf(row, ctx);
  const items: { kind: string; label: string; balance: bigint }[] = [];
  for (const column of wide.kinds) {
    if (!row.has(column.key)) continue;
    const balance = row.parse(column.key, parseAmount);
    if (balance !== null) items.push({ kind: column.kind, label: column.label, balance });
  }
  if (row.problems.length === 0 && items.length === 0) row.problem(null, 'tidak ada saldo simpanan di baris ini');
  if (row.has('simpanan:jumlah') && row.problems.length === 0) {
    const total = row.parse('simpanan:jumlah', parseAmount);
    const sum = items.reduce((a, item) => a + item.balance, 0n);
    if (total !== null && total !== sum) {
      row.problem('simpanan:jumlah', `jumlah ${formatRupiah(total)} tidak sama dengan total simpanan per jenis ${formatRupiah(sum)}`);
    }
  }
  if (row.problems.length > 0 || memberNumber === null || asOf === null) return null;
  return items.map((item) => ({ memberNumber, ...item, asOf }));
}

export const savingsImporter: Importer<SavingsRecord> = {
  needsKoperasi: true,
  duplicateKey: {
    column: (row) => (row.hasColumn('jenis_simpanan') ? 'jenis_simpanan' : 'nomor_anggota'),
    what: (row) => (row.hasColumn('jenis_simpanan') ? 'simpanan anggota/jenis' : 'baris simpanan anggota'),
    of: (row) => {
      // Wide sheets have no kind column: one row per member.
      if (!row.hasColumn('jenis_simpanan')) return row.text('nomor_anggota') || null;
      const kind = savingsKindOf(row.text('jenis_simpanan'));
      return row.text('nomor_anggota') && kind ? `${row.text('nomor_anggota')}/${kind.kind}` : null;
    },
  },
  read(row, ctx) {
    if (ctx.wide) return readWideSavings(row, ctx, ctx.wide);
    const memberNumber = readMemberNumber(row);
    const kindText = row.required('jenis_simpanan', 60);
    const kind = kindText === null ? null : savingsKindOf(kindText);
    if (kindText !== null && kind === null) row.problem('jenis_simpanan', `"${kindText}" bukan jenis simpanan`);
    const balance = row.parse('saldo', parseAmount);
    const asOf = readAsOf(row, ctx);
    if (row.problems.length > 0 || memberNumber === null || kind === null || balance === null || asOf === null) return null;
    return { memberNumber, ...kind, balance, asOf };
  },
  async check(store, records, ctx) {
    const koperasi = ctx.koperasi!;
    const known = await memberIds(store, koperasi.id);
    const problems = unknownMembers(records, known, koperasi.code);
    const current = await savingsAccounts(store, koperasi.id);
    for (const { line, record } of records) {
      const memberId = known.get(record.memberNumber);
      const stored = memberId === undefined ? undefined : current.get(`${memberId}/${record.kind}`)?.asOf;
      // An older file must not roll balances back.
      if (stored !== undefined && record.asOf < stored) {
        problems.push({ line, column: 'per_tanggal', message: `saldo per ${formatDate(record.asOf)} lebih lama dari data yang sudah ada (per ${formatDate(stored)})` });
      }
    }
    return { problems, warnings: [] };
  },
  async write(writer, records, ctx, written) {
    const koperasiId = ctx.koperasi!.id;
    const known = await memberIds(writer, koperasiId);
    const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
    const accounts = await savingsAccounts(writer, koperasiId);
    const created: { memberId: number; kind: string; label: string; balance: bigint; asOf: string }[] = [];
    let pending = 0;
    for (const { record } of records) {
      if (++pending === WRITE_SLICE) {
        written(pending);
        pending = 0;
      }
      const memberId = known.get(record.memberNumber);
      if (memberId === undefined) throw new Error(`member ${record.memberNumber} vanished during import`);
      const existing = accounts.get(`${memberId}/${record.kind}`);
      if (!existing) {
        created.push({ memberId, kind: record.kind, label: record.label, balance: record.balance, asOf: record.asOf });
        if (created.length === WRITE_SLICE) {
          counts.created += await writer.insertSavingsAccounts(created);
          created.length = 0;
        }
        continue;
      }
      if (existing.balance === record.balance && existing.asOf === record.asOf && existing.label === record.label) {
        counts.unchanged++;
        continue;
      }
      await writer.updateSavingsAccount(existing.id, { balance: record.balance, asOf: record.asOf, label: record.label });
      const delta = record.balance - existing.balance;
      if (delta !== 0n) {
        // The export carries balances, not movements: the net change since the last import is
        // what the member can be shown as a movement.
        await writer.addSavingsMovement({
          accountId: existing.id,
          date: record.asOf,
          amount: delta,
          balanceAfter: record.balance,
          description: delta > 0n ? 'mutasi masuk' : 'mutasi keluar',
        });
      }
      counts.updated++;
    }
    counts.created += await writer.insertSavingsAccounts(created);
    written(pending);
    return counts;
  },
};

// ── loans ──────────────────────────────────────────────────────────────────────────────

/** A loan as its row gives it: the loan's fields, its member by number. */
export type LoanRecord = Omit<LoanFields, 'memberId'> & { memberNumber: string };

/**
 * The installment schedule: equal principal per month (flat, the common koperasi method),
 * the rest of each installment is jasa. Due dates follow the next due date's day of month,
 * counted from the first due date after disbursement.
 */
export function buildSchedule(loan: LoanRecord): { number: number; dueOn: string; principal: bigint; interest: bigint }[] {
  // Every due date is counted from one anchor, so a loan due on the 31st is due on the 30th or
  // 28th in shorter months and on the 31st again after them.
  let anchor = loan.disbursedOn;
  let anchorNumber = 0;
  if (loan.nextDueOn) {
    let steps = 0;
    while (addMonths(loan.nextDueOn, -(steps + 1)) > loan.disbursedOn && steps < loan.tenorMonths + 600) steps++;
    anchor = loan.nextDueOn;
    anchorNumber = steps + 1;
  }
  const tenor = BigInt(loan.tenorMonths);
  const base = loan.principal / tenor;
  const schedule = [];
  for (let k = 1; k <= loan.tenorMonths; k++) {
    const principal = k === loan.tenorMonths ? loan.principal - base * (tenor - 1n) : base;
    const interest = loan.installment > principal ? loan.installment - principal : 0n;
    schedule.push({ number: k, dueOn: addMonths(anchor, k - anchorNumber), principal, interest });
  }
  return schedule;
}

/** Loans inserted per statement batch (their numbers are looked up again in one query). */
const LOAN_SLICE = 500;

/** The loans' schedules, replacing what the existing ones among them had. */
function writeSchedules(writer: ImportWriter, loans: { loanId: number; record: LoanRecord }[], replacing: boolean): Promise<number> {
  const rows = loans.flatMap(({ loanId, record }) => buildSchedule(record).map((s) => ({ loanId, ...s })));
  return writer.replaceInstallments(replacing ? loans.map((l) => l.loanId) : [], rows);
}

/** Every loan of a cooperative by loan number, read in pages. */
async function loansOf(store: ImportReads, koperasiId: number) {
  const loans = new Map<string, StoredLoan>();
  await store.forEachLoan(koperasiId, (row) => loans.set(row.loanNumber, row));
  return loans;
}

export const loanImporter: Importer<LoanRecord> = {
  needsKoperasi: true,
  duplicateKey: { column: 'nomor_pinjaman', what: 'nomor pinjaman', of: (row) => row.text('nomor_pinjaman') || null },
  read(row) {
    const memberNumber = readMemberNumber(row);
    const loanNumber = row.required('nomor_pinjaman', 40);
    const principal = row.parse('plafon', parseAmount);
    const outstanding = row.parse('sisa_pokok', parseAmount);
    const installment = row.parse('angsuran_per_bulan', parseAmount);
    const tenorMonths = row.parse('tenor_bulan', (c) => parseInteger(c, 1, 600, /\s*(bulan|bln\.?|kali|x)$/i));
    const disbursedOn = row.parse('tanggal_cair', parseDate);
    const nextDueOn = row.parse('jatuh_tempo_berikutnya', parseDate, { optional: true, fallback: null });
    const arrears = row.parse('tunggakan', parseAmount, { optional: true, fallback: 0n });
    const lateFee = row.parse('denda', parseAmount, { optional: true, fallback: 0n });
    if (principal !== null && principal === 0n) row.problem('plafon', 'plafon tidak boleh 0');
    if (principal !== null && outstanding !== null && outstanding > principal) {
      row.problem('sisa_pokok', 'sisa pokok lebih besar dari plafon');
    }
    if (disbursedOn !== null && nextDueOn !== null && nextDueOn <= disbursedOn) {
      row.problem('jatuh_tempo_berikutnya', 'jatuh tempo harus sesudah tanggal cair');
    }
    if (outstanding !== null && outstanding > 0n && row.has('jatuh_tempo_berikutnya') === false) {
      row.problem('jatuh_tempo_berikutnya', 'wajib diisi selama pinjaman belum lunas');
    }
    if (
      row.problems.length > 0 || memberNumber === null || loanNumber === null || principal === null || outstanding === null ||
      installment === null || tenorMonths === null || disbursedOn === null || arrears === null || lateFee === null
    ) {
      return null;
    }
    return { memberNumber, loanNumber, principal, outstanding, installment, tenorMonths, disbursedOn, nextDueOn, arrears, lateFee };
  },
  async check(store, records, ctx) {
    const koperasi = ctx.koperasi!;
    const known = await memberIds(store, koperasi.id);
    const problems = unknownMembers(records, known, koperasi.code);
    const owners = new Map([...(await loansOf(store, koperasi.id)).values()].map((loan) => [loan.loanNumber, loan.memberId]));
    const warnings: ImportProblem[] = [];
    for (const { line, record } of records) {
      if (record.nextDueOn && record.nextDueOn < ctx.today && record.arrears === 0n && record.outstanding > 0n) {
        warnings.push({
          line,
          column: 'tunggakan',
          message: `jatuh tempo ${formatDate(record.nextDueOn)} sudah lewat tetapi tunggakan 0; anggota akan diberi tahu angsuran itu belum tercatat dibayar`,
        });
      }
      const owner = owners.get(record.loanNumber);
      const memberId = known.get(record.memberNumber);
      if (owner !== undefined && memberId !== undefined && owner !== memberId) {
        problems.push({ line, column: 'nomor_pinjaman', message: `pinjaman ${record.loanNumber} sudah tercatat atas nama anggota lain` });
      }
    }
    return { problems, warnings };
  },
  async write(writer, records, ctx, written) {
    const koperasiId = ctx.koperasi!.id;
    const known = await memberIds(writer, koperasiId);
    const loans = await loansOf(writer, koperasiId);
    const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
    // New loans go in as multi-row inserts, their schedules after them.
    const created: { record: LoanRecord; memberId: number }[] = [];
    const flush = async () => {
      if (created.length === 0) return;
      await writer.insertLoans(koperasiId, created.map(({ record: { memberNumber: _, ...fields }, memberId }) => ({ ...fields, memberId })));
      const ids = await writer.loanIds(koperasiId, created.map((c) => c.record.loanNumber));
      await writeSchedules(writer, created.map(({ record }) => ({ loanId: ids.get(record.loanNumber)!, record })), false);
      counts.created += created.length;
      created.length = 0;
    };
    for (const { record } of records) {
      written(1);
      const memberId = known.get(record.memberNumber);
      if (memberId === undefined) throw new Error(`member ${record.memberNumber} vanished during import`);
      const { memberNumber: _, ...fields } = record;
      const data = { ...fields, memberId };
      const existing = loans.get(record.loanNumber);
      const same =
        existing &&
        (Object.keys(fields) as (keyof typeof fields)[]).every((k) => existing[k] === fields[k]) &&
        existing.memberId === memberId;
      if (same) {
        counts.unchanged++;
        continue;
      }
      if (!existing) {
        created.push({ record, memberId });
        if (created.length === LOAN_SLICE) await flush();
        continue;
      }
      await writer.updateLoan(existing.id, koperasiId, data);
      await writeSchedules(writer, [{ loanId: existing.id, record }], true);
      counts.updated++;
    }
    await flush();
    return counts;
  },
};

// ── meetings ───────────────────────────────────────────────────────────────────────────

export interface MeetingRecord {
  kind: string;
  bookYear: number;
  date: string;
  hour: number;
  minute: number;
  place: string;
  agenda: string[];
}

/** "RAT", "Rapat Anggota Tahunan (RAT)", "RAT Tahun Buku 2026" → RAT; "Pra-RAT" → PRA_RAT; … */
export function meetingKindOf(text: string): string {
  const words = ` ${text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim()} `;
  if (/ pra ?rat /.test(words)) return 'PRA_RAT';
  if (/ rat /.test(words) || words.includes(' rapat anggota tahunan ') || words.includes(' rapat tahunan ')) return 'RAT';
  if (/ rak /.test(words) || words.includes(' rapat anggota khusus ')) return 'RAK';
  return words.trim().toUpperCase().replace(/ /g, '_').slice(0, 40);
}

export const meetingImporter: Importer<MeetingRecord> = {
  needsKoperasi: true,
  read(row) {
    const kindText = row.required('jenis', 60);
    const bookYear = row.parse('tahun_buku', (c) => parseInteger(c, 2000, 2100, /^(tb|tahun buku|tahun|th\.?)\s*/i));
    const date = row.parse('tanggal', parseDate);
    const time = row.parse('jam', parseTime);
    const place = row.required('tempat', 200);
    const agendaText = row.cell('agenda').text;
    const agenda = agendaText
      .split(/\r?\n|;|\|/)
      .map((item) => item.trim().replace(/^\d+[.)]\s*/, ''))
      .filter((item) => item !== '');
    if (kindText !== null && meetingKindOf(kindText) === '') row.problem('jenis', `"${kindText}" bukan jenis rapat`);
    if (row.problems.length > 0 || kindText === null || bookYear === null || date === null || time === null || place === null) return null;
    return { kind: meetingKindOf(kindText), bookYear, date, hour: time.hour, minute: time.minute, place, agenda };
  },
  async check(_db, records, ctx) {
    const problems = duplicates(records, (r) => (r.kind === 'RAT' ? `RAT ${r.bookYear}` : null), 'tahun_buku', 'jadwal');
    const warnings: ImportProblem[] = [];
    const [endMonth, endDay] = ctx.koperasi!.bookYearEnd.split('-');
    for (const { line, record } of records) {
      if (record.kind !== 'RAT') continue;
      // UU 25/1992 art. 26: the RAT is held within six months after the book year ends.
      const yearEnd = `${record.bookYear}-${endMonth}-${endDay}`;
      const limit = ratLegalLimit(record.bookYear, ctx.koperasi!.bookYearEnd);
      if (record.date > limit) {
        warnings.push({ line, column: 'tanggal', message: `RAT tahun buku ${record.bookYear} pada ${formatDate(record.date)} melewati batas 6 bulan setelah tutup buku (${formatDate(limit)}), UU 25/1992 pasal 26` });
      } else if (daysBetween(yearEnd, record.date) < 0) {
        warnings.push({ line, column: 'tanggal', message: `RAT tahun buku ${record.bookYear} pada ${formatDate(record.date)} diadakan sebelum tutup buku ${formatDate(yearEnd)}; periksa tahun bukunya` });
      }
    }
    return { problems, warnings };
  },
  async write(writer, records, ctx, written) {
    const koperasi = ctx.koperasi!;
    const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
    for (const { record } of records) {
      written(1);
      const key = record.kind === 'RAT' ? `RAT:${record.bookYear}` : `${record.kind}:${record.bookYear}:${record.date}`;
      const data = {
        kind: record.kind,
        bookYear: record.bookYear,
        startsAt: zonedTimeToUtc(record.date, record.hour, record.minute, koperasi.timezone),
        place: record.place,
        agenda: record.agenda.join('\n'),
      };
      const existing = await writer.meetingByKey(koperasi.id, key);
      if (!existing) {
        await writer.createMeeting(koperasi.id, key, data);
        counts.created++;
      } else if (existing.startsAt.getTime() === data.startsAt.getTime() && existing.place === data.place && existing.agenda === data.agenda) {
        counts.unchanged++;
      } else {
        await writer.updateMeeting(existing.id, data);
        counts.updated++;
      }
    }
    return counts;
  },
};
