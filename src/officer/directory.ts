/**
 * The officers on file by phone, for every private message (most come from members, not
 * officers): read once for every message that finds the list older than 30 seconds, not one
 * query each. An officer's roles in a conversation come from here (src/core/roles.ts).
 */
import type { OfficerDirectory, OfficerRef } from '../core/ports.ts';
import { isBoard, isDinas, officersByPhone } from '../domain/officers.ts';
import type { Domain, OfficerRecord } from '../domain/ports.ts';

const FRESH_MS = 30_000;

/** An officer as the conversation sees one, with the record the officers' actions act on. */
export type Officer = OfficerRef & { record: OfficerRecord };

export class Officers implements OfficerDirectory {
  #phones?: { at: number; byPhone: Map<string, Officer[]> };
  #loading?: Promise<void>;
  /** Bumped by refresh(): a read begun before it does not count. */
  #generation = 0;

  constructor(
    private readonly domain: Pick<Domain, 'officers'>,
    private readonly clock: () => number = Date.now,
  ) {}

  async officersOf(phone: string): Promise<Officer[]> {
    const now = this.clock();
    if (!this.#phones || now - this.#phones.at > FRESH_MS) {
      // One read for every message that finds the list stale at the same moment (launch day:
      // hundreds at once).
      this.#loading ??= this.#load(now).finally(() => (this.#loading = undefined));
      await this.#loading;
    }
    return this.#phones?.byPhone.get(phone) ?? [];
  }

  /** The records of these officers (the ones a proof covers), as on file now. */
  async records(refs: readonly OfficerRef[]): Promise<OfficerRecord[]> {
    const phones = [...new Set(refs.map((r) => r.phone))];
    const ids = new Set(refs.map((r) => r.id));
    const onFile = (await Promise.all(phones.map((p) => this.officersOf(p)))).flat();
    return onFile.filter((o) => ids.has(o.id)).map((o) => o.record);
  }

  /** Forget the list (after an import, `kopbot officers`, or a test changed it). */
  refresh(): void {
    this.#phones = undefined;
    this.#loading = undefined;
    this.#generation++;
  }

  async #load(now: number): Promise<void> {
    const generation = this.#generation;
    const byPhone = new Map<string, Officer[]>();
    for (const [phone, rows] of await officersByPhone(this.domain)) {
      byPhone.set(
        phone,
        rows.map((record) => ({ id: record.id, name: record.name, phone: record.phone, koperasiId: record.koperasiId, kind: isBoard(record) ? 'board' : isDinas(record) ? 'dinas' : 'other', record })),
      );
    }
    if (generation === this.#generation) this.#phones = { at: now, byPhone };
  }
}
