/**
 * The `kopbot` command line. Thin: parse arguments, call the same services the bot uses,
 * print a one-line summary, exit 0 only on success.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, loadConfig, quietHoursOf, type Config } from '../config.ts';
import { normalizePhone, displayPhone } from '../core/phone.ts';
import { formatDateTime, parseIsoInstant } from '../core/format.ts';
import { DatabaseError, DiskFullError, isDiskFullError } from '../persistence/faults.ts';
import { DatabaseBusyError, isBusyError } from '../persistence/busy.ts';
import { describeColumns, IMPORT_KINDS, KIND_NAMES } from '../import/columns.ts';
import type { ImportPhase } from '../import/import-file.ts';
import { parseDate } from '../import/values.ts';
import { favourSmallHeap } from '../import/heap.ts';
import type { JobName } from '../jobs/job.ts';
import { inIndonesian } from './indonesian.ts';
import { FLOWS_DIR } from '../core/flows/dir.ts';
// Everything heavier (Prisma, Baileys, telegraf, exceljs) is loaded by the command that needs
// it, so `kopbot --help` and a typo answer at once.
type App = Awaited<ReturnType<typeof import('../app.ts').createApp>>;


/** How `jobs run-due` names each job to a clerk. */
const JOB_LABELS: Record<JobName, string> = {
  rat_reminders: 'Pengingat RAT',
  gempur_reminders: 'Pengingat Gempur Koperasi',
  installment_reminders: 'Pengingat angsuran',
  bimtek_invitations: 'Undangan bimtek',
  bimtek_reminders: 'Pengingat bimtek',
};

/** Errors from lazily loaded modules whose message is the sentence to show, known by their class name. */
const USER_FACING_ERRORS = new Set(['StartupError', 'DomainError', 'MissingTextError']);

/** An error whose message is already the sentence the user should read. */
class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

function config(): Config {
  return loadConfig(process.env);
}

async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const cfg = config();
  const [{ createApp }, { createLogger }] = await Promise.all([import('../app.ts'), import('../logger.ts')]);
  // Commands keep stdout for their own output; logs go to stderr and only when something is wrong.
  const app = await createApp(cfg, { logger: createLogger(cfg.LOG_LEVEL === 'info' ? 'warn' : cfg.LOG_LEVEL) });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** The --laporan file must be writable and must not be the file being imported: checked before anything is read. */
function checkReportPath(report: string, input: string): void {
  const target = resolve(report);
  if (target === resolve(input)) throw new UserError(`--laporan ${report} adalah berkas yang diimpor; pilih nama lain untuk laporannya, misalnya laporan-impor.csv.`, 2);
  if (existsSync(target) && statSync(target).isDirectory()) throw new UserError(`--laporan ${report} adalah folder; sebutkan nama berkas, misalnya ${join(report, 'laporan-impor.csv')}.`, 2);
  if (!existsSync(dirname(target))) throw new UserError(`--laporan: folder ${dirname(report)} tidak ada; laporan tidak bisa ditulis di sana.`, 2);
}

/** Progress of an import on a terminal: reading, checking, writing; nothing in a pipe. */
function importProgress(file: string): ((phase: ImportPhase, done: number, total: number | null) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const labels: Record<ImportPhase, string> = { read: `Membaca dan memeriksa ${file}`, check: 'Mencocokkan dengan basis data', write: 'Menyimpan' };
  let last: ImportPhase | null = null;
  return (phase, done, total) => {
    if (last !== null && last !== phase) process.stderr.write('\n');
    last = phase;
    const n = done.toLocaleString('id-ID');
    const of = total === null ? '' : `/${total.toLocaleString('id-ID')}`;
    const percent = total ? ` (${Math.floor((done * 100) / total)}%)` : '';
    process.stderr.write(phase === 'check' ? `${labels[phase]}…` : `\r${labels[phase]}: ${n}${of} baris${percent}`);
    if (phase === 'write' && done === total) process.stderr.write('\n');
  };
}

function buildProgram(): Command {
  const program = new Command()
    .name('kopbot')
    .description('Layanan anggota koperasi lewat WhatsApp, Telegram dan terminal.')
    .showHelpAfterError('(ketik kopbot --help untuk bantuan)')
    .exitOverride();

  program
    .command('start')
    .description('Menjalankan layanan (yang dijalankan npm start): basis data, server HTTP, bot Telegram bila TELEGRAM_BOT_TOKEN diisi, dan WhatsApp bila WHATSAPP_ENABLED=true (kode QR tampil di terminal saat pertama kali).')
    .action(async () => {
      const cfg = config();
      const [{ createLogger }, { startService }] = await Promise.all([import('../logger.ts'), import('../service.ts')]);
      const logger = createLogger(cfg.LOG_LEVEL);
      const service = await startService(cfg, logger);
      // Listening before saying it runs: a supervisor's SIGTERM right after the line still stops cleanly.
      const stopped = new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stderr.write(
        `Layanan koperasi berjalan di port ${service.port} (basis data ${cfg.DATABASE_URL}). Tekan Ctrl+C untuk berhenti.\n`,
      );
      if ((await service.app.imports.someKoperasi(1)).length === 0) {
        process.stderr.write(
          'Basis data masih kosong. Coba: npx kopbot seed --demo, lalu npx kopbot chat --as 0812-3456-7801 (atau impor data: npx kopbot import --help).\n',
        );
      }
      await stopped;
      // A second Ctrl+C or SIGTERM, or a stop that overruns its deadline, ends the process at once.
      const now = () => process.exit(1);
      process.once('SIGINT', now);
      process.once('SIGTERM', now);
      const overrun = setTimeout(() => {
        process.stderr.write('Layanan tidak berhenti dalam 15 detik; dihentikan paksa.\n');
        process.exit(1);
      }, 15_000);
      overrun.unref();
      await service.stop();
      // Stopped: whatever a library left running (a timer, a socket) must not keep the process alive.
      setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
    });

  program
    .command('seed')
    .description('Mengisi basis data dengan koperasi contoh.')
    .requiredOption('--demo', 'koperasi demo dengan anggota, simpanan, pinjaman, RAT dan bimtek')
    .action(async () => {
      await withApp(async (app) => {
        const { seedDemo, DEMO_OFFICERS } = await import('../persistence/seed-demo.ts');
        const summary = await seedDemo(app.db);
        const out = process.stdout;
        out.write(`Koperasi demo: ${summary.koperasi.join(', ')}\n`);
        out.write(`RAT: ${formatDateTime(summary.ratAt, config().TZ)}\n`);
        out.write('Coba percakapan sebagai anggota:\n');
        out.write(`  npx kopbot chat --as ${displayPhone(summary.phones.siti!)}   # Siti Aminah (simpanan, pinjaman lancar)\n`);
        out.write(`  npx kopbot chat --as ${displayPhone(summary.phones.ahmad!)}   # Ahmad Fauzi (pinjaman menunggak)\n`);
        out.write(`  npx kopbot chat --as ${displayPhone(summary.phones.hasan!)}   # Moh. Hasan (anggota dua koperasi)\n`);
        out.write('  lalu ketik, misalnya: cek saldo, sisa utang brp, kapan rat, laporan koperasi, shu saya brp\n');
        out.write('Coba menu petugas (ketik *pengurus* atau *dinas*):\n');
        out.write(`  npx kopbot chat --as ${displayPhone(DEMO_OFFICERS.board.phone)}   # ${DEMO_OFFICERS.board.name} (pengurus KPRI Sejahtera Kraksaan)\n`);
        out.write(`  npx kopbot chat --as ${displayPhone(DEMO_OFFICERS.dinas.phone)}   # ${DEMO_OFFICERS.dinas.name} (Dinas Koperasi)\n`);
        out.write(`Kode aktivasi anggota ${summary.activation.memberNumber} (Nur Hayati, tanpa nomor HP): ${summary.activation.code}\n`);
        out.write(`Data demo siap: ${summary.koperasi.length} koperasi, ${summary.members} anggota.\n`);
      });
    });

  program
    .command('chat')
    .description('Bercakap dengan bot sebagai pemilik nomor HP (satu pesan per baris; jawaban diakhiri baris ---).')
    .requiredOption('--as <PHONE>', 'nomor HP pengirim, dianggap terverifikasi seperti nomor WhatsApp')
    .action(async (options: { as: string }) => {
      const phone = normalizePhone(options.as);
      if (!phone.ok) throw new UserError(`Nomor HP "${options.as}" tidak sah: gunakan nomor seperti 0812-3456-7890.`, 2);
      await withApp(async (app) => {
        if (process.stdin.isTTY) process.stderr.write(`Anda bercakap sebagai ${displayPhone(phone.phone)}. Ketik pesan lalu Enter; Ctrl+D untuk keluar.\n`);
        const [{ runTerminalChat }, { serviceBaseUrl }] = await Promise.all([import('../channels/terminal/terminal-channel.ts'), import('../http/rat-documents.ts')]);
        // A RAT document is shown as a link to the service (kopbot start) on HOST:PORT.
        await runTerminalChat({ engine: app.engine, phone: phone.phone, input: process.stdin, output: process.stdout, baseUrl: serviceBaseUrl(config()) });
      });
    });

  const imports = program
    .command('import')
    .description('Mengimpor berkas CSV atau XLSX dari pembukuan: semua baris atau tidak sama sekali, dengan laporan per baris. Mengimpor berkas yang sama lagi memperbarui, tidak menggandakan.')
    .usage('JENIS BERKAS [--koperasi KODE]');
  for (const kind of IMPORT_KINDS) {
    const name = KIND_NAMES[kind];
    const command = imports
      .command(name)
      .description(`Mengimpor data ${name} dari berkas .csv atau .xlsx.`)
      .argument('<berkas>', 'berkas .csv atau .xlsx')
      .option('--laporan <BERKAS.csv>', 'tulis setiap masalah dan catatan ke berkas CSV untuk dibuka di Excel')
      .addHelpText('after', `\nKolom (judul tanpa membedakan huruf besar/kecil; baris judul laporan, baris JUMLAH dan tanda tangan dilewati):\n${describeColumns(kind).join('\n')}${kind === 'savings' ? '\n  atau satu baris per anggota: nomor_anggota dan satu kolom per jenis (Simpanan Pokok, Simpanan Wajib, Simpanan Sukarela, …), boleh dengan kolom Jumlah' : ''}`);
    if (kind !== name) command.alias(kind);
    if (kind !== 'koperasi') command.option('--koperasi <KODE>', 'kode koperasi (wajib bila ada lebih dari satu koperasi)');
    if (kind === 'savings') command.option('--per-tanggal <TANGGAL>', 'tanggal saldo bila berkas tidak menuliskannya, misalnya 31/10/2026');
    command.action(async (file: string, options: { koperasi?: string; laporan?: string; perTanggal?: string }) => {
      favourSmallHeap();
      if (options.laporan) checkReportPath(options.laporan, file);
      let asOf: string | undefined;
      if (options.perTanggal !== undefined) {
        const parsed = parseDate({ text: options.perTanggal });
        if (!parsed.ok) throw new UserError(`--per-tanggal: ${parsed.error}.`, 2);
        asOf = parsed.value;
      }
      await withApp(async (app) => {
        const [{ importFile }, { reportLines, summarize, writeReportCsv }] = await Promise.all([import('../import/import-file.ts'), import('../import/report.ts')]);
        const result = await importFile(app.imports, kind, file, {
          koperasiCode: options.koperasi,
          actor: 'cli',
          timeZone: config().TZ,
          asOf,
          onProgress: importProgress(file),
        });
        for (const line of reportLines(result)) process.stderr.write(`${line}\n`);
        if (options.laporan) {
          await writeReportCsv(options.laporan, result);
          process.stderr.write(`Laporan lengkap (${(result.problems.length + result.warnings.length).toLocaleString('id-ID')} baris) ditulis ke ${options.laporan}.\n`);
        }
        (result.ok ? process.stdout : process.stderr).write(`${summarize(result)}\n`);
        if (!result.ok) throw new UserError('', 1);
      });
    });
  }

  program
    .command('activation-code')
    .description('Menerbitkan kode aktivasi sekali pakai untuk anggota yang nomornya belum tercatat.')
    .requiredOption('--koperasi <CODE>', 'kode koperasi')
    .requiredOption('--member <NUMBER>', 'nomor anggota')
    .addOption(new Option('--days <N>', 'masa berlaku dalam hari').default('7').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 90) throw new UserError('--days harus 1 sampai 90.', 2);
      return String(n);
    }))
    .action(async (options: { koperasi: string; member: string; days: string }) => {
      await withApp(async (app) => {
        const { issueActivationCode } = await import('../domain/activation-codes.ts');
        const issued = await issueActivationCode(app.domain, {
          koperasiCode: options.koperasi,
          memberNumber: options.member,
          actor: 'cli',
          validDays: Number(options.days),
        });
        process.stdout.write(
          `Kode aktivasi untuk ${issued.memberName} (${options.member}): ${issued.code}, berlaku sampai ${formatDateTime(issued.expiresAt, config().TZ)}.\n`,
        );
      });
    });

  program
    .command('broadcast')
    .description('Mengantrekan pengumuman untuk semua anggota aktif sebuah koperasi (jalur yang sama dengan perintah pengurus lewat chat).')
    .requiredOption('--koperasi <CODE>', 'kode koperasi')
    .requiredOption('--text <TEXT>', 'isi pengumuman')
    .option('--at <ISO-8601>', 'waktu kirim, misalnya 2026-12-01T08:00+07:00 (bawaan: sekarang)')
    .action(async (options: { koperasi: string; text: string; at?: string }) => {
      await withApp(async (app) => {
        const [{ queueAnnouncement }, { inQuietHours, endOfQuietHours }] = await Promise.all([import('../domain/announcements.ts'), import('../outbox/dispatcher.ts')]);
        const queued = await queueAnnouncement(app.domain, { koperasiCode: options.koperasi, text: options.text, at: options.at, actor: 'cli', now: new Date() });
        // Queued at night, it goes out in the morning: the clerk is told when, in the
        // cooperative's own time (WIB, WITA or WIT), as its members' quiet hours are reckoned.
        const TZ = queued.timeZone;
        const quiet = quietHoursOf(config());
        const night = quiet !== null && inQuietHours(queued.sendAt, TZ, quiet);
        const from = night ? endOfQuietHours(queued.sendAt, TZ, quiet) : queued.sendAt;
        const hours = quiet ? `${String(quiet.from).padStart(2, '0')}.00–${String(quiet.to).padStart(2, '0')}.00` : '';
        process.stdout.write(
          `Pengumuman #${queued.broadcastId} diantrekan untuk ${queued.recipients.toLocaleString('id-ID')} anggota ${queued.koperasiName}, dikirim mulai ${formatDateTime(from, TZ)}${night ? ` (setelah jam tenang ${hours})` : ''}.\n`,
        );
      });
    });

  const rat = program.command('rat').description('Rapat Anggota Tahunan (RAT) koperasi.');
  rat
    .command('attach')
    .description('Melampirkan laporan RAT (laporan pertanggungjawaban) atau undangan RAT ke RAT koperasi, agar anggota bisa memintanya lewat chat ("laporan rat", "undangan rat"). Berkas PDF (atau foto JPG/PNG), paling besar 10 MB; jenis berkas diperiksa dari isinya. Melampirkan lagi jenis yang sama menggantikan berkas sebelumnya.')
    .argument('<berkas>', 'berkas .pdf (atau .jpg/.png)')
    .requiredOption('--koperasi <KODE>', 'kode koperasi')
    .addOption(new Option('--jenis <JENIS>', 'laporan atau undangan (bawaan: undangan bila nama berkas memuat "undangan", selain itu laporan)').choices(['laporan', 'undangan']))
    .option('--tahun-buku <TAHUN>', 'RAT tahun buku ini (bawaan: RAT yang akan datang, atau yang terakhir bila belum ada jadwal baru)')
    .action(async (file: string, options: { koperasi: string; jenis?: 'laporan' | 'undangan'; tahunBuku?: string }) => {
      let bookYear: number | undefined;
      if (options.tahunBuku !== undefined) {
        bookYear = Number(options.tahunBuku);
        if (!/^\d{4}$/.test(options.tahunBuku) || bookYear < 1990 || bookYear > 2100) throw new UserError(`--tahun-buku "${options.tahunBuku}" bukan tahun; contoh: --tahun-buku 2025.`, 2);
      }
      const { readFile, stat } = await import('node:fs/promises');
      const info = await stat(file).catch(() => null);
      if (!info) throw new UserError(`Berkas ${file} tidak ada.`, 2);
      if (!info.isFile()) throw new UserError(`${file} bukan berkas; sebutkan berkas PDF-nya, misalnya laporan-rat-2025.pdf.`, 2);
      const { attachRatDocument, checkDocumentSize, documentKindOf, formatFileSize } = await import('../domain/rat-documents.ts');
      checkDocumentSize(info.size); // before reading a file far too big into memory
      const kind = options.jenis ? (options.jenis === 'undangan' ? 'INVITATION' : 'REPORT') : documentKindOf(file.split(/[\\/]/).pop());
      const bytes = await readFile(file);
      await withApp(async (app) => {
        const attached = await attachRatDocument(app.domain, { koperasiCode: options.koperasi, kind, bytes, fileName: file, ...(bookYear !== undefined ? { bookYear } : {}), actor: 'cli', now: new Date() });
        const { meeting, koperasi, document } = attached;
        const what = kind === 'INVITATION' ? 'Undangan RAT' : 'Laporan RAT';
        const ask = kind === 'INVITATION' ? 'undangan rat' : 'laporan rat';
        const year = meeting.bookYear === null ? '' : ` tahun buku ${meeting.bookYear}`;
        const done = { attached: 'dilampirkan', replaced: 'dilampirkan, menggantikan berkas sebelumnya', unchanged: 'sudah terlampir (berkas yang sama), tidak ada yang berubah' }[attached.status];
        process.stdout.write(
          `${what}${year} ${koperasi.name} (RAT ${formatDateTime(meeting.startsAt, koperasi.timezone)}) ${done}: ${document.fileName}, ${formatFileSize(document.size)}. Anggota memintanya dengan "${ask}".\n`,
        );
      });
    });

  const outbox = program.command('outbox').description('Pesan yang dikirim bot atas inisiatifnya sendiri (pengumuman, pengingat, undangan).');
  outbox
    .command('drain')
    .description('Mengirim pesan antrean yang sudah waktunya, dengan batas kecepatan tiap saluran, lalu selesai.')
    .action(async () => {
      await withApp(async (app) => {
        const cfg = config();
        const [{ commandLineChannels, describeMissingChannels }, { OutboxDispatcher }] = await Promise.all([import('../outbox/setup.ts'), import('../outbox/dispatcher.ts')]);
        const { channels, elsewhere, close } = commandLineChannels(cfg, app.logger, process.stdout);
        const dispatcher = new OutboxDispatcher({ store: app.outbox, channels, elsewhere, logger: app.logger, quietHours: quietHoursOf(cfg) });
        const tty = process.stderr.isTTY;
        const summary = await dispatcher
          .drain(tty ? (s) => process.stderr.write(`\rMengirim: ${s.sent} terkirim, ${s.failed} gagal, ${s.skipped} dilewati`) : undefined)
          .finally(close);
        if (tty) process.stderr.write('\n');
        const left = await app.outbox.counts();
        process.stdout.write(
          `Outbox: ${summary.sent} terkirim, ${summary.failed} gagal, ${summary.skipped} dilewati, ${summary.retrying} dicoba lagi nanti, ${summary.deferred} ditunda (jam tenang atau menunggu WhatsApp di layanan); ${left.queued} masih antre.\n`,
        );
        // Rows for a channel this command lacks were never claimed: say so, and fail, so a
        // shell without TELEGRAM_BOT_TOKEN does not look like a finished broadcast.
        const missing = describeMissingChannels(await app.outbox.waitingFor(new Date(), dispatcher.reach), elsewhere);
        if (missing) throw new UserError(missing, 1);
      });
    });

  const jobs = program.command('jobs').description('Tugas terjadwal (pengingat dan undangan).');
  jobs
    .command('run-due')
    .description('Menjalankan sekali setiap tugas terjadwal yang sudah waktunya pada saat itu (kode yang sama dengan penjadwal layanan), lalu selesai.')
    .option('--now <ISO-8601>', 'saat yang dianggap sekarang, misalnya 2026-12-01T08:00+07:00')
    .action(async (options: { now?: string }) => {
      const now = options.now === undefined ? new Date() : parseInstant(options.now, '--now');
      await withApp(async (app) => {
        const { runDueJobs } = await import('../jobs/run-due.ts');
        const results = await runDueJobs({ domain: app.domain, now });
        for (const r of results) {
          if (r.error) process.stderr.write(`${JOB_LABELS[r.job]}: GAGAL. ${r.error.message}\n`);
          else process.stdout.write(`${JOB_LABELS[r.job]}: ${r.queued} pesan diantrekan (${r.occurrences} jadwal jatuh tempo).\n`);
        }
        const total = results.reduce((sum, r) => sum + r.queued, 0);
        process.stdout.write(`Tugas terjadwal pada ${formatDateTime(now, config().TZ)}: ${total} pesan baru di outbox; kirim dengan kopbot outbox drain (atau biarkan layanan mengirimnya).\n`);
        const failed = results.filter((r) => r.error).length;
        if (failed > 0) throw new UserError(`${failed} tugas gagal; lihat di atas.`, 1);
      });
    });

  const flows = program.command('flows').description('Alur percakapan di flows/.');
  flows
    .command('check')
    .description('Memeriksa flows/: YAML, skema, tujuan node, aksi dan pesan di setiap bahasa.')
    .option('--dir <DIR>', 'folder flows', FLOWS_DIR)
    .action(async (options: { dir: string }) => {
      const [{ loadFlows }, { FLOW_ACTION_NAMES, FLOW_CONDITION_ACTIONS }] = await Promise.all([import('../core/flows/load.ts'), import('../core/create-engine.ts')]);
      const bundle = loadFlows(options.dir, FLOW_ACTION_NAMES, FLOW_CONDITION_ACTIONS);
      process.stdout.write(
        `flows/ sah: ${Object.keys(bundle.nodes).length} node, ${bundle.intents.length} intent, ${Object.keys(bundle.messages.id).length} pesan per bahasa.\n`,
      );
    });

  return inIndonesian(program);
}

/** An ISO-8601 instant from the command line; without an offset it is read in TZ (Asia/Jakarta). */
function parseInstant(text: string, option: string): Date {
  const value = parseIsoInstant(text, config().TZ);
  if (!value) throw new UserError(`${option} "${text}" bukan waktu ISO-8601 yang sah; contoh: 2026-12-01T08:00+07:00 atau 2026-12-01T08:00.`, 2);
  return value;
}

/** Run the CLI; returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  // A closed pipe (`kopbot … | head`) is the reader's choice, not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help is a success; help shown because a command was missing ("kopbot import") is not.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : error.exitCode || 2;
    }
    if (error instanceof Error && error.name === 'FlowCheckError') {
      process.stderr.write(`${error.message}\n${(error as Error & { problems: unknown[] }).problems.length} masalah di flows/.\n`);
      return 1;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    if (error instanceof UserError) {
      if (error.message) process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    // A full disk is said as such, whichever layer met it (Prisma, better-sqlite3, a file write).
    if (isDiskFullError(error) && !(error instanceof DatabaseError)) {
      process.stderr.write(`${new DiskFullError().message}\n`);
      return 1;
    }
    if (
      error instanceof DatabaseError ||
      error instanceof DatabaseBusyError ||
      (error instanceof Error && USER_FACING_ERRORS.has(error.constructor.name))
    ) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    if (isBusyError(error)) {
      process.stderr.write(`${new DatabaseBusyError().message}\n`);
      return 1;
    }
    // One sentence for the user; the details for whoever reads the logs (LOG_LEVEL=debug shows the stack).
    const message = ((error as Error).message ?? String(error)).split('\n').find((line) => line.trim() !== '') ?? String(error);
    process.stderr.write(`Kesalahan tak terduga: ${message.trim()}\n`);
    if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return 1;
  }
}
