/**
 * Which polled updates are finished, and so what may be confirmed to Telegram. getUpdates'
 * `offset` confirms every update below it, so the offset is the oldest update not finished
 * yet: an update still being answered (or waiting) when the service stops is delivered again
 * after the restart. Updates finished after it are remembered, so the redelivery skips them.
 */
export class UpdateLedger {
  /** Fetched, not yet below the offset, in update order. */
  readonly #open: number[] = [];
  readonly #known = new Set<number>();
  readonly #finished = new Set<number>();
  #next: number | undefined;

  /** Whether this update was fetched already (finished or not) and is not below the offset. */
  knows(updateId: number): boolean {
    return this.#known.has(updateId) || (this.#next !== undefined && updateId < (this.#open[0] ?? this.#next));
  }

  add(updateId: number): void {
    if (this.#known.has(updateId)) return;
    this.#known.add(updateId);
    this.#open.push(updateId);
    if (this.#open.length > 1 && this.#open[this.#open.length - 2]! > updateId) this.#open.sort((a, b) => a - b);
    if (this.#next === undefined || updateId >= this.#next) this.#next = updateId + 1;
  }

  /**
   * Fetched and finished at once (dropped in a flood, answered before the restart). With no
   * earlier update still open, only the offset moves: a flood's drops keep no ids.
   */
  skip(updateId: number): void {
    if (this.#open.length === 0 && (this.#next === undefined || updateId >= this.#next)) {
      this.#next = updateId + 1;
      return;
    }
    this.add(updateId);
    this.finish(updateId);
  }

  finish(updateId: number): void {
    if (!this.#known.has(updateId)) return;
    this.#finished.add(updateId);
    while (this.#open.length > 0 && this.#finished.has(this.#open[0]!)) {
      const id = this.#open.shift()!;
      this.#finished.delete(id);
      this.#known.delete(id);
    }
  }

  /** The offset to confirm with: the oldest unfinished update, else one past the newest fetched. */
  get offset(): number | undefined {
    return this.#open[0] ?? this.#next;
  }

  /** Updates fetched and not finished. */
  get unfinished(): number {
    return this.#open.length - this.#finished.size;
  }

  /** Fetched and not finished, oldest first. */
  unfinishedIds(): number[] {
    return this.#open.filter((id) => !this.#finished.has(id));
  }

  /** Finished updates above the offset: Telegram will deliver them again. */
  finishedAhead(): number[] {
    return this.#open.filter((id) => this.#finished.has(id));
  }
}
