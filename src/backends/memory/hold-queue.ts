/**
 * Open holds ordered by expiry (then hold id, the order of Redis' timers zset): an indexed binary
 * min-heap, so finding the next due hold is O(1) and adding or removing one (placed, committed,
 * released, expired) O(log n), however many holds there are. The memory backend keeps one per subject
 * (lazy expiry) and one across subjects (the expiry job).
 */
export interface QueuedHold {
  readonly holdId: string;
  readonly expiresAt: number;
}

export class HoldQueue {
  private readonly heap: QueuedHold[] = [];
  /** Hold id -> its index in `heap`. */
  private readonly index = new Map<string, number>();

  get size(): number {
    return this.heap.length;
  }

  has(holdId: string): boolean {
    return this.index.has(holdId);
  }

  /** The hold due first, or undefined when none is queued. */
  peek(): QueuedHold | undefined {
    return this.heap[0];
  }

  push(holdId: string, expiresAt: number): void {
    if (this.index.has(holdId)) this.delete(holdId);
    this.heap.push({ holdId, expiresAt });
    this.index.set(holdId, this.heap.length - 1);
    this.up(this.heap.length - 1);
  }

  delete(holdId: string): void {
    const at = this.index.get(holdId);
    if (at === undefined) return;
    this.index.delete(holdId);
    const last = this.heap.pop() as QueuedHold;
    if (at === this.heap.length) return;
    this.heap[at] = last;
    this.index.set(last.holdId, at);
    this.down(this.up(at));
  }

  /** Every queued hold, in no particular order. */
  values(): IterableIterator<QueuedHold> {
    return this.heap.values();
  }

  private up(at: number): number {
    let child = at;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!before(this.heap[child] as QueuedHold, this.heap[parent] as QueuedHold)) break;
      this.swap(child, parent);
      child = parent;
    }
    return child;
  }

  private down(at: number): void {
    let parent = at;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let first = parent;
      if (left < this.heap.length && before(this.heap[left] as QueuedHold, this.heap[first] as QueuedHold)) first = left;
      if (right < this.heap.length && before(this.heap[right] as QueuedHold, this.heap[first] as QueuedHold)) first = right;
      if (first === parent) return;
      this.swap(parent, first);
      parent = first;
    }
  }

  private swap(a: number, b: number): void {
    const held = this.heap[a] as QueuedHold;
    this.heap[a] = this.heap[b] as QueuedHold;
    this.heap[b] = held;
    this.index.set((this.heap[a] as QueuedHold).holdId, a);
    this.index.set(held.holdId, b);
  }
}

/** By expiresAt, then hold id byte by byte (as Redis orders equal zset scores). */
export function before(a: QueuedHold, b: QueuedHold): boolean {
  return a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.holdId < b.holdId);
}
