/**
 * Officers and Dinas staff talk to the same tolerant bot as members: every officer step tried
 * through `kopbot chat` (a real process, a line per message) with words, with digits and with
 * typos, and through the Telegram channel (the real service, telegraf, a local Bot API) with
 * its buttons, a stale button included.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { queueBimtekInvitations } from '../../src/jobs/bimtek.ts';
import { DEMO_KOPERASI } from '../../src/persistence/seed-demo.ts';
import { tempDir } from '../helpers/app.ts';
import { KOPBOT_BIN, ROOT } from '../helpers/cli.ts';
import type { FakeUser, SentMessage } from '../helpers/fake-bot-api.ts';
import { ask, press, share, startTelegramService, textOf, type TelegramTestService } from '../telegram/helpers.ts';

const BOARD = '0812-3456-7890'; // Drs. Sugeng Riyadi, PENGURUS of KPRI Sejahtera (demo)
const DINAS = '0812-3456-7899';

/** `kopbot chat --as PHONE` with these lines: the bot's answer to each line. */
function chat(env: Record<string, string>, phone: string, lines: readonly string[]): string[] {
  const result = spawnSync(process.execPath, [KOPBOT_BIN, 'chat', '--as', phone], { cwd: ROOT, input: `${lines.join('\n')}\n`, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const answers = result.stdout.split('---\n');
  expect(answers).toHaveLength(lines.length + 1);
  return answers.slice(0, lines.length);
}

describe('officers through kopbot chat', () => {
  let env: Record<string, string>;
  let app: App;
  beforeAll(async () => {
    const dir = tempDir('kopbot-officer-chat-');
    env = { DATABASE_URL: `file:${join(dir, 'koperasi.db')}` };
    const seeded = spawnSync(process.execPath, [KOPBOT_BIN, 'seed', '--demo'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
    expect(seeded.status).toBe(0);
    app = await createApp({ DATABASE_URL: env.DATABASE_URL!, LOG_LEVEL: 'silent' });
  });
  afterAll(async () => app.close());
  const broadcasts = () => app.db.broadcast.count();

  test('an announcement: by words and "nggih", by digits, with typos; "btal" at the preview sends nothing', async () => {
    const words = chat(env, BOARD, ['pengurus', 'buat pengumuman', 'Kantor tutup tanggal 25 Desember, buka lagi 26 Desember.', 'nggih']);
    expect(words[0]).toContain('Menu petugas');
    expect(words[0]).toContain('1. Buat pengumuman untuk anggota');
    expect(words[1]).toContain('Tulis pengumuman untuk anggota KPRI Sejahtera');
    expect(words[2]).toContain('Pratinjau pengumuman');
    expect(words[2]).toContain('Kantor tutup tanggal 25 Desember');
    expect(words[2]).toMatch(/1\. Ya, kirim\n2\. Batal/);
    expect(words[3]).toMatch(/Pengumuman #\d+ diantrekan untuk \d+ anggota/);
    expect(await broadcasts()).toBe(1);

    const digits = chat(env, BOARD, ['pengurus', '1', 'Rapat pengurus diundur ke hari Kamis.', '1']);
    expect(digits[3]).toContain('diantrekan');
    expect(await broadcasts()).toBe(2);

    // Typos everywhere, outside the menu too ("bikin pengumuman"), then a cancel typed as typed.
    const typos = chat(env, BOARD, ['pengurs', 'pengumumn anggota', 'Setoran wajib bulan ini paling lambat tanggal 10.', 'btal', 'bikin pengumuman', 'Pengumuman kedua', 'ga jadi']);
    expect(typos[0]).toContain('Menu petugas');
    expect(typos[1]).toContain('Tulis pengumuman');
    expect(typos[2]).toContain('Pratinjau');
    expect(typos[3]).toContain('dibatalkan');
    expect(typos[4]).toContain('Tulis pengumuman');
    expect(typos[5]).toContain('Pratinjau');
    expect(typos[6]).toContain('dibatalkan');
    expect(await broadcasts()).toBe(2);

    // A word that answers nothing at the preview asks again, and sends nothing.
    const unclear = chat(env, BOARD, ['pengurus', '1', 'Libur bersama tanggal 1 Januari.', '👍', 'hmm']);
    expect(unclear[3]).toContain('belum menangkap jawaban');
    expect(unclear[3]).toMatch(/1\. Ya, kirim/);
    expect(unclear[4]).toContain('belum menangkap jawaban');
    expect(await broadcasts()).toBe(2);
  });

  test('the RAT tally, in words outside the menu and by digit inside it', () => {
    const [outside, menu, tally, typo] = chat(env, BOARD, ['rekap rat', 'pengurus', '2', 'rekp rat']);
    expect(outside).toContain('Konfirmasi kehadiran RAT');
    expect(outside).toMatch(/Kuorum \d+%/);
    expect(menu).toContain('2. Rekap konfirmasi kehadiran RAT');
    expect(tally).toContain('Konfirmasi kehadiran RAT');
    expect(typo).toContain('Konfirmasi kehadiran RAT');
    // A member's "rekap rat" is about the RAT, not the board's tally.
    const [member] = chat(env, '0812-3456-7801', ['rekap rat']);
    expect(member).not.toContain('Konfirmasi kehadiran RAT');
    expect(member).not.toContain('Menu petugas');
  });

  test('moving the RAT: "jadwal rat", a wrong date, a past one, "btal"; then "ya, ubah" moves it and tells the members', async () => {
    const before = await app.db.meeting.findFirstOrThrow({ where: { koperasi: { code: DEMO_KOPERASI } }, orderBy: { startsAt: 'desc' } });
    const [menu, ask, wrong, past, preview, cancelled] = chat(env, BOARD, ['pengurus', 'jadwal rat', '31/02/2027', '01/01/2020 09.00', '20/03/2027 09.00', 'btal']);
    expect(menu).toContain('3. Atur atau ubah tanggal RAT');
    expect(ask).toContain('Ketik tanggal dan jam baru');
    expect(wrong).toContain('tidak terbaca');
    expect(past).toContain('sudah lewat');
    expect(preview).toContain('RAT dipindah dari');
    expect(preview).toMatch(/1\. Ya, ubah dan beri tahu anggota\n2\. Batal/);
    expect(cancelled).toContain('dibatalkan');
    expect((await app.db.meeting.findUniqueOrThrow({ where: { id: before.id } })).startsAt).toEqual(before.startsAt);

    const moved = chat(env, BOARD, ['ubah jadwal rat', '20/03/2027 09.00', 'ya, ubah']);
    expect(moved[2]).toContain('Jadwal RAT sudah diubah ke Sabtu, 20 Maret 2027');
    expect((await app.db.meeting.findUniqueOrThrow({ where: { id: before.id } })).startsAt).toEqual(new Date('2027-03-20T02:00:00Z'));
    expect(await app.db.auditLog.count({ where: { action: 'rat.move' } })).toBe(1);
  });

  test('setting a RAT when none is planned: date, place (words, a typo), then "ya simpan"', async () => {
    await app.db.meeting.updateMany({ where: { koperasi: { code: DEMO_KOPERASI } }, data: { startsAt: new Date('2020-03-01T02:00:00Z') } });
    const [ask, place, shortPlace, preview, done] = chat(env, BOARD, ['atur jadwal rat', '14/03/2027 09.00', 'ab', 'Aula Kantor Koperasi, Jl. Raya Kraksaan 12', 'ya simpn']);
    expect(ask).toContain('Belum ada jadwal RAT yang akan datang');
    expect(place).toContain('Di mana RAT diadakan?');
    expect(shortPlace).toContain('Tulis tempat RAT');
    expect(preview).toContain('RAT diadakan *Minggu, 14 Maret 2027');
    expect(preview).toMatch(/1\. Ya, simpan dan beri tahu anggota\n2\. Batal/);
    expect(done).toContain('Jadwal RAT tersimpan');
    expect(await app.db.auditLog.count({ where: { action: 'rat.set' } })).toBe(1);
  });

  test('the Dinas: an announcement by type and by district, in words and digits; the bimtek list', async () => {
    const byType = chat(env, DINAS, ['dinas', 'pengumuman pengurus', 'KPRI', 'Bimtek penilaian kesehatan koperasi dibuka minggu depan.', 'kirim']);
    expect(byType[0]).toContain('Menu petugas');
    expect(byType[0]).toMatch(/1\. Pengumuman untuk pengurus koperasi\n2\. Peserta bimtek/);
    expect(byType[1]).toContain('Ketik *semua*');
    expect(byType[2]).toContain('koperasi jenis KPRI');
    expect(byType[3]).toContain('Pratinjau pengumuman untuk');
    expect(byType[4]).toMatch(/Pengumuman untuk \d+ pengurus sudah diantrekan/);

    const district = await app.db.koperasi.findFirstOrThrow({ where: { district: { not: null } } });
    const byDistrict = chat(env, DINAS, ['menu dinas', '1', 'kecamatan antah berantah', district.district!, 'Rapat koordinasi Gempur Koperasi hari Senin.', '1']);
    expect(byDistrict[2]).toContain('Tidak dikenali');
    expect(byDistrict[3]).toContain(`Kecamatan ${district.district!.toUpperCase()}`);
    expect(byDistrict[5]).toContain('sudah diantrekan');

    const [list, listByDigit, listTypo] = chat(env, DINAS, ['peserta bimtek', 'dinas', '2']).concat(chat(env, DINAS, ['pesrta bimtek']));
    // The demo's bimtek for boards, with its seats: the list itself, not the menu that names it.
    for (const reply of [list, listTypo]) expect(reply).toMatch(/\*Bimtek Penyusunan Laporan RAT\* \(.+\)\nPeserta: \d+\/40/);
    expect(listByDigit).toContain('2. Peserta bimtek');
  });

  test('a bimtek invitation answered with a bare "ya" while it waits, and "bimtek tidak" later', async () => {
    await queueBimtekInvitations({ domain: app.domain, now: new Date() });
    const sugeng = await app.db.officer.findMany({ where: { phone: '6281234567890' } });
    // The demo's board bimtek invites him.
    expect(await app.db.eventInvitation.count({ where: { status: 'invited', officerId: { in: sugeng.map((o) => o.id) } } })).toBe(1);
    const [yes, again, no] = chat(env, BOARD, ['ya', 'ya', 'bimtek tidak']);
    expect(yes).toMatch(/terdaftar sebagai peserta|daftar tunggu/);
    expect(again).not.toMatch(/terdaftar sebagai peserta/); // nothing waits now: not a bimtek answer
    expect(no).toContain('tidak ikut');
  });
});

describe('officers on Telegram: buttons, and a stale button never acts twice', () => {
  let t: TelegramTestService;
  const SUGENG: FakeUser = { id: 7001, first_name: 'Sugeng' };
  const STAFF: FakeUser = { id: 7002, first_name: 'Rina' };
  beforeEach(async () => {
    t = await startTelegramService();
  });
  afterEach(async () => t.dispose());
  const buttons = (m: SentMessage | undefined) => (m?.reply_markup?.inline_keyboard ?? []).flat().map((b) => b.text);
  /** The message with buttons, as it arrived (the bot takes a keyboard away once it is answered; an older one stays on screen). */
  const withButtons = (ms: SentMessage[]) => structuredClone(ms.find((m) => buttons(m).length > 0)!);

  test('a board member picks by button, by word and by digit; a stale preview button asks afresh and sends nothing more', async () => {
    await share(t, SUGENG, { phone: '6281234567890' });
    const menu = withButtons(await ask(t, SUGENG, 'pengurus'));
    expect(menu.text).toContain('Menu petugas');
    expect(buttons(menu)).toEqual(['Buat pengumuman untuk anggota', 'Rekap konfirmasi kehadiran RAT', 'Atur atau ubah tanggal RAT']);

    expect(textOf(await press(t, SUGENG, menu, 'Buat pengumuman untuk anggota'))).toContain('Tulis pengumuman');
    const preview = withButtons(await ask(t, SUGENG, 'Kantor tutup tanggal 25 Desember.'));
    expect(preview.text).toContain('Pratinjau');
    expect(buttons(preview)).toEqual(['Ya, kirim', 'Batal']);
    expect(textOf(await press(t, SUGENG, preview, 'Ya, kirim'))).toContain('diantrekan');
    expect(await t.service.app.db.broadcast.count()).toBe(1);

    // The preview's button pressed again later: the question is asked afresh, nothing is sent.
    const stale = textOf(await press(t, SUGENG, preview, 'Ya, kirim'));
    expect(stale).toContain('Tombol itu dari pesan sebelumnya');
    expect(stale).toContain('Menu petugas'); // that announcement is done: the menu, not its preview
    expect(await t.service.app.db.broadcast.count()).toBe(1);

    // The old menu's button while a RAT move waits for its date: asked afresh, not taken.
    expect(textOf(await ask(t, SUGENG, 'rekp rat'))).toContain('Konfirmasi kehadiran RAT');
    expect(textOf(await ask(t, SUGENG, 'pindah rat'))).toContain('Ketik tanggal dan jam baru');
    expect(textOf(await press(t, SUGENG, menu, 'Buat pengumuman untuk anggota'))).toContain('Tombol itu dari pesan sebelumnya');
    const move = withButtons(await ask(t, SUGENG, 'ubah jadwal rat').then(() => ask(t, SUGENG, '21/03/2027 09.00')));
    expect(buttons(move)).toEqual(['Ya, ubah dan beri tahu anggota', 'Batal']);
    expect(textOf(await ask(t, SUGENG, 'btal'))).toContain('dibatalkan');
    expect(textOf(await press(t, SUGENG, move, 'Ya, ubah dan beri tahu anggota'))).toContain('Tombol itu dari pesan sebelumnya');
    expect(await t.service.app.db.auditLog.count({ where: { action: 'rat.move' } })).toBe(0);
  });

  test('Dinas staff: the menu has their options as buttons; an audience, a text and "nggih" queue it once', async () => {
    await share(t, STAFF, { phone: '6281234567899' });
    const menu = withButtons(await ask(t, STAFF, 'dinas'));
    expect(buttons(menu)).toEqual(['Pengumuman untuk pengurus koperasi', 'Peserta bimtek']);
    expect(textOf(await press(t, STAFF, menu, 'Pengumuman untuk pengurus koperasi'))).toContain('Ketik *semua*'.replace(/\*/g, ''));
    expect(textOf(await ask(t, STAFF, 'semua'))).toContain('semua koperasi');
    const preview = withButtons(await ask(t, STAFF, 'Undangan rapat koordinasi RAT serentak.'));
    expect(textOf(await ask(t, STAFF, 'nggih'))).toContain('sudah diantrekan');
    const queued = await t.service.app.db.outboxMessage.count();
    expect(queued).toBeGreaterThan(0);
    expect(textOf(await press(t, STAFF, preview, 'Ya, kirim'))).toContain('Tombol itu dari pesan sebelumnya');
    expect(await t.service.app.db.outboxMessage.count()).toBe(queued);
    // The stale preview button reopened the officer menu: the first menu's button is that same
    // question again, so it is answered: the participants of the demo's bimtek for boards.
    expect(textOf(await press(t, STAFF, menu, 'Peserta bimtek'))).toMatch(/Bimtek Penyusunan Laporan RAT \(.+\)\nPeserta: \d+\/40/);
  });
});
