/**
 * A conversation's state is saved with compare-and-set on its version: of two instances
 * answering one chat at once, the later save never overwrites the fresher state; that turn is
 * answered again from a fresh load instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { createEngine } from '../../src/core/create-engine.ts';
import { ACTION_NAMES, ONCE_ONLY_ACTIONS } from '../../src/core/actions/index.ts';
import { StaleSessionError, type Services, type SessionState } from '../../src/core/ports.ts';
import { openDatabase, type Db } from '../../src/persistence/database.ts';
import { createServices } from '../../src/persistence/services.ts';
import { useActivationCodeKey } from '../../src/persistence/activation-code-key.ts';
import { terminalMessage } from '../../src/channels/terminal/terminal-channel.ts';
import { DEMO_PHONES, seedDemo } from '../../src/persistence/seed-demo.ts';
import { renderPlainText } from '../../src/channels/plain-text.ts';
import { captureLogs, createTestApp, STORES, type TestApp } from '../helpers/app.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.ts';

const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);
const state = (node: string | null, version: number): SessionState => ({ node, data: {}, expiresAt: later(30), version });

/** The session store's contract on one store. */
function sessionContract(open: () => Promise<{ services: Services; dispose(): Promise<void> }>) {
  let store: { services: Services; dispose(): Promise<void> } | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('numbers the saves, and refuses a save carrying a version that moved on', async () => {
    store = await open();
    const { sessions } = store.services;
    expect(await sessions.load('telegram', '1')).toBeNull();
    await sessions.save('telegram', '1', state('menu', 0));
    expect(await sessions.load('telegram', '1')).toMatchObject({ node: 'menu', version: 1 });
    await sessions.save('telegram', '1', state('saldo', 1));
    expect(await sessions.load('telegram', '1')).toMatchObject({ node: 'saldo', version: 2 });

    // Two turns that both read version 2: the first save wins, the second is refused.
    await sessions.save('telegram', '1', state('rat', 2));
    const stale = await sessions.save('telegram', '1', state('help', 2)).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(StaleSessionError);
    expect(await sessions.load('telegram', '1')).toMatchObject({ node: 'rat', version: 3 });
  });

  it('refuses a second first save of one chat', async () => {
    store = await open();
    const { sessions } = store.services;
    await sessions.save('whatsapp', '62811', state('menu', 0));
    await expect(sessions.save('whatsapp', '62811', state('help', 0))).rejects.toBeInstanceOf(StaleSessionError);
    expect(await sessions.load('whatsapp', '62811')).toMatchObject({ node: 'menu', version: 1 });
  });
}

for (const { name, hotPath } of STORES) {
  describe(`session versions on SQLite (${name})`, () => {
    sessionContract(async () => {
      const app: TestApp = await createTestApp(undefined, { hotPath });
      return { services: app.services, dispose: () => app.dispose() };
    });
  });
}

describe.each(STORES)('a turn refused as stale, on the $name store', ({ hotPath, postgres }) => {
  const apps: { close(): Promise<void> }[] = [];
  let app: TestApp | undefined;
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await app?.dispose();
    app = undefined;
  });

  it('is answered again from a fresh read of identity and session (the read every turn begins with)', async () => {
    app = await createTestApp(undefined, { hotPath, postgres });
    await seedDemo(app.db, app.clock.now);
    // A second instance on the same database.
    const other = await createApp({ ...app.env, LOG_LEVEL: 'warn' }, { clock: () => app!.clock.now, hotPath, logger: captureLogs('warn').logger });
    apps.push(other);
    const siti = DEMO_PHONES.siti;
    // Siti's "1" reads the chat at rest (no session yet); before its save, the other instance
    // answers her "kapan rat" and saves first. The mutated store keeps the turn's own read path.
    const { sessions } = app.services;
    const save = sessions.save;
    let overtaken = false;
    sessions.save = async (channel, chatId, next) => {
      if (!overtaken) {
        overtaken = true;
        expect(renderPlainText((await other.engine.handle(terminalMessage(siti, 'kapan rat'))).replies[0]!)).toContain('1. Hadir');
      }
      return save(channel, chatId, next);
    };
    const reply = (await app.engine.handle(terminalMessage(siti, '1'))).replies.map(renderPlainText).join('\n\n');
    expect(app.logs.some((line) => line.includes('answering again from a fresh load'))).toBe(true);
    // Answered as the open RAT question's "1", not as savings at rest.
    expect(reply).toContain('sudah kami catat');
    expect(reply).not.toContain('Simpanan Siti');
    expect(await app.db.meetingAttendance.count({ where: { attending: true } })).toBe(1);
  });
});

describe.each(STORES)('a new sender met by two instances at once, on the $name store', ({ hotPath, postgres }) => {
  let app: TestApp | undefined;
  let other: { close(): Promise<void> } | undefined;
  afterEach(async () => {
    await other?.close();
    await app?.dispose();
    app = other = undefined;
  });

  it('is one identity, and each instance has it back as it is stored', async () => {
    app = await createTestApp(undefined, { hotPath, postgres });
    await seedDemo(app.db, app.clock.now);
    const second = await createApp({ ...app.env, LOG_LEVEL: 'warn' }, { clock: () => app!.clock.now, hotPath, logger: captureLogs('warn').logger });
    other = second;
    for (let i = 0; i < 5; i++) {
      const externalId = `70${i}`;
      // Both read "no such identity", then both create it: one insert wins, the other reads it back.
      const [a, b] = await Promise.all([
        app.services.identities.resolve('telegram', externalId, undefined),
        second.services.identities.resolve('telegram', externalId, undefined),
      ]);
      expect(b).toEqual(a);
      expect(a).toMatchObject({ channel: 'telegram', externalId, phone: null, verifiedBy: null, member: null });
    }
    expect(await app.db.channelIdentity.count({ where: { channel: 'telegram' } })).toBe(5);
  });
});

describe('session versions on PostgreSQL', () => {
  let pg: TestPostgres | undefined;
  const dbs: Db[] = [];
  afterEach(async () => {
    await Promise.all(dbs.splice(0).map((db) => db.$disconnect()));
    await pg?.drop();
    pg = undefined;
  });

  sessionContract(async () => {
    const own = await createTestPostgres();
    const db = await openDatabase(own.url);
    return {
      services: createServices(db),
      async dispose() {
        await db.$disconnect();
        await own.drop();
      },
    };
  });

  /**
   * Two instances on one database, each its own pool, services and engine. B reads the session
   * before A saves (A's save waits for it), and goes on only once A has saved: the interleaving
   * two instances produce when two messages of one chat arrive together.
   */
  async function twoInstances(now: Date, before?: (engine: ReturnType<typeof createEngine>) => Promise<void>) {
    pg = await createTestPostgres();
    const seedDb = await openDatabase(pg.url);
    dbs.push(seedDb);
    useActivationCodeKey(seedDb, Buffer.from('a test secret of at least thirty-two characters'));
    await seedDemo(seedDb, now);
    let firstSaved!: () => void;
    const saved = new Promise<void>((resolve) => (firstSaved = resolve));
    let firstLoaded!: () => void;
    const loaded = new Promise<void>((resolve) => (firstLoaded = resolve));
    const loadsOfB: number[] = [];
    let racing = false;
    const instance = async (role: 'A' | 'B') => {
      const db = await openDatabase(pg!.url);
      dbs.push(db);
      const services = createServices(db, { clock: () => now });
      const { sessions } = services;
      services.sessions =
        role === 'A'
          ? {
              load: (channel, chatId) => sessions.load(channel, chatId),
              async save(channel, chatId, next) {
                if (racing) await loaded;
                await sessions.save(channel, chatId, next);
                if (racing) firstSaved();
              },
            }
          : {
              async load(channel, chatId) {
                const read = await sessions.load(channel, chatId);
                if (!racing) return read;
                loadsOfB.push(read?.version ?? 0);
                if (loadsOfB.length === 1) {
                  firstLoaded();
                  await saved;
                }
                return read;
              },
              save: (channel, chatId, next) => sessions.save(channel, chatId, next),
            };
      const { logs, logger } = captureLogs();
      return { engine: createEngine({ services, logger, clock: () => now }), logs };
    };
    const a = await instance('A');
    const b = await instance('B');
    await before?.(a.engine);
    racing = true;
    const answer = async (engine: typeof a.engine, text: string) =>
      (await engine.handle(terminalMessage(DEMO_PHONES.siti, text))).replies.map(renderPlainText).join('\n\n');
    return { seedDb, a, b, loadsOfB, answer, firstSaved };
  }

  it('two instances answering one chat at once: the later turn is answered again from the fresher state', async () => {
    const now = new Date('2026-11-22T03:00:00Z');
    const { seedDb, a, b, loadsOfB, answer, firstSaved } = await twoInstances(now);

    // Siti asks when the RAT is (A opens the attendance question), and at once answers "1".
    // (Should A fail before saving, B goes on all the same: the test fails instead of hanging.)
    const [ratReply, oneReply] = await Promise.all([answer(a.engine, 'kapan rat').finally(firstSaved), answer(b.engine, '1')]);
    expect(ratReply).toContain('1. Hadir');
    // B read the chat at rest (where "1" means savings), was refused, and answered "1" to the
    // question A left open: the attendance is recorded, and the question is closed.
    expect(loadsOfB).toEqual([0, 1]);
    expect(oneReply).toContain('sudah kami catat');
    expect(oneReply).not.toContain('Simpanan Siti');
    expect(b.logs.some((line) => line.includes('answering again from a fresh load'))).toBe(true);
    expect(await seedDb.meetingAttendance.count({ where: { attending: true } })).toBe(1);
    const row = await seedDb.conversationSession.findFirstOrThrow({ where: { channel: 'terminal' } });
    expect(row.version).toBe(2);
  });

  it('a stale turn that filed a complaint is not taken again: one complaint, and the member is told its ticket', async () => {
    const now = new Date('2026-11-22T03:00:00Z');
    // Siti has asked to file a complaint; the bot waits for its text.
    const { seedDb, a, b, loadsOfB, answer, firstSaved } = await twoInstances(now, async (engine) => {
      await engine.handle(terminalMessage(DEMO_PHONES.siti, 'pengaduan'));
    });
    // At once she sends the complaint (B) and asks when the RAT is (A, saved first).
    const [, complaintReply] = await Promise.all([
      answer(a.engine, 'kapan rat').finally(firstSaved),
      answer(b.engine, 'Setoran simpanan wajib saya tanggal 3 belum tercatat, tolong dicek'),
    ]);
    expect(loadsOfB).toEqual([1]);
    const complaints = await seedDb.complaint.findMany();
    expect(complaints).toHaveLength(1);
    expect(complaintReply).toContain('sudah kami terima');
    expect(complaintReply).toContain(complaints[0]!.ticket);
    expect(b.logs.some((line) => line.includes('may not run twice'))).toBe(true);
    // The conversation goes on from A's turn: the attendance question it left open.
    const row = await seedDb.conversationSession.findFirstOrThrow({ where: { channel: 'terminal' } });
    expect(row.version).toBe(2);
    for (const name of ONCE_ONLY_ACTIONS) expect(ACTION_NAMES.has(name), name).toBe(true);
  });
});
