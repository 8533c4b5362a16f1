import { Queue, Worker, type Job } from "bullmq";
import type { BackfillProgress } from "../../history/backfill.ts";
import { jobIdFor, openQueueConnection, requireQueueName, type QueueConnection, type QueueRedis } from "./queue-connection.ts";

/** What the backfill job runs: `progression.backfill` (a `Progression` has it). */
export type BackfillRun = (options: { cursor?: string; chunk?: number; onProgress?: (progress: BackfillProgress) => void | Promise<void> }) => Promise<BackfillProgress>;

export interface BackfillJobOptions {
  readonly redis: QueueRedis;
  readonly prefix: string;
  readonly queueName: string;
  /** Players per page of the walk. */
  readonly chunk: number;
  /** Attempts of a walk that fails (each resumes from the last page it finished). */
  readonly attempts: number;
  readonly onError: (error: unknown) => void;
  /** Told after each page (metrics, logs). */
  readonly onProgress?: (progress: BackfillProgress) => void;
}

interface BackfillJobData {
  /** Where the walk continues: the cursor after the last page it finished ("0" at the start). */
  readonly cursor: string;
}

/** One walk at a time for the whole deployment: a second request while one runs joins it. */
const BACKFILL_JOB_ID = jobIdFor("backfill", "every-subject");

/**
 * The backfill of every player as a BullMQ job (`durability.backfill()`): the engine's paged walk
 * (`progression.backfill`), with the cursor after each finished page saved in the job's data, so a walk
 * that fails, or whose process dies (BullMQ hands a stalled job to another worker), resumes from there.
 * Pages are idempotent (a player already complete is skipped), so a page run twice awards nothing twice.
 */
export class BackfillJob {
  private readonly options: BackfillJobOptions;
  private readonly connection: QueueConnection;
  private readonly queue: Queue<BackfillJobData>;
  private worker: Worker<BackfillJobData> | undefined;

  constructor(options: BackfillJobOptions) {
    this.options = options;
    requireQueueName(options.queueName, "backfillQueue");
    this.connection = openQueueConnection(options.redis);
    this.queue = new Queue<BackfillJobData>(options.queueName, { connection: this.connection.connection, prefix: options.prefix });
    this.queue.on("error", (error) => options.onError(error));
  }

  start(run: BackfillRun): void {
    this.worker = new Worker<BackfillJobData>(this.options.queueName, (job) => this.walk(job, run), {
      connection: this.connection.connection,
      prefix: this.options.prefix,
      concurrency: 1,
    });
    this.worker.on("error", (error) => this.options.onError(error));
  }

  /** Asks for a walk over every player; returns its job id (the running one's, if one runs). */
  async request(): Promise<string> {
    const job = await this.queue.add("backfill", { cursor: "0" }, {
      jobId: BACKFILL_JOB_ID,
      attempts: this.options.attempts,
      backoff: { type: "exponential", delay: 1_000 },
      removeOnComplete: true,
      removeOnFail: 100,
    });
    return job.id ?? BACKFILL_JOB_ID;
  }

  /** Where a walk stands: its state and last progress, or null when none is queued or running. */
  async status(): Promise<{ readonly state: string; readonly progress: BackfillProgress | null; readonly attempts: number } | null> {
    const job = await this.queue.getJob(BACKFILL_JOB_ID);
    if (job === undefined || job === null) return null;
    const progress = typeof job.progress === "object" && job.progress !== null ? (job.progress as unknown as BackfillProgress) : null;
    return { state: await job.getState(), progress, attempts: job.attemptsMade };
  }

  async jobCounts(): Promise<{ readonly queue: string; readonly counts: Readonly<Record<string, number>> }> {
    return { queue: this.options.queueName, counts: await this.queue.getJobCounts() };
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    await this.connection.close();
  }

  private async walk(job: Job<BackfillJobData>, run: BackfillRun): Promise<BackfillProgress> {
    return run({
      cursor: job.data.cursor,
      chunk: this.options.chunk,
      onProgress: async (progress) => {
        // The finished page's cursor first: a retry starts after it.
        await job.updateData({ cursor: progress.cursor });
        await job.updateProgress({ ...progress });
        this.options.onProgress?.(progress);
      },
    });
  }
}
