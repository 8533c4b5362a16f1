import { Queue, Worker, type Job } from "bullmq";
import type { HoldRecord } from "../../model/hold.ts";
import type { HoldExpiry, HoldExpiryTarget } from "../../runtime/hold-expiry.ts";
import { jobIdFor, openQueueConnection, requireQueueName, type QueueConnection, type QueueRedis } from "./queue-connection.ts";

/**
 * Redis mode's hold-expiry mechanism (`durability.holdExpiry`, given to `createProgression`): a periodic
 * `sweep` job (one per interval for the whole deployment, not one per process) over the backend's expiry
 * index. With `jobPerHold`, also a delayed `expire` job per hold, due at its expiry, with a job id derived
 * from the hold id (a hold scheduled twice is one job); the sweep still catches any hold whose job was
 * never enqueued (e.g. the process died right after the hold).
 *
 * Both go through the engine's ledger (the attached target), which releases due holds atomically in the
 * backend and announces each one it released. The backend reports an expiry exactly once, whoever
 * triggers it (this job, the sweep, or a lazy release by another call), so a job that runs twice, or after
 * a restart, never announces twice.
 */

export interface HoldExpiryJobsOptions {
  readonly redis: QueueRedis;
  readonly prefix: string;
  readonly queueName: string;
  /** Interval of the sweep over the expiry index. */
  readonly sweepIntervalMs: number;
  /** Enqueue a delayed job per hold as well (exact expiry, one BullMQ job per hold). */
  readonly jobPerHold?: boolean;
  /** Holds released per `expireHolds` call; a sweep repeats while a call comes back full. */
  readonly sweepLimit: number;
  readonly concurrency: number;
  /** Awaited after each job: lets the event bus persist what the job emitted before it completes. */
  readonly afterJob?: () => Promise<void>;
  readonly onError: (error: unknown) => void;
  /** Told after each sweep that reached the backend (the connection works again). */
  readonly onSwept?: () => void;
}

type HoldExpiryJobData = { readonly holdId: string; readonly subject: string; readonly item: string } | Record<string, never>;

const SWEEP_SCHEDULER_ID = "progression-hold-sweep";
/** A sweep never loops forever behind a flood of expiring holds; the next sweep continues. */
const MAX_SWEEP_CALLS = 50;

export class HoldExpiryJobs implements HoldExpiry {
  private readonly options: HoldExpiryJobsOptions;
  private readonly connection: QueueConnection;
  private readonly queue: Queue<HoldExpiryJobData>;
  private worker: Worker<HoldExpiryJobData> | undefined;
  private target: HoldExpiryTarget | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: HoldExpiryJobsOptions) {
    this.options = options;
    requireQueueName(options.queueName, "holdExpiryQueue");
    this.connection = openQueueConnection(options.redis);
    this.queue = new Queue<HoldExpiryJobData>(options.queueName, { connection: this.connection.connection, prefix: options.prefix });
    this.queue.on("error", (error) => options.onError(error));
  }

  /** Whether an engine uses this mechanism (`createProgression({ holdExpiry })`). */
  get attached(): boolean {
    return this.target !== undefined;
  }

  attach(target: HoldExpiryTarget): void {
    this.target ??= target;
  }

  /** With `jobPerHold`: enqueues the hold's expiry job, due at `expiresAt` (the sweep covers a failure). */
  holdPlaced(hold: HoldRecord): void {
    if (this.options.jobPerHold !== true || this.closing !== undefined) return;
    this.schedule(hold).catch((error: unknown) => this.options.onError(error));
  }

  /** Starts the sweep schedule and the worker (durability.start does it). */
  async start(): Promise<void> {
    if (this.target === undefined || this.worker !== undefined || this.closing !== undefined) return;
    await this.queue.upsertJobScheduler(
      SWEEP_SCHEDULER_ID,
      { every: this.options.sweepIntervalMs },
      { name: "sweep", data: {}, opts: { attempts: 1, removeOnComplete: 10, removeOnFail: 50 } },
    );
    this.worker = new Worker<HoldExpiryJobData>(this.options.queueName, (job) => this.process(job), {
      connection: this.connection.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
    });
    this.worker.on("error", (error) => this.options.onError(error));
  }

  /** Enqueues the hold's expiry job, due at `expiresAt`. Idempotent per hold id. */
  async schedule(hold: Pick<HoldRecord, "holdId" | "subject" | "item" | "expiresAt">): Promise<void> {
    await this.queue.add(
      "expire",
      { holdId: hold.holdId, subject: hold.subject, item: hold.item },
      {
        jobId: jobIdFor("expire", hold.holdId),
        delay: Math.max(0, hold.expiresAt - Date.now()),
        attempts: 5,
        backoff: { type: "exponential", delay: 500 },
        // Kept a while after completion so a late duplicate schedule is still recognised.
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
  }

  /** One sweep now (also what the periodic `sweep` job runs). Returns the holds it released. */
  async sweep(): Promise<readonly HoldRecord[]> {
    const target = this.target;
    if (target === undefined) return [];
    const released: HoldRecord[] = [];
    for (let call = 0; call < MAX_SWEEP_CALLS; call += 1) {
      const expired = await target.expireHolds(this.options.sweepLimit);
      released.push(...expired);
      if (expired.length < this.options.sweepLimit) break;
    }
    return released;
  }

  /** Jobs of this queue by state (for metrics). */
  async jobCounts(): Promise<{ queue: string; counts: Record<string, number> }> {
    return { queue: this.options.queueName, counts: await this.queue.getJobCounts("waiting", "active", "delayed", "failed") };
  }

  /** Whether the queue's Redis answers (one round trip). */
  async ping(): Promise<void> {
    await this.queue.getJobCounts("waiting");
  }

  /** Stops the worker after its current jobs; delayed jobs stay in Redis for the next worker. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.worker?.close();
      this.worker = undefined;
      await this.queue.close();
      await this.connection.close();
    })();
    return this.closing;
  }

  /** Both job kinds sweep: a due hold's `expire` job releases every due hold in expiry order, its own among them. */
  private async process(_job: Job<HoldExpiryJobData>): Promise<void> {
    // If this process's clock lags, the hold is not due yet here: a later sweep picks it up.
    await this.sweep();
    this.options.onSwept?.();
    await this.options.afterJob?.();
  }
}
