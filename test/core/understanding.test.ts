/** What members actually type, and what the bot must take it to mean. */
import { describe, expect, it } from 'vitest';
import { loadFlows } from '../../src/core/flows/load.ts';
import { FLOW_ACTION_NAMES as ACTION_NAMES } from '../../src/core/create-engine.ts';
import { FLOWS_DIR } from '../../src/core/create-engine.ts';
import { normalizeText, tokenize, editDistance } from '../../src/core/text-match.ts';
import { pickOption, understand } from '../../src/core/engine.ts';
import { parseScore } from '../../src/core/actions/feedback.ts';

const flows = loadFlows(FLOWS_DIR, ACTION_NAMES);
/** The node(s) a message at rest leads to, joined with "+". */
const intentOf = (text: string) => understand(flows, tokenize(text, flows.lexicon, flows.emoji)).join('+') || null;

const EXPECTED: [string, string][] = [
  ['cek sldo', 'savings'],
  ['cek saldo', 'savings'],
  ['saldo sy brp', 'savings'],
  ['Saldonya berapa ya pak?', 'savings'],
  ['simpanan wajib saya', 'savings'],
  ['simpnan', 'savings'],
  ['tabngan ku', 'savings'],
  ['SALDOOO', 'savings'],
  ['sadlo', 'savings'],
  ['simpanan pokok berapa', 'savings'],
  ['celengan kulo pinten', 'savings'],
  ['mau lihat tabungan', 'savings'],
  ['pesse bule sanapa', 'savings'],
  ['check my balance', 'savings'],
  ['sisa utang brp', 'loans'],
  ['sisa hutang saya', 'loans'],
  ['utangku piro', 'loans'],
  ['pinjeman', 'loans'],
  ['pinjman sy', 'loans'],
  ['angsuran bulan ini brp', 'loans'],
  ['cicilan saya', 'loans'],
  ['kapan jatuh tempo', 'loans'],
  ['tunggakan', 'loans'],
  ['otang kaula', 'loans'],
  ['ada denda gak', 'loans'],
  ['kredit saya sisa berapa', 'loans'],
  ['how much is my loan', 'loans'],
  ['kapan rat', 'rat'],
  ['kpn RAT nya?', 'rat'],
  ['rapat anggota tahunan kapan', 'rat'],
  ['jadwal rapat', 'rat'],
  // The invitation itself (the document; without one, the sentence gives the RAT date).
  ['undangan rat', 'rat_invitation'],
  ['minta undangan rapat anggota tahunan', 'rat_invitation'],
  ['laporan rat', 'rat_report'],
  ['laporane rat tahun wingi', 'rat_report'],
  ['kirim undangan lagi', 'invitations_on'],
  ['stop undangan', 'invitations_off'],
  ['undangan', 'rat'],
  ['laporan keuangan rat tahun lalu', 'rat_report'],
  ['rat report', 'rat_report'],
  ['when is the meeting', 'rat'],
  ['ada bimtek?', 'events'],
  ['info pelatihan', 'events'],
  ['pelatihn', 'events'],
  ['mau komplain', 'complaint'],
  ['pengaduan', 'complaint'],
  ['sy mau lapor', 'complaint'],
  ['ada keluhan', 'complaint'],
  ['ngadu', 'complaint'],
  ['beri nilai', 'rating'],
  ['survei kepuasan', 'rating'],
  ['pengumuman', 'announcements'],
  ['notif', 'announcements'],
  ['makasih ya', 'thanks'],
  ['matur nuwun', 'thanks'],
  ['terima kasih banyak', 'thanks'],
  ['selamat pagi bu', 'main'],
  ['Assalamu\'alaikum min', 'salam'],
  ['selamat siang, mau cek saldo', 'savings'],
  ['makasih, sisa utang brp ya', 'loans'],
  ['english please', 'language_en'],
  ['insyaallah hadir', 'rat'],
  ['makasih min', 'thanks'],
  ['ok siap', 'ack'],
  ['bisa pinjam uang?', 'loans'],
  ['saldo pinjaman sy brp', 'loans'],
  ['sisa saldo utang', 'loans'],
  ['my loan balance pls', 'loans'],
  ['komplain saldo sy berkurang', 'complaint'],
  ['ngadu min, saldo sy kurang 500rb', 'complaint'],
  ['pelatihan simpan pinjam kapan', 'events'],
  ['jangan kirim lagi ya', 'announcements_stop'],
  ['matikan notif', 'announcements_stop'],
  ['aktifkan lagi pengumumannya', 'announcements_resume'],
  ['shu sy brp', 'shu'],
  ['sy blm paham', 'help'],
  ['balik menu', 'main'],
  ['ga jadi deh', 'cancelled'],
  ['ganti koperasi', 'switch_koperasi'],
  ['syarat pinjaman apa aja', 'complaint'],
  ['kapan sy hrs setor', 'savings'],
  ['nuwun sewu', 'main'],
  ['saldo & utang', 'savings+loans'],
  ['saldo sm tunggakan', 'savings+loans'],
  ['angsuran sama simpanan wajib', 'loans+savings'],
  ['ini siapa', 'about'],
  ['ini bot ya', 'about'],
  ['CEKSALDO', 'savings'],
  ['complaint status', 'complaint_status'],
  ['kapan rat dan saldo sy', 'savings+rat'],
];

const NOTHING = ['asdfgh', 'salah kirim', 'wkwkwk', 'nomor saya ganti'];

describe('free-text understanding', () => {
  it(`maps ${EXPECTED.length} realistic member messages to the right service`, () => {
    const wrong = EXPECTED.filter(([text, intent]) => intentOf(text) !== intent).map(([text, intent]) => `${text} → ${intentOf(text)} (want ${intent})`);
    expect(wrong).toEqual([]);
    expect(EXPECTED.length).toBeGreaterThanOrEqual(40);
  });

  it('does not invent a service for chatter', () => {
    const matched = NOTHING.filter((text) => intentOf(text) !== null).map((text) => `${text} → ${intentOf(text)}`);
    expect(matched).toEqual([]);
  });

  it('normalises case, accents, emoji and stretched letters', () => {
    expect(normalizeText('  SALDOOO!!! 🙏 ')).toBe('saldo');
    expect(normalizeText('Café—RAT?')).toBe('cafe rat');
    expect(normalizeText("ta' ngerti")).toBe('ta ngerti');
  });

  it('counts a transposition as one edit', () => {
    expect(editDistance('sadlo', 'saldo', 2)).toBe(1);
    expect(editDistance('saldo', 'salah', 2)).toBeGreaterThan(1);
  });

  it('normalises plain ASCII text exactly as the full Unicode steps do', () => {
    // The Unicode steps themselves, as the reference for normalizeText's ASCII shortcut.
    const unicode = (text: string) =>
      text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^\p{L}\p{N}']+/gu, ' ').replace(/'/g, '').replace(/(\p{L})\1{2,}/gu, '$1').trim().replace(/\s+/g, ' ');
    const alphabet = "aAbBsSoO09' \t\n.,!?-_/*~`@#\x01\x7f";
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const samples = ['SALDOOO!!!', "ta' ngerti", 'cek  sldo\t', "  ''a''  ", 'Kpn RAT nya??', 'no.001/2026', 'aaAAaa', '\u0000x'];
    for (let i = 0; i < 2000; i++) samples.push(Array.from({ length: 1 + Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
    for (const text of samples) expect([text, normalizeText(text)]).toEqual([text, unicode(text)]);
  });

  it('gives the same distance whatever it measured before', () => {
    const pairs: [string, string, number][] = [
      ['pinjaman', 'pinjman', 2],
      ['a', 'b', 1],
      ['tabungan', 'tabngan', 2],
      ['rapat anggota tahunan', 'rapat angota tahunan', 2],
      ['sadlo', 'saldo', 2],
      ['xy', 'yx', 1],
    ];
    const first = pairs.map(([a, b, max]) => editDistance(a, b, max));
    const again = [...pairs].reverse().map(([a, b, max]) => editDistance(a, b, max)).reverse();
    expect(again).toEqual(first);
    expect(first).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

describe('menu choices', () => {
  const rat = flows.nodes.rat!.menu!;
  const pick = (text: string) => {
    const tokens = tokenize(text, flows.lexicon, flows.emoji);
    return pickOption(rat, tokens.join(' '), tokens, text, flows)?.label ?? null;
  };

  it('reads numbers however they are typed', () => {
    expect(pick('1')).toBe('rat.option_attend');
    expect(pick('2.')).toBe('rat.option_absent');
    expect(pick('no 2')).toBe('rat.option_absent');
    expect(pick('2️⃣')).toBe('rat.option_absent');
    expect(pick('9')).toBeNull();
  });

  it('tells attending from not attending', () => {
    expect(pick('hadir')).toBe('rat.option_attend');
    expect(pick('insyaallah hadir')).toBe('rat.option_attend');
    expect(pick('tidak hadir')).toBe('rat.option_absent');
    expect(pick('ga bisa hadir')).toBe('rat.option_absent');
    expect(pick('mboten saged rawuh')).toBe('rat.option_absent');
    expect(pick('berhalangan')).toBe('rat.option_absent');
  });

  it('reads a negation anywhere as not attending', () => {
    for (const text of ['sy tidak akan hadir', 'tdk bs hadir krn sakit', "ta' bisa dateng", 'I will not attend', 'enggak, sy ada acara', 'gak iso', 'ora iso teko', 'maaf ga bs dtg', 'no I cannot come sorry']) {
      expect(pick(text), text).toBe('rat.option_absent');
    }
    for (const text of ['ngga hadir', 'engga hadir', 'tak bisa datang', 'ngga datang']) expect(pick(text), text).toBe('rat.option_absent');
    for (const text of ['pilih 2 ya', 'no 2', '2 aja', 'yg no 2', 'loro']) expect(pick(text), text).toBe('rat.option_absent');
    for (const text of ['tidak ada halangan, saya hadir', 'enggi', 'iye']) expect(pick(text), text).toBe('rat.option_attend');
    for (const text of ['sowan', 'insya allah datang', 'pilih 1 ya']) expect(pick(text), text).toBe('rat.option_attend');
  });

  it('does not read yes or no into an answer that is neither', () => {
    expect(pick('belum tau bisa hadir atau tidak')).toBeNull();
    expect(pick('yg hadir istri sy boleh?')).toBeNull();
    expect(pick('kayaknya tidak')).toBeNull();
    expect(pick('nggak janji ya')).toBeNull();
    for (const text of ['blm tw', 'dereng ngertos', 'ya tapi tidak bisa lama', 'bisa gak diwakilkan', 'hadir?', 'hadir tidak']) expect(pick(text), text).toBeNull();
    expect(pick('tidak tahu')).toBeNull();
    expect(pick('gak tau')).toBeNull();
    expect(pick('ya nanti saya lihat dulu')).toBeNull();
  });
});

describe('ratings', () => {
  it.each([
    ['5', 5],
    ['nilai 4', 4],
    ['4/5', 4],
    ['⭐⭐⭐', 3],
    ['lima', 5],
    ['siji', 1],
    ['10', null],
    ['bagus', 4],
    ['ga puas blas', 1],
    ['10/10', 5],
    ['nilai 1-5 ya? 4 deh', 4],
    ['hmm entahlah', null],
    ['saya siti no anggota 001', null],
    ['gak jelek', 4],
    ['saya kasih 4 dari 5', 4],
    ['apik', 4],
    ['sae sanget', 5],
    ['sangat tidak puas', 1],
    ['kurang puas', 2],
  ])('reads %s as %s', (text, score) => {
    expect(parseScore(text)).toBe(score);
  });
});
