import { Worker } from "node:worker_threads";
import type { ArenaBotSettings } from "../bots/arena-bot-session.ts";
import type { BotReport } from "../bots/bot-report.ts";
import type { BotWorkerData, RunnerToWorker, WorkerToRunner } from "./bot-worker-protocol.ts";

/** The bots, dealt round-robin over worker threads, driven through their phases in lockstep. */
export class BotFleet {
  readonly #workers: Worker[];
  readonly #inboxes: WorkerToRunner[][];
  readonly #waiters: (() => void)[] = [];
  #failure: Error | undefined;

  constructor(bots: readonly ArenaBotSettings[], workerCount: number) {
    const count = Math.max(1, Math.min(workerCount, bots.length));
    const shares: ArenaBotSettings[][] = Array.from({ length: count }, () => []);
    bots.forEach((bot, index) => shares[index % count]?.push(bot));
    this.#inboxes = shares.map(() => []);
    this.#workers = shares.map((share, index) => {
      const data: BotWorkerData = { bots: share, joinConcurrency: 16, tickMs: 5 };
      const worker = new Worker(new URL("./bot-worker.ts", import.meta.url), { workerData: data });
      worker.on("message", (message: WorkerToRunner) => {
        this.#inboxes[index]?.push(message);
        this.#wake();
      });
      worker.on("error", (error) => {
        this.#failure ??= error;
        this.#wake();
      });
      return worker;
    });
  }

  async joined(timeoutMs: number): Promise<{ joined: number; failed: number; errors: string[] }> {
    const messages = await this.#collect("joined", timeoutMs);
    return {
      joined: messages.reduce((sum, m) => sum + m.joined, 0),
      failed: messages.reduce((sum, m) => sum + m.failed, 0),
      errors: messages.flatMap((m) => m.errors),
    };
  }

  start(seconds: number, drainSeconds: number): void {
    this.#broadcast({ type: "start", seconds, drainSeconds });
  }

  /** Resolves when every worker stopped sending: the longest sending time and what was sent. */
  async sent(timeoutMs: number): Promise<{ sendingMs: number; reports: BotReport[] }> {
    const messages = await this.#collect("sent", timeoutMs);
    return { sendingMs: Math.max(...messages.map((m) => m.sendingMs)), reports: messages.flatMap((m) => m.reports) };
  }

  async reports(timeoutMs: number): Promise<{ drainMs: number; reports: BotReport[] }> {
    const messages = await this.#collect("report", timeoutMs);
    return { drainMs: Math.max(...messages.map((m) => m.drainMs)), reports: messages.flatMap((m) => m.reports) };
  }

  /** Bots leave their rooms (consented), then the workers end; forced after `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.#broadcast({ type: "leave" });
    try {
      await this.#collect("left", timeoutMs);
    } catch {
      // Leaving is best effort; the workers are terminated below either way.
    }
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #broadcast(message: RunnerToWorker): void {
    for (const worker of this.#workers) worker.postMessage(message);
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Waits for one message of `type` from every worker. */
  async #collect<T extends WorkerToRunner["type"]>(type: T, timeoutMs: number): Promise<Extract<WorkerToRunner, { type: T }>[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const found = this.#inboxes.map((inbox) => inbox.find((message) => message.type === type));
      if (found.every((message) => message !== undefined)) {
        this.#inboxes.forEach((inbox, index) => inbox.splice(inbox.indexOf(found[index] as WorkerToRunner), 1));
        return found as Extract<WorkerToRunner, { type: T }>[];
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`bot workers did not report "${type}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 1000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
