/**
 * The import columns (DESIGN.md, stable) and the header spellings real exports use for them.
 * Headers are matched without case, punctuation or spacing: "No. Anggota" = "no_anggota".
 */

export interface ColumnSpec {
  key: string;
  required: boolean;
  aliases: readonly string[];
}

export const IMPORT_KINDS = ['koperasi', 'members', 'savings', 'loans', 'meetings', 'report', 'shu'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/** The clerk's word for each kind (the command name); the English kinds stay as aliases. */
export const KIND_NAMES: Record<ImportKind, string> = {
  koperasi: 'koperasi',
  members: 'anggota',
  savings: 'simpanan',
  loans: 'pinjaman',
  meetings: 'rapat',
  report: 'laporan',
  shu: 'shu',
};

/** "anggota" or "members" → members; undefined for anything else. */
export function importKindOf(name: string): ImportKind | undefined {
  const lower = name.trim().toLowerCase();
  return IMPORT_KINDS.find((kind) => kind === lower || KIND_NAMES[kind] === lower);
}

const col = (key: string, required: boolean, ...aliases: string[]): ColumnSpec => ({ key, required, aliases });

const BOOK_YEAR = ['tahun', 'tb', 'th', 'thn', 'tahun_buku_', 'thn_buku', 'th_buku', 'periode', 'tahun_laporan', 'book_year', 'year'];

const MEMBER_NUMBER = col('nomor_anggota', true, 'no_anggota', 'noanggota', 'no_agt', 'nomor_agt', 'id_anggota', 'kode_anggota', 'nia', 'no_induk_anggota', 'nomor_induk_anggota', 'no_induk', 'nomor_induk', 'member_number');

export const COLUMNS: Record<ImportKind, readonly ColumnSpec[]> = {
  koperasi: [
    col('kode', true, 'kode_koperasi', 'kode_kop', 'nik_koperasi', 'code', 'id_koperasi'),
    col('nama', true, 'nama_koperasi', 'nama_kop', 'name'),
    col('jenis', true, 'jenis_koperasi', 'tipe', 'type', 'bentuk'),
    col('kecamatan', false, 'kec', 'district'),
    col('desa', false, 'kelurahan', 'desa_kelurahan', 'kel', 'village'),
    col('tutup_buku', false, 'akhir_tahun_buku', 'tanggal_tutup_buku', 'tgl_tutup_buku'),
    col('zona_waktu', false, 'timezone', 'zona'),
    col('kuorum_persen', false, 'kuorum', 'quorum'),
  ],
  members: [
    MEMBER_NUMBER,
    col('nama', true, 'nama_lengkap', 'nama_anggota', 'name'),
    col('nik', false, 'no_ktp', 'nomor_ktp', 'nik_ktp', 'no_nik', 'nomor_induk_kependudukan', 'no_ktp_nik', 'nik_no_ktp', 'ktp', 'nik_ktp_', 'no_nik_ktp'),
    col('no_hp', false, 'nomor_hp', 'no_telepon', 'nomor_telepon', 'no_telp', 'telepon', 'telp', 'hp', 'no_wa', 'nomor_wa', 'whatsapp', 'no_whatsapp', 'handphone', 'phone', 'no_hp_wa', 'hp_wa', 'nomor_hp_wa', 'no_wa_hp', 'no_telp_hp', 'no_hp_telp', 'kontak', 'no_kontak'),
    col('tanggal_masuk', false, 'tgl_masuk', 'tanggal_bergabung', 'tgl_gabung', 'tanggal_daftar', 'tgl_daftar', 'tanggal_menjadi_anggota', 'tgl_menjadi_anggota', 'mulai_anggota', 'tahun_masuk_tanggal'),
    col('status', false, 'status_anggota', 'keanggotaan', 'status_keanggotaan'),
    col('jenis_kelamin', false, 'jk', 'l_p', 'kelamin', 'gender', 'sex'),
  ],
  savings: [
    MEMBER_NUMBER,
    col('jenis_simpanan', true, 'jenis', 'simpanan', 'nama_simpanan', 'produk'),
    col('saldo', true, 'jumlah', 'nominal', 'saldo_akhir', 'saldo_rp'),
    col('per_tanggal', true, 'tanggal', 'tgl', 'posisi', 'posisi_tanggal', 'tanggal_saldo', 'per_tgl'),
  ],
  loans: [
    MEMBER_NUMBER,
    col('nomor_pinjaman', true, 'no_pinjaman', 'no_pinjam', 'nomor_kredit', 'no_kredit', 'no_rekening_pinjaman', 'no_akad'),
    col('plafon', true, 'plafond', 'jumlah_pinjaman', 'pokok_pinjaman', 'besar_pinjaman'),
    col('sisa_pokok', true, 'sisa_pinjaman', 'saldo_pinjaman', 'outstanding', 'baki_debet'),
    col('angsuran_per_bulan', true, 'angsuran', 'angsuran_bulan', 'angsuran_bulanan', 'angsuran_perbulan', 'cicilan', 'cicilan_per_bulan', 'cicilan_bulan'),
    col('tenor_bulan', true, 'tenor', 'jangka_waktu', 'lama_pinjaman', 'jangka_waktu_bulan'),
    col('tanggal_cair', true, 'tgl_cair', 'tanggal_pencairan', 'tgl_pencairan', 'tanggal_akad', 'tgl_akad'),
    col('jatuh_tempo_berikutnya', false, 'jatuh_tempo', 'tgl_jatuh_tempo', 'tanggal_jatuh_tempo', 'jatuh_tempo_berikut'),
    col('tunggakan', false, 'jumlah_tunggakan', 'tunggakan_rp', 'arrears'),
    col('denda', false, 'denda_rp', 'late_fee'),
  ],
  meetings: [
    col('jenis', true, 'jenis_rapat', 'rapat', 'nama_rapat'),
    col('tahun_buku', true, 'tahun', 'tb', 'tahun_buku_'),
    col('tanggal', true, 'tgl', 'tanggal_rapat', 'hari_tanggal'),
    col('jam', true, 'waktu', 'pukul', 'jam_mulai'),
    col('tempat', true, 'lokasi', 'tempat_rapat'),
    col('agenda', false, 'acara', 'acara_rapat', 'susunan_acara', 'mata_acara', 'agenda_rapat'),
  ],
  // The cooperative's yearly figures, one row per book year, as the RAT report (laporan
  // pertanggungjawaban) and the Dinas' yearly form head them.
  report: [
    col('tahun_buku', true, ...BOOK_YEAR),
    col('jumlah_anggota', true, 'anggota', 'jml_anggota', 'jumlah_anggota_orang', 'anggota_orang', 'banyak_anggota', 'total_anggota', 'members'),
    col('aset', true, 'total_aset', 'jumlah_aset', 'aset_total', 'asset', 'total_asset', 'aktiva', 'total_aktiva', 'jumlah_aktiva', 'kekayaan', 'assets'),
    col('modal_sendiri', true, 'modal', 'jumlah_modal_sendiri', 'total_modal_sendiri', 'ekuitas', 'equity', 'own_capital'),
    col('simpanan_anggota', true, 'simpanan', 'jumlah_simpanan', 'total_simpanan', 'simpanan_anggota_total', 'jumlah_simpanan_anggota', 'member_savings'),
    col('pinjaman_beredar', true, 'pinjaman', 'piutang', 'piutang_anggota', 'piutang_pinjaman', 'pinjaman_yang_beredar', 'pinjaman_anggota', 'jumlah_pinjaman', 'sisa_pinjaman', 'outstanding', 'outstanding_pinjaman', 'loans_outstanding'),
    col('volume_usaha', true, 'volume', 'omzet', 'omset', 'volume_usaha_total', 'jumlah_volume_usaha', 'perputaran_usaha', 'business_volume'),
    col('pendapatan', true, 'total_pendapatan', 'jumlah_pendapatan', 'pendapatan_usaha', 'penerimaan', 'revenue', 'income'),
    col('biaya', true, 'total_biaya', 'jumlah_biaya', 'beban', 'total_beban', 'jumlah_beban', 'pengeluaran', 'biaya_biaya', 'costs', 'expenses'),
    col('shu', true, 'shu_tahun_berjalan', 'shu_tahun_buku', 'sisa_hasil_usaha', 'jumlah_shu', 'shu_bersih', 'shu_setelah_pajak', 'shu_sesudah_pajak', 'shu_sebelum_pajak', 'shu_tahun_ini', 'surplus'),
    col('npl_persen', false, 'npl', 'npl_pct', 'rasio_npl', 'kredit_macet', 'kredit_macet_persen', 'pinjaman_bermasalah', 'pinjaman_bermasalah_persen', 'non_performing_loan'),
    col('tanggal_rat', false, 'tgl_rat', 'rat', 'tanggal_pelaksanaan_rat', 'tgl_pelaksanaan_rat', 'disahkan_rat', 'tanggal_pengesahan', 'tgl_pengesahan', 'rat_date'),
    col('keterangan', false, 'ket', 'catatan', 'note', 'notes'),
  ],
  // Each member's SHU for a book year, as the SHU list (daftar pembagian SHU) heads it.
  shu: [
    MEMBER_NUMBER,
    col('tahun_buku', true, ...BOOK_YEAR),
    col('jasa_modal', true, 'shu_jasa_modal', 'jasa_simpanan', 'shu_jasa_simpanan', 'jasa_modal_simpanan', 'jm', 'capital_share'),
    col('jasa_usaha', true, 'shu_jasa_usaha', 'jasa_pinjaman', 'shu_jasa_pinjaman', 'jasa_transaksi', 'jasa_belanja', 'ju', 'business_share'),
    col('total', true, 'jumlah', 'jumlah_shu', 'total_shu', 'shu', 'shu_diterima', 'shu_anggota', 'jumlah_diterima', 'jumlah_total', 'total_diterima'),
    col('dibayar_tanggal', false, 'tanggal_dibayar', 'tgl_dibayar', 'tanggal_bayar', 'tgl_bayar', 'tanggal_pembayaran', 'tgl_pembayaran', 'dibayar', 'tanggal_pencairan', 'tgl_pencairan', 'dibayarkan_tanggal', 'paid_on'),
    col('cara_bayar', false, 'cara_pembayaran', 'dibayar_dengan', 'metode_bayar', 'metode_pembayaran', 'cara_pencairan', 'keterangan', 'ket', 'paid_how'),
  ],
};

export function normalizeHeader(header: string): string {
  const normalized = header
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\((rp|idr|rupiah)\)/g, ' ')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/_(rp|idr)$/, '');
  // "N I K", "J U M L A H": letters spaced out for a printed header.
  return /^([a-z]_){2,}[a-z]$/.test(normalized) ? normalized.replace(/_/g, '') : normalized;
}

export interface HeaderMapping {
  /** Column key → index in the row. */
  index: Map<string, number>;
  /** Headers that matched nothing (reported, then ignored). */
  ignored: string[];
  /** Problems that stop the import before any row is read (a column named twice). */
  problems: string[];
  /** Required columns not found. */
  missing: string[];
}

export function mapHeaders(kind: ImportKind, headers: readonly string[]): HeaderMapping {
  const specs = COLUMNS[kind];
  const index = new Map<string, number>();
  const ignored: string[] = [];
  const problems: string[] = [];
  headers.forEach((header, i) => {
    const normalized = normalizeHeader(header);
    if (normalized === '') return;
    const spec = specs.find((s) => s.key === normalized || s.aliases.includes(normalized));
    if (!spec) {
      ignored.push(header);
      return;
    }
    if (index.has(spec.key)) {
      const first = index.get(spec.key)!;
      // "No. HP" and "No. WA" side by side: the first is read, the second reported as ignored.
      if (spec.key === 'no_hp') {
        ignored.push(header);
        return;
      }
      problems.push(`Kolom ${columnLetter(first)} (${headers[first]}) dan kolom ${columnLetter(i)} (${header}) sama-sama dibaca sebagai ${spec.key}: hapus atau ganti judul salah satunya.`);
      return;
    }
    index.set(spec.key, i);
  });
  const missing = specs.filter((spec) => spec.required && !index.has(spec.key)).map((spec) => spec.key);
  return { index, ignored, problems, missing };
}

/** The sentence for a required column the header row lacks, naming what the file has. */
export function missingColumnProblem(kind: ImportKind, key: string, headers: readonly string[], hint = ''): string {
  const spec = COLUMNS[kind].find((s) => s.key === key);
  const aliases = spec && spec.aliases.length > 0 ? ` (judul lain yang dikenali: ${spec.aliases.slice(0, 5).join(', ')})` : '';
  return `Kolom wajib ${key} tidak ditemukan${aliases}.${hint} Judul kolom di berkas: ${headers.filter((h) => h !== '').join(', ') || '(kosong)'}.`;
}

/** Excel's column letters: 0 → A, 25 → Z, 26 → AA. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    letters = String.fromCharCode(65 + rem) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/** What `kopbot import KIND --help` lists: every column, whether it is required, and its aliases. */
export function describeColumns(kind: ImportKind): string[] {
  return COLUMNS[kind].map((spec) => `  ${spec.key}${spec.required ? ' (wajib)' : ''}${spec.aliases.length > 0 ? `: juga ${spec.aliases.join(', ')}` : ''}`);
}
