/**
 * The outbox port: what the producers (broadcast, jobs, desk, bimtek) queue into and the
 * dispatcher claims from. Two stores implement it with the same guarantees,
 * `persistence/sqlite-outbox-store.ts` and `persistence/postgres-outbox-store.ts`; open one
 * with `openOutboxStore(url)` (persistence/outbox-stores.ts).
 *
 * - Queueing a broadcast to a cooperative is one `INSERT … SELECT` over its members, never an
 *   array in JavaScript, in one transaction with its Broadcast row and audit entry.
 * - A unique idempotency key (purpose + target + occurrence) makes queueing the same reminder
 *   twice a no-op; a broadcast's rows are unique by (broadcastId, memberId) instead.
 * - A claim sets a lease: two dispatchers (in one process or several instances) never get the
 *   same row, and a row whose lease ran out (its process died mid-send) can be claimed again.
 * - A process claims only rows its channels can route, or rows that end without any channel
 *   (see Reach), so it never closes a row only another process could deliver.
 */
import { auditRow } from '../domain/audit.ts';

export type Topic = 'announcements' | 'reminders' | 'invitations';
export type OutboxState = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface OutboxRow {
  id: number;
  /** Null on a broadcast's rows: (broadcastId, memberId) is their key. */
  idempotencyKey: string | null;
  purpose: string;
  topic: Topic;
  koperasiId: number | null;
  memberId: number | null;
  officerId: number | null;
  broadcastId: number | null;
  text: string;
  notBefore: Date;
  attempts: number;
}

export interface NewOutboxMessage {
  idempotencyKey: string;
  purpose: string;
  topic: Topic;
  koperasiId: number | null;
  memberId: number | null;
  /** For a message to a board member or Dinas officer (memberId null). */
  officerId?: number | null;
  text: string;
  notBefore: Date;
}

export interface Recipient {
  /** The member's id, or null for an officer. */
  memberId: number | null;
  name: string;
  phone: string | null;
  status: string;
  timezone: string;
  optOut: Record<Topic, boolean>;
  /** Verified identities, most recently used first. */
  identities: { channel: string; externalId: string }[];
}

export interface StateCounts {
  queued: number;
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
}

/**
 * What the channels of one process can reach: members' verified identities on these channels,
 * and (WhatsApp) any phone on file. Rows for others stay queued for a process that has them.
 */
export interface Reach {
  identityChannels: readonly string[];
  byPhone: boolean;
}

export interface QueueBroadcast {
  koperasiId: number;
  text: string;
  actor: string;
  /** For an officer's chat command: the channel identity that acted (for the audit). */
  via?: Record<string, unknown>;
  sendAt: Date;
  now: Date;
}

export interface OfficerMessage {
  key: string;
  purpose: string;
  topic: Topic;
  text: string;
}

export interface OutboxStore {
  /**
   * Queue an announcement to every active member of a cooperative: one Broadcast row, one
   * outbox row per member and the audit entry, in one transaction (either all exist or none,
   * so a failed command can simply be run again). Returns the broadcast id and recipient count.
   */
  queueBroadcast(options: QueueBroadcast): Promise<{ broadcastId: number; recipients: number }>;
  /** Queue messages; an idempotency key already present is left as it is. Returns how many were new. */
  queue(messages: readonly NewOutboxMessage[], now: Date): Promise<number>;
  /** One message to each of these officers (board members, Dinas staff), keyed `<key>:o<id>` (see officerMessages). */
  queueForOfficers(officers: readonly { id: number; koperasiId: number | null }[], message: OfficerMessage, now: Date): Promise<number>;
  /** Claim up to `limit` due rows for `owner` until `leaseUntil`: only rows a process with this reach can close. Sorted by id. */
  claim(owner: string, now: Date, leaseUntil: Date, limit: number, reach: Reach): Promise<OutboxRow[]>;
  /** Mark a claimed row done (sent, failed for good, or skipped). False when the lease was lost. */
  finish(id: number, owner: string, state: 'sent' | 'failed' | 'skipped', detail: { channel?: string; error?: string; at: Date }): Promise<boolean>;
  /** Extend a claimed row's lease; false when it is no longer this owner's. */
  renewLease(id: number, owner: string, leaseUntil: Date): Promise<boolean>;
  /** Give a claimed row back, due again at notBefore; `countAttempt: false` when nothing was tried (quiet hours). */
  retryLater(id: number, owner: string, notBefore: Date, detail: { channel?: string; error?: string; countAttempt: boolean }): Promise<boolean>;
  /** A member as a recipient: phone, status, opt-outs, and the identities still verified (most recently used first). */
  recipient(memberId: number): Promise<Recipient | null>;
  /**
   * An officer as a recipient: the phone on file (WhatsApp), and the channel identities that
   * verified that same phone (a Telegram contact). Officers cannot opt out of their work mail.
   */
  officerRecipient(officerId: number): Promise<Recipient | null>;
  /**
   * Give back the rows of dispatchers that are known to be dead (a process of this machine that
   * no longer exists, killed mid-broadcast), without waiting for their leases to run out.
   */
  releaseDeadOwners(isDead: (owner: string) => boolean): Promise<number>;
  counts(): Promise<StateCounts>;
  /** Due rows a process with this reach leaves queued, by the channel each waits for (most first). */
  waitingFor(now: Date, reach: Reach): Promise<{ channel: string; count: number }[]>;
  /** Rows that could be claimed now (due, and queued or with a lapsed lease). */
  dueCount(now: Date): Promise<number>;
  close(): Promise<void>;
}

/** The rows queueForOfficers queues: one per officer, keyed `<key>:o<id>`, due now. */
export function officerMessages(officers: readonly { id: number; koperasiId: number | null }[], message: OfficerMessage, now: Date): NewOutboxMessage[] {
  return officers.map((o) => ({
    idempotencyKey: `${message.key}:o${o.id}`,
    purpose: message.purpose,
    topic: message.topic,
    koperasiId: o.koperasiId,
    memberId: null,
    officerId: o.id,
    text: message.text,
    notBefore: now,
  }));
}

/** The audit entry's detail of a queued broadcast (both stores write it in the broadcast's transaction). */
export function broadcastAuditDetail(options: QueueBroadcast, broadcastId: number, recipients: number): string {
  // Built by the one audit writer, so it is masked like every other audit row.
  return auditRow({
    actor: options.actor,
    action: 'broadcast.queue',
    koperasiId: options.koperasiId,
    detail: { broadcastId, recipients, sendAt: options.sendAt.toISOString(), length: options.text.length, ...(options.via ? { via: options.via } : {}) },
  }).detail;
}
