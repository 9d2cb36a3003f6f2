/**
 * The domain's guarantees that must hold with several instances on one database, on SQLite and
 * on the PostgreSQL server this machine runs (a database of the test's own): bimtek seats are
 * never overbooked, a waiting list moves up exactly as far as seats free, and a scheduled job's
 * occurrence is queued by one instance only. Each "instance" is a Domain over its own Prisma
 * client and outbox store (their own connections), as two `kopbot start` processes would have.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { createCatalogue, MissingTextError } from '../../src/core/catalogue.ts';
import { FLOWS_DIR, loadFlowsFrom } from '../../src/core/create-engine.ts';
import { declineInvitation, respondToInvitation } from '../../src/domain/bimtek.ts';
import type { Domain } from '../../src/domain/ports.ts';
import type { OutboxStore } from '../../src/outbox/outbox-store.ts';
import { queueRatReminders, runDueJobs } from '../../src/jobs/run-due.ts';
import { openDatabase, type Db } from '../../src/persistence/database.ts';
import { createDomainStores } from '../../src/persistence/domain-stores.ts';
import { openOutboxStore } from '../../src/persistence/outbox-stores.ts';
import { createTestPostgres } from '../helpers/postgres.ts';

const quiet = pino({ level: 'silent' });

/** A copy of flows/ with a key deleted from both catalogues (flows check and start-up refuse it). */
function flowsWithout(key: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'kopbot-flows-')), 'flows');
  cpSync(FLOWS_DIR, dir, { recursive: true });
  for (const lang of ['id', 'en']) {
    const path = join(dir, 'messages', `${lang}.yaml`);
    writeFileSync(path, readFileSync(path, 'utf8').split('\n').filter((line) => !line.startsWith(`${key}:`)).join('\n'));
  }
  return dir;
}

/** The catalogue over a flows folder's message files as they are, unchecked. */
function catalogueOf(dir: string) {
  const read = (lang: string) => parse(readFileSync(join(dir, 'messages', `${lang}.yaml`), 'utf8')) as Record<string, string>;
  return createCatalogue({ id: read('id'), en: read('en') }, quiet);
}
const NOW = new Date('2026-11-23T03:00:00Z');

interface Store {
  name: string;
  /** A fresh, migrated database; returns its URL and how to remove it. */
  create(): Promise<{ url: string; drop(): Promise<void> }>;
}

const STORES: Store[] = [
  {
    name: 'SQLite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'kopbot-domain-'));
      return { url: `file:${join(dir, 'test.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    async create() {
      const pg = await createTestPostgres();
      return { url: pg.url, drop: () => pg.drop() };
    },
  },
];

describe.each(STORES)('domain on $name', (store) => {
  let database: { url: string; drop(): Promise<void> };
  const clients: Db[] = [];
  const outboxes: OutboxStore[] = [];

  /** One instance: its own client and outbox on the shared database, the real texts. */
  async function instance(): Promise<{ db: Db; domain: Domain }> {
    const db = await openDatabase(database.url);
    clients.push(db);
    const outbox = openOutboxStore(database.url);
    outboxes.push(outbox);
    return { db, domain: { ...createDomainStores(db, outbox), texts: createCatalogue(loadFlowsFrom().messages, quiet) } };
  }

  beforeEach(async () => {
    database = await store.create();
  });
  afterEach(async () => {
    await Promise.all(outboxes.splice(0).map((o) => o.close()));
    await Promise.all(clients.splice(0).map((c) => c.$disconnect()));
    await database.drop();
  });

  async function boards(db: Db, count: number) {
    const koperasi = await db.koperasi.create({ data: { code: 'KSP-UJI', name: 'KSP Uji', type: 'KSP', district: 'Kraksaan' } });
    const officers = [];
    for (let i = 0; i < count; i++) {
      officers.push(await db.officer.create({ data: { koperasiId: koperasi.id, name: `Pengurus ${i + 1}`, phone: `62812000${String(i).padStart(5, '0')}`, role: 'PENGURUS' } }));
    }
    return { koperasi, officers };
  }

  /** A board of one, 40 active members and their RAT in three days: returns the instant of its reminder. */
  async function ratInThreeDays(db: Db): Promise<Date> {
    const { koperasi } = await boards(db, 1);
    await db.member.createMany({
      data: Array.from({ length: 40 }, (_, i) => ({ koperasiId: koperasi.id, memberNumber: String(i + 1).padStart(3, '0'), name: `Anggota ${i + 1}`, status: 'AKTIF' })),
    });
    await db.meeting.create({
      data: { koperasiId: koperasi.id, key: 'RAT:2026', kind: 'RAT', bookYear: 2026, startsAt: new Date('2027-01-09T02:00:00Z'), place: 'Balai Desa', agenda: 'Laporan' },
    });
    return new Date('2027-01-06T01:00:00Z'); // 08.00 WIB, three days before
  }

  test('twelve simultaneous "bimtek ya" from three instances for five seats: five accepted, seven waiting, in order', async () => {
    const instances = [await instance(), await instance(), await instance()];
    const { db, domain } = instances[0]!;
    const { officers } = await boards(db, 12);
    const event = await db.event.create({
      data: { title: 'Bimtek RAT', topic: 'Laporan', startsAt: new Date('2026-12-10T02:00:00Z'), place: 'Aula Dinas', capacity: 5, organiser: 'Dinas' },
    });
    await domain.bimtek.invite(event.id, officers.map((o) => o.id), NOW);
    const answers = await Promise.all(
      officers.map((o, i) =>
        respondToInvitation(instances[i % 3]!.domain, { officerIds: [o.id], attending: true, aboutBimtek: true, now: NOW, language: 'id', channel: 'whatsapp' }),
      ),
    );
    expect(answers.filter((a) => a?.includes('terdaftar sebagai peserta'))).toHaveLength(5);
    const rows = await db.eventInvitation.findMany({ where: { eventId: event.id } });
    expect(rows.filter((r) => r.status === 'accepted')).toHaveLength(5);
    expect(rows.filter((r) => r.status === 'waitlisted')).toHaveLength(7);
    // Each waiting officer was told a different place in the queue, 1 to 7.
    const positions = answers.filter((a) => a?.includes('daftar tunggu')).map((a) => Number(/nomor (\d+)/.exec(a!)?.[1]));
    expect(positions.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await db.auditLog.count({ where: { action: 'bimtek.rsvp' } })).toBe(12);

    // Three of the five decline at once, on three instances: exactly three move up, told once each.
    const accepted = rows.filter((r) => r.status === 'accepted').slice(0, 3);
    await Promise.all(accepted.map((r, i) => declineInvitation(instances[i]!.domain, r.id, NOW)));
    const after = await db.eventInvitation.findMany({ where: { eventId: event.id } });
    expect(after.filter((r) => r.status === 'accepted')).toHaveLength(5);
    expect(after.filter((r) => r.status === 'waitlisted')).toHaveLength(4);
    const promoted = await db.outboxMessage.findMany({ where: { purpose: 'bimtek_promoted' } });
    expect(promoted).toHaveLength(3);
    expect(new Set(promoted.map((m) => m.officerId)).size).toBe(3);
  });

  test('a seat given up while a newcomer says "ya" goes to the first on the waiting list, not to the newcomer', async () => {
    const [a, b] = [await instance(), await instance()];
    const { officers } = await boards(a.db, 4);
    const event = await a.db.event.create({
      data: { title: 'Bimtek RAT', topic: 'Laporan', startsAt: new Date('2026-12-10T02:00:00Z'), place: 'Aula Dinas', capacity: 2, organiser: 'Dinas' },
    });
    await a.domain.bimtek.invite(event.id, officers.slice(0, 3).map((o) => o.id), NOW);
    const answer = (domain: Domain, officerId: number, attending: boolean) =>
      respondToInvitation(domain, { officerIds: [officerId], attending, aboutBimtek: true, now: NOW, language: 'id', channel: 'whatsapp' });
    for (const o of officers.slice(0, 3)) await answer(a.domain, o.id, true); // two seats, one waiting
    await a.domain.bimtek.invite(event.id, [officers[3]!.id], NOW); // invited later
    const [, newcomer] = await Promise.all([answer(a.domain, officers[0]!.id, false), answer(b.domain, officers[3]!.id, true)]);
    expect(newcomer).toContain('daftar tunggu nomor'); // 1 or 2: whether the seat moved up before or after it answered
    const status = async (officerId: number) => (await a.db.eventInvitation.findFirstOrThrow({ where: { eventId: event.id, officerId } })).status;
    expect(await status(officers[2]!.id)).toBe('accepted');
    expect(await status(officers[3]!.id)).toBe('waitlisted');
    expect(await a.db.eventInvitation.count({ where: { eventId: event.id, status: 'accepted' } })).toBe(2);
  });

  test('two instances running the due jobs for the same instant: the RAT reminder is queued by one of them, once', async () => {
    const [a, b] = [await instance(), await instance()];
    const db = a.db;
    const now = await ratInThreeDays(a.db);
    const [first, second] = await Promise.all([runDueJobs({ domain: a.domain, now }), runDueJobs({ domain: b.domain, now })]);
    const rat = (results: typeof first) => results.find((r) => r.job === 'rat_reminders')!;
    expect(rat(first).queued + rat(second).queued).toBe(41); // 40 members and the board
    expect([rat(first).occurrences, rat(second).occurrences].sort()).toEqual([0, 1]);
    expect(await db.outboxMessage.count({ where: { purpose: 'rat_reminder' } })).toBe(40);
    const run = await a.db.jobRun.findFirstOrThrow({ where: { job: 'rat_reminders' } });
    expect(run).toMatchObject({ occurrence: expect.stringContaining(':d3'), queued: 41 });
    // Again later the same day, on either: nothing.
    expect((await queueRatReminders({ domain: b.domain, now: new Date(now.getTime() + 5 * 60_000) })).queued).toBe(0);
  });

  test('with reminder.rat missing from the catalogues the RAT job fails and queues nothing, not reminders that are only the footer; once the text is back it runs', async () => {
    const a = await instance();
    const now = await ratInThreeDays(a.db);
    const broken: Domain = { ...a.domain, texts: catalogueOf(flowsWithout('reminder.rat')) };
    const results = await runDueJobs({ domain: broken, now, clock: () => now });
    const rat = results.find((r) => r.job === 'rat_reminders')!;
    expect(rat.error).toBeInstanceOf(MissingTextError);
    expect(rat.error).toMatchObject({ key: 'reminder.rat', language: 'id' });
    expect(rat.queued).toBe(0);
    expect(await a.db.outboxMessage.count({ where: { purpose: { in: ['rat_reminder', 'rat_board_reminder'] } } })).toBe(0);
    // The other jobs still ran (the board's Gempur Koperasi reminder went out), and said so.
    expect(await a.db.outboxMessage.count({ where: { purpose: 'gempur_reminder' } })).toBe(1);
    expect(results.map((r) => [r.job, r.error === undefined])).toEqual([
      ['rat_reminders', false],
      ['gempur_reminders', true],
      ['installment_reminders', true],
      ['bimtek_invitations', true],
      ['bimtek_reminders', true],
    ]);
    // The text restored (the service restarted with fixed flows), the next run after the claim
    // went stale queues the reminder whole.
    const later = new Date(now.getTime() + 11 * 60_000);
    const again = await queueRatReminders({ domain: a.domain, now: later, clock: () => later });
    expect(again.queued).toBe(41);
    const texts = await a.db.outboxMessage.findMany({ where: { purpose: 'rat_reminder' }, select: { text: true }, distinct: ['text'] });
    expect(texts).toHaveLength(1);
    expect(texts[0]!.text).toMatch(/^Pengingat dari KSP Uji: \*Rapat Anggota Tahunan\* 3 hari lagi/);
  });

  test('a claim left by an instance that died before queueing is taken over once it is stale, by one taker', async () => {
    const [a, b] = [await instance(), await instance()];
    const at = new Date('2027-01-06T01:00:00Z');
    expect(await a.domain.jobRuns.claim('rat_reminders', 'mtg1@2027-01-09:d3', at, new Date(at.getTime() - 600_000))).toBe(true);
    // Another instance a minute later: under way, not its to take.
    const later = new Date(at.getTime() + 60_000);
    expect(await b.domain.jobRuns.claim('rat_reminders', 'mtg1@2027-01-09:d3', later, new Date(later.getTime() - 600_000))).toBe(false);
    // Eleven minutes later it is stale: of two instances trying at once, one takes it.
    const stale = new Date(at.getTime() + 11 * 60_000);
    const taken = await Promise.all([a, b].map((i) => i.domain.jobRuns.claim('rat_reminders', 'mtg1@2027-01-09:d3', stale, new Date(stale.getTime() - 600_000))));
    expect(taken.filter(Boolean)).toHaveLength(1);
    // Finished, it is never taken again.
    await a.domain.jobRuns.finish('rat_reminders', 'mtg1@2027-01-09:d3', 12);
    const much = new Date(at.getTime() + 86_400_000);
    expect(await b.domain.jobRuns.claim('rat_reminders', 'mtg1@2027-01-09:d3', much, new Date(much.getTime() - 600_000))).toBe(false);
  });
});
