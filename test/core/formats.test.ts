/** Rupiah, Indonesian dates, phones and NIKs: the small things members notice first. */
import { describe, expect, it } from 'vitest';
import { addMonths, formatDate, formatDateTime, formatRupiah, maskNik, maskPhone, zonedTimeToUtc } from '../../src/core/format.ts';
import { displayPhone, normalizePhone } from '../../src/core/phone.ts';
import { excelRoundedColumn, normalizeNik } from '../../src/core/nik.ts';
import { collectibility, daysPastDue } from '../../src/core/loan-status.ts';
import { parseAmount, parseDate, parseTime } from '../../src/import/values.ts';

describe('rupiah', () => {
  it.each([
    [0n, 'Rp0'],
    [1_250_000n, 'Rp1.250.000'],
    [999n, 'Rp999'],
    [-50_000n, '-Rp50.000'],
    [9_007_199_254_740_993n, 'Rp9.007.199.254.740.993'],
  ])('%s → %s', (amount, text) => {
    expect(formatRupiah(amount)).toBe(text);
  });
});

describe('dates', () => {
  it('reads the Indonesian way in WIB, WITA and WIT', () => {
    const instant = new Date('2019-09-10T02:00:00Z');
    expect(formatDateTime(instant, 'Asia/Jakarta')).toBe('Selasa, 10 September 2019, 09.00 WIB');
    expect(formatDateTime(instant, 'Asia/Makassar')).toBe('Selasa, 10 September 2019, 10.00 WITA');
    expect(formatDateTime(instant, 'Asia/Jayapura', 'en')).toBe('Tuesday, 10 September 2019, 11:00 WIT');
    expect(formatDate('2026-12-01', 'id', true)).toBe('Selasa, 1 Desember 2026');
  });

  it('turns local wall time into the right instant and adds months without overflowing', () => {
    expect(zonedTimeToUtc('2027-02-20', 9, 0, 'Asia/Jakarta').toISOString()).toBe('2027-02-20T02:00:00.000Z');
    expect(zonedTimeToUtc('2027-01-01', 0, 30, 'Asia/Jakarta').toISOString()).toBe('2026-12-31T17:30:00.000Z');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2026-11-15', -11)).toBe('2025-12-15');
  });
});

describe('phones', () => {
  it.each(['0812-3456-7890', '+62 812-3456-7890', '62812 3456 7890', '(0812) 3456 7890', '812.3456.7890', '+6208123456789 0'])(
    '%s normalises to 6281234567890',
    (raw) => {
      expect(normalizePhone(raw)).toEqual({ ok: true, phone: '6281234567890' });
    },
  );

  it('refuses landlines, foreign numbers, Excel notation and junk', () => {
    expect(normalizePhone('0335-841234')).toMatchObject({ ok: false, reason: 'not_mobile' });
    expect(normalizePhone('+60 12-345 6789')).toMatchObject({ ok: false, reason: 'not_mobile' });
    expect(normalizePhone('6.28123E+12')).toMatchObject({ ok: false, reason: 'scientific' });
    expect(normalizePhone('0812')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(normalizePhone('hp rusak')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(normalizePhone('')).toMatchObject({ ok: false, reason: 'empty' });
  });

  it('shows and masks a phone', () => {
    expect(displayPhone('6281234567890')).toBe('0812-3456-7890');
    expect(maskPhone('6281234567890')).toBe('6281******890');
    expect(maskPhone('081234567')).toBe('******567');
    expect(maskPhone('7099887766')).toBe('7******766');
    expect(maskNik('3513124509800001')).toBe('3513**********01');
    expect(maskNik('3513 1245 0980 0001')).toBe('3513**********01');
  });
});

describe('NIK', () => {
  it('keeps a 16-digit NIK as text', () => {
    expect(normalizeNik({ text: '3513124509800001' })).toEqual({ ok: true, nik: '3513124509800001', proven: false, unprovenZero: false });
    expect(normalizeNik({ text: '3513 1245 0980 0001' })).toMatchObject({ ok: true, nik: '3513124509800001' });
  });

  it('reports what Excel did to a NIK instead of storing it', () => {
    expect(normalizeNik({ text: '3.51312E+15' })).toMatchObject({ ok: false, reason: 'scientific' });
    expect(normalizeNik({ text: '3513124509800001', wasNumeric: true })).toMatchObject({ ok: false, reason: 'rounded' });
    // One plain-text NIK ending in 0 cannot be judged alone: it is flagged, and the column decides.
    expect(normalizeNik({ text: '3513124509800010' })).toEqual({ ok: true, nik: '3513124509800010', proven: false, unprovenZero: true });
    expect(normalizeNik({ text: "'3513124509800010" })).toEqual({ ok: true, nik: '3513124509800010', proven: true, unprovenZero: false });
    expect(normalizeNik({ text: '3513124509800010', typedText: true })).toEqual({ ok: true, nik: '3513124509800010', proven: true, unprovenZero: false });
    expect(normalizeNik({ text: '35131245098' })).toMatchObject({ ok: false, reason: 'length' });
    expect(normalizeNik({ text: '35131245098X0001' })).toMatchObject({ ok: false, reason: 'not_digits' });
  });
});

describe('a NIK column rounded by Excel', () => {
  it('is told from genuine NIKs, one in ten of which end in 0', () => {
    expect(excelRoundedColumn(1, 1)).toBe(false);
    expect(excelRoundedColumn(2, 2)).toBe(false);
    expect(excelRoundedColumn(3, 3)).toBe(true);
    expect(excelRoundedColumn(5, 10)).toBe(false);
    expect(excelRoundedColumn(9, 10)).toBe(true);
    // 12% of 20,000 is a genuine file; most of them ending in 0 is Excel.
    expect(excelRoundedColumn(2400, 20_000)).toBe(false);
    expect(excelRoundedColumn(19_000, 20_000)).toBe(true);
  });
});

describe('import values', () => {
  it.each([
    ['Rp 1.250.000,00', 1_250_000n],
    ['Rp1.250.000', 1_250_000n],
    ['1.250.000', 1_250_000n],
    ['1250000', 1_250_000n],
    ['1,250,000.00', 1_250_000n],
    ['IDR 500.000', 500_000n],
    ['0', 0n],
  ])('amount %s', (text, value) => {
    expect(parseAmount({ text })).toEqual({ ok: true, value });
  });

  it('refuses amounts that are not whole rupiah', () => {
    expect(parseAmount({ text: '1.250.000,50' }).ok).toBe(false);
    expect(parseAmount({ text: '12,5' }).ok).toBe(false);
    expect(parseAmount({ text: '', number: 1250.4 }).ok).toBe(false);
    expect(parseAmount({ text: '1.25.000' }).ok).toBe(false);
  });

  it.each([
    ['31/12/2026', '2026-12-31'],
    ['2026-12-31', '2026-12-31'],
    ['1-2-2026', '2026-02-01'],
    ['5 Januari 2026', '2026-01-05'],
    ['29/02/2024', '2024-02-29'],
    ['Sabtu, 20 Februari 2027', '2027-02-20'],
    ["Jum'at, 5 Maret 2027", '2027-03-05'],
    ['Senin 1 Feb. 2027', '2027-02-01'],
    ['20/02/2027 00:00', '2027-02-20'],
  ])('date %s', (text, value) => {
    expect(parseDate({ text })).toEqual({ ok: true, value });
  });

  it('refuses impossible and ambiguous dates', () => {
    // Excel serials (a General-formatted date cell), with a note naming them as Excel dates.
    expect(parseDate({ text: '42064' })).toEqual({ ok: true, value: '2015-03-01', note: '42064 dibaca sebagai tanggal Excel (angka seri): 1 Maret 2015' });
    expect(parseDate({ text: '42064', number: 42064 })).toMatchObject({ ok: true, value: '2015-03-01' });
    expect(parseDate({ text: '46387', number: 46387 })).toMatchObject({ ok: true, value: '2026-12-31' });
    expect(parseDate({ text: '2015' }).ok).toBe(false);
    expect(parseDate({ text: '29/02/2026' })).toMatchObject({ ok: false, error: 'tanggal 29/2/2026 tidak ada di kalender' });
    expect(parseDate({ text: '13/13/2026' }).ok).toBe(false);
    expect(parseDate({ text: '01/02/26' })).toMatchObject({ ok: false, error: expect.stringContaining('4 angka') });
    expect(parseDate({ text: 'besok' }).ok).toBe(false);
  });

  it('reads times as written and as Excel stores them', () => {
    expect(parseTime({ text: '09.00 WIB' })).toEqual({ ok: true, value: { hour: 9, minute: 0 } });
    expect(parseTime({ text: '13:30' })).toEqual({ ok: true, value: { hour: 13, minute: 30 } });
    expect(parseTime({ text: '', number: 0.375 })).toEqual({ ok: true, value: { hour: 9, minute: 0 } });
    expect(parseTime({ text: '24.10' }).ok).toBe(false);
  });
});

describe('loan status', () => {
  it('derives days past due and collectibility', () => {
    expect(daysPastDue({ arrears: 0n, installment: 100n, nextDueOn: '2026-01-01', today: '2026-11-22' })).toBe(0);
    expect(daysPastDue({ arrears: 250n, installment: 100n, nextDueOn: '2026-11-10', today: '2026-11-22' })).toBe(90);
    expect(daysPastDue({ arrears: 100n, installment: 100n, nextDueOn: '2026-05-22', today: '2026-11-22' })).toBe(184);
    expect([0, 1, 90, 91, 120, 121, 180, 181].map(collectibility)).toEqual([
      'lancar', 'dpk', 'dpk', 'kurang_lancar', 'kurang_lancar', 'diragukan', 'diragukan', 'macet',
    ]);
  });
});
