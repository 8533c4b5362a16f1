import { Queue, Worker, type Job } from "bullmq";
import type { SnapshotWriter } from "../postgres/snapshot-writer.ts";
import type { SnapshotSource } from "../../backends/contract/progression-backend.ts";
import { initialScheduleState, nextScheduleState, type AdaptiveSchedule, type ScheduleState } from "./adaptive-schedule.ts";
import { openQueueConnection, requireQueueName, type QueueConnection, type QueueRedis } from "./queue-connection.ts";
import { snapshotDirtySubjects, type SnapshotPassOptions, type SnapshotPassResult } from "./snapshot-dirty-subjects.ts";
import { dayOf } from "../../model/utc-day.ts";
import { historyArchivedThroughKey, readArchivedThrough, recordArchivedThrough, type HistoryArchiveLag } from "./history-archive-lag.ts";

/**
 * The snapshot job: a BullMQ job scheduler (`upsertJobScheduler`) fires `snapshot` jobs; each one
 * writes the dirty subjects and then re-upserts the scheduler with the interval the adaptive schedule
 * picks. The schedule state travels in the scheduler's job template, so whichever process runs the
 * next job continues from it, and one scheduler means one snapshot run at a time across processes.
 * With `historyRetention`, a scheduled run also drops the archived history older than the retention,
 * at most once per `HISTORY_RETENTION_INTERVAL_MS` in each process. Passes store the archive's watermark
 * in Redis as they move it (`historyArchiveLag`, history-archive-lag.ts).
 */

export interface SnapshotJobOptions {
  readonly redis: QueueRedis;
  readonly prefix: string;
  readonly queueName: string;
  readonly source: SnapshotSource;
  readonly writer: SnapshotWriter;
  readonly schedule: AdaptiveSchedule;
  readonly chunkSize: number;
  readonly maxSubjectsPerRun: number;
  readonly clock: () => number;
  /** UTC days (today included) whose archived history parts stay in the backend. Default 2. */
  readonly historyHotDays?: number;
  /** Drop archived history older than `days` UTC days (today included). Default: keep it forever. */
  readonly historyRetention?: HistoryRetention;
  /**
   * Drop archived raw events older than `days()` UTC days (today included): the engine's
   * `historyRawEvents.retentionDays`, asked at each retention run (undefined: the engine keeps none, and
   * those archived stay). Default: none dropped.
   */
  readonly rawEventsRetention?: Omit<HistoryRetention, "days"> & { readonly days: () => number | undefined };
  /** Background failures of the queue and the worker. */
  readonly onError: (error: unknown) => void;
  /** The backend could not drop archived history parts (a later pass drops them). Default: `onError`. */
  readonly onHistoryDropFailed?: (error: unknown) => void;
  /** The backend dropped archived history parts. Default: nothing. */
  readonly onHistoryDropped?: () => void;
  /** Told after every run (tests and metrics). */
  readonly onRun?: (result: SnapshotRunReport) => void;
}

export interface SnapshotRunReport extends Partial<SnapshotPassResult> {
  readonly failed: boolean;
  /** Why the run failed (PostgreSQL or Redis); the subjects are back in the dirty set. */
  readonly error?: unknown;
  readonly next: ScheduleState;
}

export interface HistoryRetention {
  readonly days: number;
  /** Drops the archive's history of the days before `day` (`PostgresHistoryArchive.dropHistoryBefore`). */
  readonly dropBefore: (day: number) => Promise<unknown>;
  /** Told when a drop failed (it is tried again at the next run). */
  readonly onError: (error: unknown) => void;
}

/** How often one process applies the history retention (it drops whole 32-day partitions). */
export const HISTORY_RETENTION_INTERVAL_MS = 3_600_000;

const SCHEDULER_ID = "progression-snapshot";

interface SnapshotJobData {
  readonly state?: ScheduleState;
}

export class SnapshotJob {
  private readonly options: SnapshotJobOptions;
  private readonly connection: QueueConnection;
  private readonly queue: Queue<SnapshotJobData>;
  private worker: Worker<SnapshotJobData> | undefined;
  private lastState: ScheduleState;
  /** The scheduled run in progress, if any. */
  private running: Promise<SnapshotPassResult> | undefined;
  /** When this process last applied the history retention (successfully or not). */
  private retentionAt = Number.NEGATIVE_INFINITY;
  /** Passes of this process under way (scheduled runs and `snapshotAll`). */
  private passesRunning = 0;
  private readonly archivedThroughKey: string;

  constructor(options: SnapshotJobOptions) {
    this.options = options;
    requireQueueName(options.queueName, "snapshotQueue");
    this.connection = openQueueConnection(options.redis);
    this.queue = new Queue<SnapshotJobData>(options.queueName, { connection: this.connection.connection, prefix: options.prefix });
    this.queue.on("error", (error) => options.onError(error));
    this.lastState = initialScheduleState(options.schedule);
    this.archivedThroughKey = historyArchivedThroughKey(options.prefix, options.queueName);
  }

  /** Current interval and streaks as last computed by this process. */
  get state(): ScheduleState {
    return this.lastState;
  }

  async start(): Promise<void> {
    await this.upsertScheduler(this.lastState);
    this.worker = new Worker<SnapshotJobData>(this.options.queueName, (job) => this.run(job), {
      connection: this.connection.connection,
      prefix: this.options.prefix,
      concurrency: 1,
    });
    this.worker.on("error", (error) => this.options.onError(error));
  }

  /**
   * Writes every subject changed before this call, outside the scheduler (also the final snapshot at
   * shutdown). A scheduled run in flight holds subjects it took from the dirty set but has not written yet,
   * so it is waited for first.
   */
  async snapshotAll(): Promise<SnapshotPassResult> {
    await this.running?.catch(() => undefined);
    return this.pass(Number.POSITIVE_INFINITY);
  }

  /**
   * How far PostgreSQL is behind the applies (history-archive-lag.ts): the last watermark a pass stored
   * (whichever process ran it), and its age now.
   */
  async historyArchiveLag(): Promise<HistoryArchiveLag> {
    const archivedThrough = await readArchivedThrough(await this.queue.getBackend().client, this.archivedThroughKey);
    if (archivedThrough === null) return { archivedThrough, lagMs: null };
    const waiting = this.passesRunning > 0 || (await this.options.source.dirtyCount()) > 0;
    return { archivedThrough, lagMs: waiting ? Math.max(0, this.options.clock() - archivedThrough) : 0 };
  }

  /** Jobs of this queue by state (for metrics). */
  async jobCounts(): Promise<{ queue: string; counts: Record<string, number> }> {
    return { queue: this.options.queueName, counts: await this.queue.getJobCounts("waiting", "active", "delayed", "failed") };
  }

  /** Whether the queue's Redis answers (one round trip). */
  async ping(): Promise<void> {
    await this.queue.getJobCounts("waiting");
  }

  /**
   * Stops the worker after its current job, then takes a final snapshot of everything still dirty.
   * The scheduler stays in Redis for the next start (or another process's worker).
   */
  async close(options: { finalSnapshot?: boolean } = {}): Promise<SnapshotPassResult | undefined> {
    await this.worker?.close();
    this.worker = undefined;
    try {
      return options.finalSnapshot === false ? undefined : await this.snapshotAll();
    } finally {
      await this.queue.close();
      await this.connection.close();
    }
  }

  private run(job: Job<SnapshotJobData>): Promise<SnapshotPassResult> {
    const running = this.runScheduled(job);
    this.running = running;
    return running.finally(() => {
      if (this.running === running) this.running = undefined;
    });
  }

  private async runScheduled(job: Job<SnapshotJobData>): Promise<SnapshotPassResult> {
    const previous = job.data.state ?? this.lastState;
    let result: SnapshotPassResult | undefined;
    let failure: unknown;
    try {
      result = await this.pass(this.options.maxSubjectsPerRun);
    } catch (error) {
      failure = error;
    }
    if (failure === undefined) await this.applyRetention();
    const backlog = result?.backlog ?? (await this.options.source.dirtyCount().catch(() => 0));
    const next = nextScheduleState(this.options.schedule, previous, {
      written: result?.written ?? 0,
      backlog,
      failed: failure !== undefined,
    });
    this.lastState = next;
    if (JSON.stringify(next) !== JSON.stringify(previous)) await this.upsertScheduler(next, this.options.clock() + next.intervalMs);
    this.options.onRun?.({ ...result, backlog, failed: failure !== undefined, ...(failure === undefined ? {} : { error: failure }), next });
    // Rethrown so the failed run is visible as a failed job; the data is back in the dirty set.
    if (failure !== undefined) throw failure;
    return result ?? { written: 0, rows: 0, backlog };
  }

  private async pass(maxSubjects: number): Promise<SnapshotPassResult> {
    this.passesRunning += 1;
    try {
      return await snapshotDirtySubjects(this.options.source, this.options.writer, this.passOptions(maxSubjects));
    } finally {
      this.passesRunning -= 1;
    }
  }

  /** Stores the archive's watermark as a pass moves it (a failure there fails no pass). */
  private async storeArchivedThrough(at: number): Promise<void> {
    try {
      await recordArchivedThrough(await this.queue.getBackend().client, this.archivedThroughKey, at);
    } catch (error) {
      this.options.onError(error);
    }
  }

  private passOptions(maxSubjects: number): SnapshotPassOptions {
    return {
      chunkSize: this.options.chunkSize,
      maxSubjects,
      clock: this.options.clock,
      onHistoryDropFailed: this.options.onHistoryDropFailed ?? this.options.onError,
      onArchivedThrough: (at) => this.storeArchivedThrough(at),
      ...(this.options.onHistoryDropped === undefined ? {} : { onHistoryDropped: this.options.onHistoryDropped }),
      ...(this.options.historyHotDays === undefined ? {} : { historyHotDays: this.options.historyHotDays }),
    };
  }

  /** Drops the archived history (and raw events) older than their retention, once per interval; a failure fails no run. */
  private async applyRetention(): Promise<void> {
    const retention = this.options.historyRetention;
    const rawRetention = this.options.rawEventsRetention;
    const rawDays = rawRetention?.days();
    if (retention === undefined && rawDays === undefined) return;
    const now = this.options.clock();
    if (now - this.retentionAt < HISTORY_RETENTION_INTERVAL_MS) return;
    this.retentionAt = now;
    for (const [days, drop] of [
      [retention?.days, retention],
      [rawDays, rawRetention],
    ] as const) {
      if (days === undefined || drop === undefined) continue;
      try {
        await drop.dropBefore(dayOf(now) - (days - 1));
      } catch (error) {
        drop.onError(error);
      }
    }
  }

  /**
   * An `every` scheduler fires at once when upserted; after a run, `firstRunAt` pushes the first job
   * of the new interval one interval out instead, so changing the interval does not add a run.
   */
  private async upsertScheduler(state: ScheduleState, firstRunAt?: number): Promise<void> {
    await this.queue.upsertJobScheduler(
      SCHEDULER_ID,
      firstRunAt === undefined ? { every: state.intervalMs } : { every: state.intervalMs, startDate: firstRunAt },
      {
        name: "snapshot",
        data: { state },
        opts: { attempts: 1, removeOnComplete: 50, removeOnFail: 50 },
      },
    );
  }
}
