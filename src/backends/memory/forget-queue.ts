/**
 * What the memory backend must forget once its retention ends (settled holds, idempotency records),
 * in the order it was settled: forget times grow with the clock, so the due entries are at the head.
 * Each ledger call drains at most `limit` due entries, so no call scans what is left and memory stays
 * bounded by what was settled within the retention period (plus a backlog each call shrinks).
 */
export interface ForgetEntry {
  readonly subject: string;
  readonly kind: "hold" | "key";
  /** The hold id or the idempotency key. */
  readonly id: string;
  readonly forgetAt: number;
}

export class ForgetQueue {
  private entries: ForgetEntry[] = [];
  private head = 0;

  get size(): number {
    return this.entries.length - this.head;
  }

  push(entry: ForgetEntry): void {
    this.entries.push(entry);
  }

  /**
   * Hands at most `limit` entries due at `now` to `forget`, oldest first; returns how many. An entry
   * whose time is not up stops the drain: everything behind it was settled later.
   */
  drain(now: number, limit: number, forget: (entry: ForgetEntry) => void): number {
    let drained = 0;
    while (drained < limit && this.head < this.entries.length) {
      const entry = this.entries[this.head] as ForgetEntry;
      if (entry.forgetAt > now) break;
      this.head += 1;
      drained += 1;
      forget(entry);
    }
    // Compact once the consumed head outweighs what is left: amortized O(1) per entry.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return drained;
  }
}
