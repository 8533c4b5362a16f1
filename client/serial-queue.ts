/**
 * Runs queued tasks one at a time, in order: the presenter shows each unlock's toast and plays its
 * animation only when the previous animation has finished, so celebrations never overlap. A task that
 * fails (or throws) does not stop the queue. DOM-free, so it is unit-tested in Node.
 */
export class SerialQueue<Item> {
  private readonly waiting: Item[] = [];
  private running = false;
  private stopped = false;
  private readonly run: (item: Item) => Promise<void> | void;
  private readonly onError: (error: unknown, item: Item) => void;
  private idleWaiters: Array<() => void> = [];

  constructor(run: (item: Item) => Promise<void> | void, onError: (error: unknown, item: Item) => void) {
    this.run = run;
    this.onError = onError;
  }

  /** Items not started yet. */
  get pending(): number {
    return this.waiting.length;
  }

  get busy(): boolean {
    return this.running;
  }

  enqueue(item: Item): void {
    if (this.stopped) return;
    this.waiting.push(item);
    if (!this.running) void this.drain();
  }

  /** Resolves once nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what waits and refuses new items; the task running now finishes on its own. */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const item = this.waiting.shift() as Item;
      try {
        await this.run(item);
      } catch (error) {
        this.onError(error, item);
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
