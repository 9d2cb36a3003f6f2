/**
 * Every member flow end to end through the terminal channel's code path, against a real
 * SQLite file seeded with the demo cooperative.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, STORES, type TestApp } from '../helpers/app.ts';
import { DEMO_KOPERASI, DEMO_PHONES, seedDemo } from '../../src/persistence/seed-demo.ts';
import { issueActivationCode } from '../../src/domain/activation-codes.ts';
import { formatRupiah } from '../../src/core/format.ts';

describe.each(STORES)('with the $name store', ({ hotPath, postgres }) => {
  let app: TestApp;
  const SITI = DEMO_PHONES.siti;
  const AHMAD = DEMO_PHONES.ahmad;
  const HASAN = DEMO_PHONES.hasan;

  beforeEach(async () => {
    app = await createTestApp(undefined, { hotPath, postgres });
    await seedDemo(app.db, app.clock.now);
  });
  afterEach(async () => {
    await app.dispose();
  });

  describe('main menu and help', () => {
    it('greets with a numbered menu and lets a number pick a service', async () => {
      const menu = await app.say(SITI, 'halo');
      expect(menu).toContain('Halo, Siti!');
      expect(menu).toContain('1. Cek simpanan');
      expect(await app.say('6289900001111', 'halo')).toMatch(/^Halo! Silakan pilih/);
      expect(menu).toContain('3. Jadwal RAT');
      const savings = await app.say(SITI, '1');
      expect(savings).toContain('*Simpanan Siti Aminah*');
    });

    it('answers bantuan with examples and the menu', async () => {
      const reply = await app.say(SITI, 'bantuan');
      expect(reply).toContain('cek saldo');
      expect(reply).toContain('1. Cek simpanan');
    });

    it('offers the menu for text it does not understand', async () => {
      const reply = await app.say(SITI, 'asdfgh qwerty');
      expect(reply).toContain('Maaf, saya belum mengerti');
      expect(reply).toContain('1. Cek simpanan');
    });

    it('keeps an open question open when the answer is not understood', async () => {
      await app.say(SITI, 'kapan rat');
      const again = await app.say(SITI, 'hmm qwerty');
      expect(again).toMatch(/^Maaf, saya belum menangkap jawaban Anda/);
      expect(again).toContain('2. Tidak hadir');
      expect(again).not.toContain('Acara:');
      expect(await app.say(SITI, 'belum tau, nanti sy kabari')).toContain('silakan jawab nanti');
      expect(await app.db.meetingAttendance.count()).toBe(0);
      await app.say(SITI, 'rat');
      expect(await app.say(SITI, 'kapan rat')).toContain('Acara:'); // asked again: the whole answer
      expect(await app.say(SITI, 'insya allah')).toContain('sudah kami catat');
    });

    it('answers two questions asked at once', async () => {
      const reply = await app.say(AHMAD, 'saldo dan utang saya');
      expect(reply).toContain('*Simpanan Ahmad Fauzi*');
      expect(reply).toContain('*Pinjaman Ahmad Fauzi*');
      expect(reply.match(/Ketik \*menu\*/g)).toHaveLength(1);
    });

    it('says so for a number that is not on the main menu', async () => {
      const reply = await app.say(SITI, '9');
      expect(reply).toContain('Ketik angka 1 sampai 8');
      expect(reply).toContain('1. Cek simpanan');
    });

    it('says so when a number is not on the menu that is waiting', async () => {
      await app.say(SITI, 'rat');
      const reply = await app.say(SITI, '7');
      expect(reply).toContain('Pilihan itu tidak ada');
      expect(reply).toContain('2. Tidak hadir');
    });
  });

  describe('savings', () => {
    it('shows each kind, the total, the as-of date and the latest movements in rupiah', async () => {
      const reply = await app.say(SITI, 'cek sldo');
      expect(reply).toContain('• Simpanan Pokok: Rp100.000');
      expect(reply).toContain('• Simpanan Wajib: Rp4.200.000');
      expect(reply).toContain('• Simpanan Sukarela: Rp1.250.000');
      expect(reply).toContain('• Simpanan Hari Raya: Rp600.000');
      expect(reply).toContain('*Total: Rp6.150.000*');
      expect(reply).toContain('Saldo per 22 November 2026');
      expect(reply).toContain('Transaksi terakhir:');
      expect(reply).toContain('-Rp500.000 (penarikan)');
      expect(reply).not.toMatch(/\d,\d{2}\b/); // no decimals, no floating point
    });

    it('lists the five latest movements, newest first, and of one day the one entered last first', async () => {
      const member = await app.db.member.findFirstOrThrow({ where: { phone: SITI } });
      // Two movements on the day of the newest one: the order of entry decides between them.
      const latest = await app.db.savingsTransaction.findFirstOrThrow({ where: { account: { memberId: member.id } }, orderBy: [{ date: 'desc' }, { id: 'desc' }] });
      await app.db.savingsTransaction.create({ data: { accountId: latest.accountId, date: latest.date, amount: 25_000n, balanceAfter: latest.balanceAfter + 25_000n, description: 'setoran' } });
      const expected = await app.db.savingsTransaction.findMany({
        where: { account: { memberId: member.id } },
        orderBy: [{ date: 'desc' }, { id: 'desc' }],
        take: 6,
        include: { account: true },
      });
      const reply = await app.say(SITI, 'saldo');
      const lines = reply.split('\n').filter((line) => line.startsWith('• ') && line.includes(' · '));
      expect(lines.map((line) => line.split(' · ')[1])).toEqual(
        expected.slice(0, 5).map((t) => `${t.account.label}: ${t.amount > 0n ? '+' : ''}${formatRupiah(t.amount)} (${t.description})`),
      );
      expect(lines[0]).toContain('+Rp25.000');
    });

    it('handles balances beyond 32 bits', async () => {
      const member = await app.db.member.findFirstOrThrow({ where: { phone: SITI } });
      await app.db.savingsAccount.update({ where: { memberId_kind: { memberId: member.id, kind: 'sukarela' } }, data: { balance: 12_345_678_901_234n } });
      const reply = await app.say(SITI, 'saldo');
      expect(reply).toContain('Rp12.345.678.901.234');
    });
  });

  describe('loans', () => {
    it('shows outstanding principal, the next installment with its split and due date', async () => {
      const reply = await app.say(SITI, 'sisa utang brp');
      expect(reply).toContain('*No. PJ-2026-0012*');
      expect(reply).toContain('Sisa pokok: Rp7.083.338');
      expect(reply).toContain('Angsuran ke-8 dari 24: Rp516.666 (pokok Rp416.666 + jasa Rp100.000)');
      expect(reply).toContain('Jatuh tempo angsuran: Selasa, 22 Desember 2026 (30 hari lagi)');
      expect(reply).toContain('Tidak ada tunggakan');
    });

    it('highlights arrears with the late fee and collectibility', async () => {
      const reply = await app.say(AHMAD, 'pinjaman');
      expect(reply).toContain('⚠️ *Tunggakan: Rp1.550.000* + denda Rp46.500');
      expect(reply).toContain('kolektibilitas: dalam perhatian khusus');
      expect(reply).toContain('Jatuh tempo angsuran: Selasa, 22 September 2026 (terlambat 61 hari)');
    });

    it('tells a member without loans so', async () => {
      expect(await app.say(HASAN, '1')).toContain('beberapa keanggotaan'); // verify first
      await app.say(HASAN, '1');
      expect(await app.say(HASAN, 'pinjaman')).toContain('tidak memiliki pinjaman aktif');
    });
  });

  describe('RAT', () => {
    it('shows date, place and agenda and records attendance', async () => {
      const detail = await app.say(SITI, 'kapan rat');
      expect(detail).toContain('Rapat Anggota Tahunan (RAT) Tahun Buku 2026');
      expect(detail).toContain('Sabtu, 9 Januari 2027, 09.00 WIB');
      expect(detail).toContain('Aula KPRI Sejahtera');
      expect(detail).toContain('2. Laporan pertanggungjawaban pengurus tahun buku 2026');
      expect(detail).toContain('Anda belum mengonfirmasi kehadiran.');
      const confirmed = await app.say(SITI, 'ya hadir');
      expect(confirmed).toContain('kehadiran Anda di RAT (Sabtu, 9 Januari 2027, 09.00 WIB) sudah kami catat');
      const member = await app.db.member.findFirstOrThrow({ where: { phone: SITI } });
      const rows = await app.db.meetingAttendance.findMany({ where: { memberId: member.id } });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.attending).toBe(true);
      expect(await app.say(SITI, 'rat')).toContain('Konfirmasi Anda: *hadir*.');
    });

    it('understands "ga bisa hadir" as not attending and lets the member change the answer', async () => {
      await app.say(SITI, 'rapat anggota');
      expect(await app.say(SITI, 'ga bisa hadir')).toContain('tercatat *tidak hadir*');
      await app.say(SITI, 'rat');
      await app.say(SITI, '1');
      const rows = await app.db.meetingAttendance.findMany();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.attending).toBe(true);
    });

    it('reads where the negation stands, and records an answer given in the request itself', async () => {
      await app.say(SITI, 'rat');
      expect(await app.say(SITI, 'saya hadir, tidak ada halangan')).toContain('sudah kami catat');
      await app.say(SITI, 'rat');
      expect(await app.say(SITI, 'tidak, saya hadir kok')).toContain('belum menangkap jawaban');
      const changed = await app.say(SITI, 'eh ga jadi, sy ga bisa dateng soalnya ada hajatan');
      expect(changed).toContain('tercatat *tidak hadir*');
      const rows = await app.db.meetingAttendance.findMany();
      expect(rows.map((r) => r.attending)).toEqual([false]);
      expect(await app.say(AHMAD, 'insyaallah hadir RAT nya')).toContain('sudah kami catat');
    });

    it('keeps the attendance question open after a bare "ok", and records a "no" typed later', async () => {
      await app.say(SITI, 'rat');
      expect(await app.say(SITI, 'ok')).toContain('2. Tidak hadir');
      expect(await app.say(SITI, 'hadir?')).not.toContain('sudah kami catat');
      expect(await app.say(SITI, '2')).toContain('tercatat *tidak hadir*');
      expect(await app.say(AHMAD, 'rat tak bisa datang')).toContain('tercatat *tidak hadir*');
      expect((await app.db.meetingAttendance.findMany()).map((r) => r.attending)).toEqual([false, false]);
      expect(await app.say(SITI, 'rat')).toContain('Ingin mengubah jawaban?');
    });

    it('says when no RAT is scheduled', async () => {
      await app.db.meeting.deleteMany();
      expect(await app.say(SITI, 'kapan rat')).toContain('belum ditetapkan');
    });

    it('says when the last RAT has been held', async () => {
      app.clock.now = new Date('2027-02-01T03:00:00Z');
      const past = await app.say(SITI, 'rat');
      expect(past).toContain('RAT tahun buku 2026 sudah dilaksanakan pada Sabtu, 9 Januari 2027, 09.00 WIB di Aula KPRI Sejahtera');
      expect(past).toContain('4. Pembagian SHU tahun buku 2026');
    });
  });

  describe('bimtek', () => {
    it('lists trainings open to members', async () => {
      const reply = await app.say(SITI, 'info pelatihan');
      expect(reply).toContain('Bimtek Literasi Keuangan Anggota Koperasi');
      expect(reply).not.toContain('Penyusunan Laporan RAT'); // for boards only
    });

    it("lists only the trainings whose audience takes in the member's cooperative (type, district), soonest first, none past", async () => {
      const at = (days: number) => new Date(app.clock.now.getTime() + days * 24 * 3600_000);
      const event = (title: string, days: number, audience: { koperasiTypes?: string; districts?: string } = {}) =>
        app.db.event.create({ data: { title, topic: 'Topik', startsAt: at(days), place: 'Aula', capacity: 30, forMembers: true, organiser: 'Dinas', ...audience } });
      await event('Pelatihan KPRI Kraksaan', 9, { koperasiTypes: 'kpri, ksp', districts: 'Kraksaan' });
      await event('Pelatihan KSU', 3, { koperasiTypes: 'KSU' });
      await event('Pelatihan Paiton', 4, { districts: 'Paiton' });
      await event('Pelatihan untuk semua', 2);
      await event('Pelatihan yang sudah lewat', -1);
      // Siti is of KPRI Sejahtera Kraksaan (KPRI, Kraksaan).
      const reply = await app.say(SITI, 'info pelatihan');
      const listed = ['Pelatihan untuk semua', 'Pelatihan KPRI Kraksaan', 'Bimtek Literasi Keuangan Anggota Koperasi'].map((t) => reply.indexOf(t));
      expect(listed.every((i) => i >= 0)).toBe(true);
      expect(listed[0]!).toBeLessThan(listed[1]!);
      for (const other of ['Pelatihan KSU', 'Pelatihan Paiton', 'sudah lewat']) expect(reply).not.toContain(other);
    });
  });

  describe('complaints and ratings', () => {
    it('files a complaint with a ticket number kept in the database', async () => {
      expect(await app.say(SITI, 'pengaduan')).toContain('tulis pengaduan');
      const text = 'Setoran wajib bulan Oktober belum tercatat 🙏 mohon dicek';
      const reply = await app.say(SITI, text);
      const ticket = /tiket \*(ADU\d{4}-\d{5})\*/.exec(reply)?.[1];
      expect(ticket).toBeDefined();
      const row = await app.db.complaint.findUniqueOrThrow({ where: { ticket: ticket! } });
      expect(row.text).toBe(text);
      expect(row.status).toBe('BARU');
    });

    it('files a complaint told in the first message without asking for it again', async () => {
      const text = 'sy mau komplen, kemarin sudah setor angsuran 500rb tapi belum tercatat di buku';
      const reply = await app.say(AHMAD, text);
      expect(reply).toContain('nomor tiket');
      expect((await app.db.complaint.findFirstOrThrow()).text).toBe(text);
    });

    it('files a short complaint told in one message, for the cooperative it names', async () => {
      expect(await app.say(SITI, 'pengaduan, bunga pinjaman terlalu tinggi')).toContain('nomor tiket');
      await app.say(HASAN, 'saldo');
      await app.say(HASAN, '1');
      await app.say(HASAN, 'pengaduan');
      expect(await app.say(HASAN, 'di KSU Paiton pelayanan kasirnya lambat sekali')).toContain('nomor tiket');
      const complaints = await app.db.complaint.findMany({ orderBy: { id: 'asc' }, include: { koperasi: true } });
      expect(complaints.map((c) => c.koperasi.code)).toEqual(['KPRI-SEJAHTERA', 'KSU-MAJU-BERSAMA']);
    });

    it('does not file a complaint the member did not make', async () => {
      for (const text of ['alhamdulillah ga ada masalah, pelayanan bagus, makasih ya min', 'sy mau lapor nih tapi nanti aja deh kalau sempat', 'jadi anggota koperasi enak ya min, makasih banyak']) {
        await app.say(SITI, text);
        await app.say(SITI, 'menu');
      }
      expect(await app.db.complaint.count()).toBe(0);
    });

    it('tells a member the status of their own complaints only', async () => {
      await app.say(SITI, 'pengaduan');
      const filed = await app.say(SITI, 'Setoran wajib bulan Oktober belum tercatat di buku saya');
      const ticket = /(ADU\d{4}-\d{5})/.exec(filed)![1]!;
      const status = await app.say(SITI, `nomor tiket ${ticket} sdh sampe mana`);
      expect(status).toContain(`${ticket} (22 November 2026): diterima, menunggu tindak lanjut`);
      expect(await app.say(AHMAD, `status pengaduan ${ticket}`)).toContain('Belum ada pengaduan dari Anda');
    });

    it('shows a member their five latest complaints, newest first', async () => {
      const member = await app.db.member.findFirstOrThrow({ where: { phone: SITI } });
      for (let i = 1; i <= 6; i++) {
        await app.db.complaint.create({ data: { ticket: `ADU2611-0000${i}`, koperasiId: member.koperasiId, memberId: member.id, channel: 'terminal', text: `keluhan ${i}` } });
      }
      const status = await app.say(SITI, 'status pengaduan');
      const tickets = status.match(/ADU2611-\d{5}/g);
      expect(tickets).toEqual(['ADU2611-00006', 'ADU2611-00005', 'ADU2611-00004', 'ADU2611-00003', 'ADU2611-00002']);
    });

    it('lets a member leave the complaint prompt with a short "balik menu"', async () => {
      await app.say(SITI, 'pengaduan');
      expect(await app.say(SITI, 'balik menu')).toContain('1. Cek simpanan');
      expect(await app.db.complaint.count()).toBe(0);
    });

    it('can be cancelled, and asks again when the complaint is too short', async () => {
      await app.say(SITI, 'komplain');
      expect(await app.say(SITI, 'ok sip')).toContain('terlalu singkat');
      expect(await app.say(SITI, 'batal')).toContain('kembali ke menu utama');
      expect(await app.db.complaint.count()).toBe(0);
    });

    it('refuses an over-long complaint without losing the conversation', async () => {
      await app.say(SITI, 'pengaduan');
      expect(await app.say(SITI, 'x'.repeat(2500))).toContain('terlalu panjang');
      expect(await app.say(SITI, 'Mohon info pencairan SHU tahun lalu kapan')).toContain('nomor tiket');
    });

    it('does not take a number in an unrelated sentence as a rating', async () => {
      await app.say(SITI, 'beri nilai');
      expect(await app.say(SITI, '3 hari lalu sy ke kantor')).toContain('1 sampai 5');
      expect(await app.say(SITI, 'sy kasih 4 deh')).toContain('nilai 4');
      expect((await app.db.rating.findMany()).map((r) => r.score)).toEqual([4]);
    });

    it('answers two quick messages of one chat in order', async () => {
      const message = (text: string) => ({ channel: 'terminal', externalUserId: SITI, chatId: SITI, chatType: 'private' as const, text, verifiedPhone: SITI });
      const [first, second] = await Promise.all([
        app.engine.handle(message('pengaduan')),
        app.engine.handle(message('Kartu anggota saya hilang, mohon dibuatkan yang baru')),
      ]);
      expect(first.replies[0]!.text).toContain('tulis pengaduan');
      expect(second.replies[0]!.text).toContain('nomor tiket');
    });

    it('records a rating given in the request itself', async () => {
      expect(await app.say(SITI, 'sy kasih nilai 5 buat pelayanannya')).toContain('nilai 5');
      expect((await app.db.rating.findFirstOrThrow()).score).toBe(5);
    });

    it('records a rating from a digit, a word or stars, and asks again for nonsense', async () => {
      await app.say(SITI, 'beri nilai');
      expect(await app.say(SITI, 'hmm entahlah')).toContain('1 sampai 5');
      expect(await app.say(SITI, '⭐⭐⭐⭐⭐')).toContain('nilai 5');
      await app.say(SITI, 'rating');
      expect(await app.say(SITI, 'dua')).toContain('Mohon maaf layanan kami belum memuaskan');
      const scores = (await app.db.rating.findMany({ orderBy: { id: 'asc' } })).map((r) => r.score);
      expect(scores).toEqual([5, 2]);
    });
  });

  describe('announcements and language', () => {
    it('stops and resumes announcements', async () => {
      expect(await app.say(SITI, 'stop')).toContain('tidak akan menerima pengumuman');
      let member = await app.db.member.findFirstOrThrow({ where: { phone: SITI } });
      expect(member.optOutAnnouncements).toBe(true);
      expect(await app.say(SITI, 'pengumuman')).toContain('*nonaktif*');
      expect(await app.say(SITI, 'langganan')).toContain('diaktifkan kembali');
      member = await app.db.member.findFirstOrThrow({ where: { phone: SITI } });
      expect(member.optOutAnnouncements).toBe(false);
    });

    it('stops announcements for every membership of the phone, and tells a stranger plainly', async () => {
      expect(await app.say(HASAN, 'jangan kirim pengumuman lagi')).toContain('tidak akan menerima pengumuman');
      const memberships = await app.db.member.findMany({ where: { phone: HASAN } });
      expect(memberships.map((m) => m.optOutAnnouncements)).toEqual([true, true]);
      expect(await app.say('6289911113333', 'stop')).toContain('tidak terdaftar sebagai penerima pengumuman');
    });

    it('offers only the useful announcement choice', async () => {
      const on = await app.say(SITI, 'pengumuman');
      expect(on).toContain('*aktif*');
      expect(on).toContain('Ingin menghentikannya?');
      expect(on).toContain('1. Ya, hentikan pengumuman');
      expect(on).toContain('2. Tidak, biarkan aktif');
      expect(await app.say(SITI, 'tidak usah, biarkan aktif saja')).toContain('tidak diubah');
      expect((await app.db.member.findFirstOrThrow({ where: { phone: SITI } })).optOutAnnouncements).toBe(false);
      await app.say(SITI, 'pengumuman');
      expect(await app.say(SITI, 'ya')).toContain('tidak akan menerima pengumuman');
      expect(await app.say(SITI, 'stop')).toContain('sudah nonaktif');
    });

    it('answers a salam, and greets by first name without honorifics', async () => {
      expect(await app.say(SITI, 'Assalamualaikum')).toMatch(/^Waalaikumsalam warahmatullahi wabarakatuh\.\n\nHalo, Siti!/);
      await app.say(HASAN, 'saldo');
      await app.say(HASAN, 'yg KSU');
      expect(await app.say(HASAN, 'menu')).toContain('Halo, Hasan!');
    });

    it('switches to English and back, and remembers the choice', async () => {
      await app.say(SITI, 'bahasa');
      expect(await app.say(SITI, 'english')).toContain('Language changed to English.');
      const savings = await app.say(SITI, 'check balance');
      expect(savings).toContain('*Savings of Siti Aminah*');
      expect(savings).toContain('Balances as of 22 November 2026');
      await app.say(SITI, 'language');
      expect(await app.say(SITI, '1')).toContain('Bahasa sudah diganti ke Bahasa Indonesia.');
    });
  });

  describe('identity', () => {
    it('answers for the cooperative a member of two names in the message', async () => {
      await app.say(HASAN, 'saldo');
      await app.say(HASAN, '1');
      const reply = await app.say(HASAN, 'saldo yg di ksu brp');
      expect(reply).toContain('KSU Maju Bersama Paiton');
      expect(reply).toContain('Rp780.000');
      expect(await app.say(HASAN, 'sekarang liat yg di kpri')).toContain('sekarang Anda melihat data di KPRI Sejahtera Kraksaan');
    });

    it('lets a member of two cooperatives switch between them', async () => {
      await app.say(HASAN, 'saldo');
      expect(await app.say(HASAN, 'no 1')).toContain('KPRI Sejahtera Kraksaan');
      expect(await app.say(HASAN, 'ganti koperasi')).toContain('beberapa keanggotaan');
      await app.say(HASAN, 'paiton');
      expect(await app.say(HASAN, 'saldo')).toContain('KSU Maju Bersama Paiton');
      expect(await app.say(SITI, 'ganti koperasi')).toContain('hanya terdaftar di satu koperasi (KPRI Sejahtera Kraksaan)');
    });

    it('asks a member of two cooperatives to choose, then shows the chosen one only', async () => {
      const ask = await app.say(HASAN, 'saldo');
      expect(ask).toContain('1. KPRI Sejahtera Kraksaan (No. anggota 003)');
      expect(ask).toContain('2. KSU Maju Bersama Paiton (No. anggota KSU-0117)');
      const reply = await app.say(HASAN, '2');
      expect(reply).toContain('KSU Maju Bersama Paiton');
      expect(reply).toContain('Rp780.000');
      expect(reply).not.toContain('Rp2.400.000');
    });

    it('verifies a member without a phone on file by activation code', async () => {
      const { code } = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      const phone = '6285700000004';
      expect(await app.say(phone, 'saldo')).toContain('kode aktivasi');
      expect(await app.say(phone, '004')).toContain('ketik kode aktivasi');
      const welcome = await app.say(phone, code.toLowerCase());
      expect(welcome).toContain('Terima kasih, Nur Hayati');
      expect(welcome).toContain('Simpanan Wajib: Rp1.200.000');
      // The code is spent.
      expect(await app.say('6285700000005', 'saldo')).toContain('kode aktivasi');
      await app.say('6285700000005', '004');
      expect(await app.say('6285700000005', code)).toContain('tidak cocok');
    });

    it('remembers a conversation across a restart', async () => {
      await app.say(SITI, 'pengaduan');
      await app.close();
      const { createApp } = await import('../../src/app.ts');
      const { createLogger } = await import('../../src/logger.ts');
      const again = await createApp({ ...app.env, LOG_LEVEL: 'silent' }, { clock: () => app.clock.now, logger: createLogger('silent'), hotPath });
      const { answerLine } = await import('../../src/channels/terminal/terminal-channel.ts');
      const reply = (await answerLine(again.engine, SITI, 'Kartu anggota saya hilang, bagaimana menggantinya?')).join('\n');
      expect(reply).toContain('nomor tiket');
      await again.close();
      app.close = async () => {};
    });

    it('tells a member who left that the membership is inactive', async () => {
      expect(await app.say(DEMO_PHONES.bambang, 'saldo')).toContain('sudah tidak aktif');
    });

    it('starts the activation route when a phone not on file types its member number', async () => {
      const { code } = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      const phone = '6285700000055';
      expect(await app.say(phone, '004')).toContain('kode aktivasi dari pengurus');
      expect(await app.say(phone, code)).toContain('Nur Hayati');
    });

    it('finds the member number in a sentence', async () => {
      const { code } = await issueActivationCode(app.domain, { koperasiCode: DEMO_KOPERASI, memberNumber: '004', actor: 'test', now: app.clock.now });
      const phone = '6285700000044';
      await app.say(phone, 'saldo');
      expect(await app.say(phone, 'sy nur hayati no anggota 004, tolong cek saldo sy')).toContain('kode aktivasi dari pengurus');
      expect(await app.say(phone, `kodenya ${code}`)).toContain('Nur Hayati');
    });

    it('says it shows only the member’s own data when asked for someone else’s', async () => {
      const reply = await app.say(SITI, 'cek saldo anggota no 002 ahmad fauzi');
      expect(reply).toMatch(/^Demi kerahasiaan, saya hanya bisa menampilkan data Anda sendiri\./);
      expect(reply).toContain('*Simpanan Siti Aminah*');
      expect(await app.say(SITI, 'saldo no anggota 001')).not.toContain('Demi kerahasiaan');
    });

    it('forgets a half-finished flow after the idle time', async () => {
      await app.say(SITI, 'pengaduan');
      app.clock.now = new Date(app.clock.now.getTime() + 16 * 60_000);
      const reply = await app.say(SITI, 'pinjaman saya sisa berapa ya sekarang');
      expect(reply).toContain('PJ-2026-0012'); // understood fresh as a loan question
      expect(await app.db.complaint.count()).toBe(0);
    });
  });

  describe('odd input', () => {
    it('survives emoji, a huge message and blank text', async () => {
      expect(await app.say(SITI, '🙏🙏🙏')).toContain('Sama-sama');
      expect(await app.say(SITI, '🤷‍♀️')).toContain('1. Cek simpanan');
      expect(await app.say(SITI, 'saldo '.repeat(5000))).toContain('terlalu panjang');
      expect(await app.say(SITI, '1️⃣')).toContain('*Simpanan Siti Aminah*');
      expect(await app.send({ channel: 'terminal', externalUserId: SITI, chatId: SITI, chatType: 'private', verifiedPhone: SITI })).toContain('Maaf, saya belum mengerti');
    });

    it('apologises plainly when the database fails, and keeps serving', async () => {
      const original = app.services.ledger.savingsSummary;
      app.services.ledger.savingsSummary = async () => {
        throw new Error('disk I/O error');
      };
      expect(await app.say(SITI, 'saldo')).toBe('Maaf, sedang ada gangguan di sistem kami. Silakan coba beberapa saat lagi.');
      expect(app.logs.join('')).toContain('disk I/O error');
      app.services.ledger.savingsSummary = original;
      expect(await app.say(SITI, 'saldo')).toContain('Rp6.150.000');
    });
  });
});
