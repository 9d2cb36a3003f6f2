/**
 * The outbox port's contract, run against both stores: SQLite (a fresh file) and the local
 * PostgreSQL (a fresh database each test). Several store instances on one database stand for
 * several processes, each with its own connection or pool.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { OutboxStore, Reach } from '../../src/outbox/outbox-store.ts';
import { openDatabase, type Db } from '../../src/persistence/database.ts';
import { openOutboxStore } from '../../src/persistence/outbox-stores.ts';
import { tempDir } from '../helpers/app.ts';
import { createTestPostgres } from '../helpers/postgres.ts';

const BY_PHONE: Reach = { identityChannels: [], byPhone: true };
const NOW = new Date('2026-11-23T03:00:00Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);

/** A fresh, migrated database of this kind: its URL, and how to remove it. */
async function freshDatabase(kind: 'sqlite' | 'postgresql'): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'postgresql') return createTestPostgres('kopbot_outbox');
  const dir = tempDir('kopbot-outbox-');
  return { url: `file:${join(dir, 'outbox.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

describe.each(['sqlite', 'postgresql'] as const)('the outbox store on %s', (kind) => {
  let database: { url: string; drop(): Promise<void> };
  let db: Db;
  const stores: OutboxStore[] = [];
  /** Another store on the same database, as another process (or instance) would have. */
  const open = () => {
    const store = openOutboxStore(database.url);
    stores.push(store);
    return store;
  };
  let store: OutboxStore;
  let koperasiId: number;

  beforeEach(async () => {
    database = await freshDatabase(kind);
    db = await openDatabase(database.url);
    koperasiId = (await db.koperasi.create({ data: { code: 'KSP-UJI', name: 'KSP Uji', type: 'KSP' } })).id;
    store = open();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await db.$disconnect();
    await database.drop();
  });

  const addMembers = (count: number, phone = (i: number) => `62812${String(10_000_000 + i)}` as string | null) =>
    db.member.createMany({ data: Array.from({ length: count }, (_, i) => ({ koperasiId, memberNumber: String(i + 1).padStart(5, '0'), name: `Anggota ${i + 1}`, phone: phone(i) })) });

  test('a broadcast fans out to the active members, with its audit entry; the rows carry its text', async () => {
    await addMembers(5);
    await db.member.updateMany({ where: { memberNumber: '00005' }, data: { status: 'KELUAR' } });
    const queued = await store.queueBroadcast({ koperasiId, text: 'Kantor tutup', actor: 'cli', sendAt: NOW, now: NOW });
    expect(queued.recipients).toBe(4);
    expect(await db.broadcast.findUniqueOrThrow({ where: { id: queued.broadcastId } })).toMatchObject({ recipients: 4, text: 'Kantor tutup' });
    const audit = await db.auditLog.findFirstOrThrow({ where: { action: 'broadcast.queue' } });
    expect(JSON.parse(audit.detail)).toMatchObject({ broadcastId: queued.broadcastId, recipients: 4, sendAt: NOW.toISOString() });
    expect(await store.counts()).toEqual({ queued: 4, sending: 0, sent: 0, failed: 0, skipped: 0 });
    const rows = await store.claim('a', NOW, later(60_000), 10, BY_PHONE);
    expect(rows.map((r) => [r.text, r.broadcastId, r.topic, r.notBefore.toISOString()])).toEqual(Array(4).fill(['Kantor tutup', queued.broadcastId, 'announcements', NOW.toISOString()]));
  });

  test('a broadcast\'s rows are one per member, keyed by the broadcast and the member; keyed messages queue beside them', async () => {
    await addMembers(3);
    const first = await store.queueBroadcast({ koperasiId, text: 'Satu', actor: 'cli', sendAt: NOW, now: NOW });
    const second = await store.queueBroadcast({ koperasiId, text: 'Dua', actor: 'cli', sendAt: NOW, now: NOW });
    expect([first.recipients, second.recipients]).toEqual([3, 3]);
    const member = await db.member.findFirstOrThrow({ where: { koperasiId } });
    const again = { purpose: 'announcement', topic: 'announcements', koperasiId, memberId: member.id, broadcastId: first.broadcastId, notBefore: NOW };
    await expect(db.outboxMessage.create({ data: again })).rejects.toThrow();
    const message = { idempotencyKey: 'pengingat', purpose: 'test', topic: 'reminders' as const, koperasiId, memberId: member.id, text: 'x', notBefore: NOW };
    expect(await store.queue([message, message], NOW)).toBe(1);
    expect(await store.queue([message], NOW)).toBe(0);
    expect(await store.counts()).toMatchObject({ queued: 7 });
    const rows = await store.claim('a', NOW, later(60_000), 10, BY_PHONE);
    expect(rows.filter((r) => r.broadcastId !== null).map((r) => r.idempotencyKey)).toEqual(Array(6).fill(null));
    expect(rows.find((r) => r.broadcastId === null)?.idempotencyKey).toBe('pengingat');
  });

  test('a fan-out that fails midway leaves nothing behind, and queueing it again reaches each member once', async () => {
    await addMembers(5);
    const first = await store.queueBroadcast({ koperasiId, text: 'Satu', actor: 'cli', sendAt: NOW, now: NOW });
    // A row already holding the next broadcast's key for the third member stops its fan-out there.
    const third = (await db.member.findMany({ orderBy: { id: 'asc' } }))[2]!;
    const blocker = await db.outboxMessage.create({ data: { purpose: 'test', topic: 'announcements', memberId: third.id, broadcastId: first.broadcastId + 1, notBefore: later(3_600_000), state: 'sent' } });
    await expect(store.queueBroadcast({ koperasiId, text: 'Dua', actor: 'cli', sendAt: NOW, now: NOW })).rejects.toThrow();
    expect(await db.broadcast.count()).toBe(1);
    expect(await db.auditLog.count({ where: { action: 'broadcast.queue' } })).toBe(1);
    expect(await store.counts()).toMatchObject({ queued: 5, sent: 1 });
    await db.outboxMessage.delete({ where: { id: blocker.id } });
    const retried = await store.queueBroadcast({ koperasiId, text: 'Dua', actor: 'cli', sendAt: NOW, now: NOW });
    expect(retried.recipients).toBe(5);
    const rows = await db.outboxMessage.groupBy({ by: ['memberId'], where: { broadcastId: retried.broadcastId }, _count: true });
    expect(rows.map((r) => r._count)).toEqual([1, 1, 1, 1, 1]);
  });

  test('a broadcast for later is not due before its time', async () => {
    await addMembers(3);
    await store.queueBroadcast({ koperasiId, text: 'Besok', actor: 'cli', sendAt: later(3_600_000), now: NOW });
    expect(await store.dueCount(NOW)).toBe(0);
    expect(await store.claim('a', NOW, later(60_000), 10, BY_PHONE)).toEqual([]);
    expect(await store.dueCount(later(3_600_000))).toBe(3);
  });

  test('an idempotency key is queued once, within one call and across calls and stores', async () => {
    const message = { idempotencyKey: 'same', purpose: 'test', topic: 'reminders' as const, koperasiId: null, memberId: null, text: 'x', notBefore: NOW };
    expect(await store.queue([message, message], NOW)).toBe(1);
    expect(await store.queue([message], NOW)).toBe(0);
    expect(await open().queue([message, { ...message, idempotencyKey: 'other' }], NOW)).toBe(1);
    expect(await store.queue([], NOW)).toBe(0);
  });

  test('a text comes back exactly as queued, whatever it holds', async () => {
    const text = 'Rapat "RAT" {2026}, pukul 09.00\nTempat: Balai Desa; biaya Rp0 \\ gratis 🙂 NULL';
    const message = { purpose: 'test', topic: 'reminders' as const, koperasiId: null, memberId: null, notBefore: NOW };
    await store.queue([{ ...message, idempotencyKey: 'teks', text }, { ...message, idempotencyKey: 'null', text: 'NULL' }], NOW);
    expect((await store.claim('a', NOW, later(60_000), 10, BY_PHONE)).map((r) => r.text)).toEqual([text, 'NULL']);
  });

  test('a lease that ran out makes the row claimable again; a live one does not; a lost lease writes nothing', async () => {
    await store.queue([{ idempotencyKey: 'lease', purpose: 'test', topic: 'reminders', koperasiId: null, memberId: null, text: 'x', notBefore: NOW }], NOW);
    expect(await store.claim('a', NOW, later(60_000), 10, BY_PHONE)).toHaveLength(1);
    expect(await store.claim('b', later(30_000), later(60_000), 10, BY_PHONE)).toHaveLength(0);
    const [again] = await store.claim('b', later(61_000), later(120_000), 10, BY_PHONE);
    expect(again!.attempts).toBe(2);
    expect(await store.renewLease(again!.id, 'a', later(180_000))).toBe(false);
    expect(await store.renewLease(again!.id, 'b', later(180_000))).toBe(true);
    expect(await store.claim('c', later(121_000), later(200_000), 10, BY_PHONE)).toHaveLength(0); // renewed
    expect(await store.finish(again!.id, 'a', 'sent', { at: NOW })).toBe(false);
    expect(await store.retryLater(again!.id, 'a', NOW, { countAttempt: false })).toBe(false);
    expect(await store.finish(again!.id, 'b', 'sent', { at: later(130_000), channel: 'whatsapp' })).toBe(true);
    expect(await db.outboxMessage.findUniqueOrThrow({ where: { id: again!.id } })).toMatchObject({ state: 'sent', channel: 'whatsapp', sentAt: later(130_000), leaseOwner: null });
  });

  test('a row given back waits until its time, and an attempt not made is not counted', async () => {
    await store.queue([{ idempotencyKey: 'later', purpose: 'test', topic: 'reminders', koperasiId: null, memberId: null, text: 'x', notBefore: NOW }], NOW);
    const [row] = await store.claim('a', NOW, later(60_000), 10, BY_PHONE);
    expect(await store.retryLater(row!.id, 'a', later(3_600_000), { error: 'quiet_hours', countAttempt: false })).toBe(true);
    expect(await db.outboxMessage.findUniqueOrThrow({ where: { id: row!.id } })).toMatchObject({ state: 'queued', attempts: 0, lastError: 'quiet_hours', notBefore: later(3_600_000) });
    expect(await store.claim('a', later(3_599_000), later(3_700_000), 10, BY_PHONE)).toHaveLength(0);
    expect(await store.claim('a', later(3_600_000), later(3_700_000), 10, BY_PHONE)).toHaveLength(1);
  });

  test('two store instances claiming 2,000 due rows at once never claim a row twice', async () => {
    await addMembers(2_000);
    await store.queueBroadcast({ koperasiId, text: 'Serentak', actor: 'cli', sendAt: NOW, now: NOW });
    const instances = [open(), open()];
    const claimed = instances.map(() => [] as number[]);
    // Each instance claims batch after batch from its own connection, as fast as it can,
    // several claims in flight at once, until nothing due is left.
    await Promise.all(instances.flatMap((instance, i) => Array.from({ length: 3 }, async (_, lane) => {
      for (;;) {
        const rows = await instance.claim(`instance-${i}-${lane}`, NOW, later(300_000), 50, BY_PHONE);
        if (rows.length === 0) return;
        claimed[i]!.push(...rows.map((r) => r.id));
      }
    })));
    const all = claimed.flat();
    expect(all).toHaveLength(2_000);
    expect(new Set(all).size).toBe(2_000);
    expect(claimed.every((ids) => ids.length > 0)).toBe(true);
    expect(await store.counts()).toMatchObject({ queued: 0, sending: 2_000 });
    expect(await db.outboxMessage.count({ where: { attempts: 1 } })).toBe(2_000);
  });

  test('an instance that dies mid-send: its rows are claimed again once their lease runs out, and its late answers do not count', async () => {
    await addMembers(10);
    await store.queueBroadcast({ koperasiId, text: 'Penting', actor: 'cli', sendAt: NOW, now: NOW });
    const doomed = open();
    const taken = await doomed.claim('host:1:dead', NOW, later(300_000), 6, BY_PHONE);
    expect(taken).toHaveLength(6);
    // It dies: its connection is gone, its rows stay leased to it.
    await doomed.close();
    const survivor = open();
    expect((await survivor.claim('host:2:alive', later(1_000), later(301_000), 100, BY_PHONE)).map((r) => r.id)).toHaveLength(4);
    expect(await survivor.claim('host:2:alive', later(299_000), later(600_000), 100, BY_PHONE)).toHaveLength(0);
    const again = await survivor.claim('host:2:alive', later(300_001), later(600_000), 100, BY_PHONE);
    expect(again.map((r) => r.id).sort()).toEqual(taken.map((r) => r.id).sort());
    expect(again.every((r) => r.attempts === 2)).toBe(true);
    // A dispatcher known to be dead is released at once, without waiting for the lease.
    expect(await survivor.releaseDeadOwners((owner) => owner === 'host:2:alive')).toBe(10);
    expect(await store.counts()).toMatchObject({ queued: 10, sending: 0 });
    expect(await store.finish(taken[0]!.id, 'host:1:dead', 'sent', { at: NOW })).toBe(false);
  });

  test('a process claims only what its channels can route, and names what the rest waits for', async () => {
    // 1: phone only; 2: Telegram (by a shared contact) and a phone; 3: Telegram by code, no phone; 4: nothing at all.
    await addMembers(4, (i) => (i === 2 || i === 3 ? null : `62812${String(10_000_000 + i)}`));
    const members = await db.member.findMany({ orderBy: { id: 'asc' } });
    await db.channelIdentity.create({ data: { channel: 'telegram', externalId: '502', memberId: members[1]!.id, verifiedBy: 'contact', phone: members[1]!.phone } });
    await db.channelIdentity.create({ data: { channel: 'telegram', externalId: '503', memberId: members[2]!.id, verifiedBy: 'code' } });
    await store.queueBroadcast({ koperasiId, text: 'Info', actor: 'cli', sendAt: NOW, now: NOW });
    const none: Reach = { identityChannels: [], byPhone: false };
    expect(await store.waitingFor(NOW, none)).toEqual([{ channel: 'telegram', count: 2 }, { channel: 'whatsapp', count: 1 }]);
    expect((await store.claim('x', NOW, later(60_000), 10, none)).map((r) => r.memberId)).toEqual([members[3]!.id]);
    expect(await store.waitingFor(NOW, BY_PHONE)).toEqual([{ channel: 'telegram', count: 1 }]);
    expect((await store.claim('x', NOW, later(60_000), 10, BY_PHONE)).map((r) => r.memberId)).toEqual([members[0]!.id, members[1]!.id]);
    expect((await store.claim('x', NOW, later(60_000), 10, { identityChannels: ['telegram'], byPhone: false })).map((r) => r.memberId)).toEqual([members[2]!.id]);
    expect(await store.recipient(members[2]!.id)).toMatchObject({ phone: null, status: 'AKTIF', timezone: 'Asia/Jakarta', identities: [{ channel: 'telegram', externalId: '503' }] });
    expect(await store.recipient(999_999)).toBeNull();
  });

  test('a process without WhatsApp reads past the rows only WhatsApp can reach once a minute, not on every claim', async () => {
    // Every third member has Telegram (a code-made link); the others only a phone.
    await addMembers(12);
    const members = await db.member.findMany({ orderBy: { id: 'asc' } });
    const onTelegram = members.filter((_, i) => i % 3 === 2).map((m) => m.id);
    for (const id of onTelegram) await db.channelIdentity.create({ data: { channel: 'telegram', externalId: `t${id}`, memberId: id, verifiedBy: 'code' } });
    await store.queueBroadcast({ koperasiId, text: 'Info', actor: 'cli', sendAt: NOW, now: NOW });
    const telegram: Reach = { identityChannels: ['telegram'], byPhone: false };
    const claimAll = async (from: OutboxStore, at: Date, limit = 10) => (await from.claim('tg', at, later(600_000), limit, telegram)).map((r) => r.memberId);
    // The claims start 40 s after the rows were due: past the half minute a claim reads again
    // for rows other processes were still committing (below).
    const at = (ms: number) => later(40_000 + ms);
    // Batch after batch goes on after the last row the previous one read.
    expect([await claimAll(store, at(0), 2), await claimAll(store, at(0), 2), await claimAll(store, at(0), 2)]).toEqual([onTelegram.slice(0, 2), onTelegram.slice(2), []]);

    // A member passed over links Telegram: this process finds the row when its next pass starts,
    // a minute after the last; another process (reading from the oldest row) at once.
    await db.channelIdentity.create({ data: { channel: 'telegram', externalId: 'baru', memberId: members[0]!.id, verifiedBy: 'code' } });
    expect(await claimAll(store, at(59_999))).toEqual([]);
    expect(await claimAll(open(), at(59_999))).toEqual([members[0]!.id]);
    await db.channelIdentity.create({ data: { channel: 'telegram', externalId: 'baru-2', memberId: members[1]!.id, verifiedBy: 'code' } });
    expect(await claimAll(store, at(59_999))).toEqual([]);
    expect(await claimAll(store, at(60_000))).toEqual([members[1]!.id]);

    // What this process queues, or gives back, behind where it stopped is claimed at once.
    const reminder = { idempotencyKey: 'pengingat', purpose: 'test', topic: 'reminders' as const, koperasiId, memberId: onTelegram[0]!, text: 'x', notBefore: NOW };
    await store.queue([reminder], NOW);
    expect(await claimAll(store, at(60_000))).toEqual([onTelegram[0]]);
    // So is what another process queues behind it (`kopbot broadcast`, `jobs run-due`): new ids
    // are noticed before the next claim.
    const other = open();
    await other.queue([{ ...reminder, idempotencyKey: 'lain' }], NOW);
    expect(await claimAll(store, at(60_000))).toEqual([onTelegram[0]]);
    // And a dead dispatcher's rows it releases (claimed by another process, behind its cursor).
    await other.queue([{ ...reminder, idempotencyKey: 'lain-2' }], NOW);
    expect(await other.claim('host:9:dead', at(60_000), later(600_000), 10, telegram)).toHaveLength(1);
    expect(await claimAll(store, at(60_000))).toEqual([]);
    expect(await store.releaseDeadOwners((owner) => owner === 'host:9:dead')).toBe(1);
    expect(await claimAll(store, at(60_000))).toEqual([onTelegram[0]]);

    // A row another process queued due a moment before this one's last claim (a broadcast still
    // fanning out when the claim read) is claimed by the next claim, not left for the next pass.
    expect(await claimAll(store, at(75_000))).toEqual([]);
    await other.queue([{ ...reminder, idempotencyKey: 'terlambat', notBefore: at(74_000) }], at(74_000));
    expect(await claimAll(store, at(76_000))).toEqual([onTelegram[0]]);
  });

  test('an officer\'s mail: one row per officer; routed to an identity only while it proves the officer\'s phone', async () => {
    await addMembers(1);
    const [member] = await db.member.findMany();
    await db.member.update({ where: { id: member!.id }, data: { name: 'Budi Santoso' } });
    const officer = await db.officer.create({ data: { koperasiId, name: 'budi santoso ', phone: member!.phone!, role: 'ketua' } });
    const dinas = await db.officer.create({ data: { koperasiId: null, name: 'Sugeng', phone: '6281299990000', role: 'dinas' } });
    const officers = [officer, dinas];
    expect(await store.queueForOfficers(officers, { key: 'rapat:1', purpose: 'board', topic: 'reminders', text: 'Rapat' }, NOW)).toBe(2);
    expect(await store.queueForOfficers(officers, { key: 'rapat:1', purpose: 'board', topic: 'reminders', text: 'Rapat' }, NOW)).toBe(0);
    expect((await db.outboxMessage.findMany({ orderBy: { id: 'asc' } })).map((r) => r.idempotencyKey)).toEqual([`rapat:1:o${officer.id}`, `rapat:1:o${dinas.id}`]);
    expect((await store.officerRecipient(officer.id))!.identities).toEqual([]);
    // A contact shared on Telegram by the member who is this officer proves the phone.
    await db.channelIdentity.create({ data: { channel: 'telegram', externalId: '77', memberId: member!.id, verifiedBy: 'contact', phone: member!.phone } });
    expect(await store.officerRecipient(officer.id)).toMatchObject({ memberId: null, name: 'budi santoso ', phone: member!.phone, timezone: 'Asia/Jakarta', identities: [{ channel: 'telegram', externalId: '77' }] });
    expect(await store.officerRecipient(dinas.id)).toMatchObject({ timezone: 'Asia/Jakarta', identities: [] });
    const telegramOnly: Reach = { identityChannels: ['telegram'], byPhone: false };
    expect((await store.claim('t', NOW, later(60_000), 10, telegramOnly)).map((r) => r.officerId)).toEqual([officer.id]);
    expect(await store.waitingFor(NOW, telegramOnly)).toEqual([{ channel: 'whatsapp', count: 1 }]);
  });
});
