import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { GameplayEvent } from "../model/gameplay-event.ts";
import type { EventBuffer, PendingBatch } from "./event-buffer.ts";
import { GrantBuffer, type PendingGrant } from "./grant-buffer.ts";
import { positiveOption } from "./positive-option.ts";
import type { ProgressionInstruments } from "./instruments.ts";
import { consoleLogger, type ProgressionLogger } from "../logging/logger.ts";
import { logRecorderError, recorderDefaults, type RecorderErrorReport, type RecorderOptions } from "./recorder-options.ts";

/** What the recorder needs from the engine (a `Progression` is one). */
export interface RecordingEngine {
  readonly logger?: ProgressionLogger;
  readonly instruments?: ProgressionInstruments;
  createBuffer(): EventBuffer;
  /** Applies a batch; `retried` says an earlier attempt of this same batch failed (its reply may be lost). */
  applyBatch(batch: PendingBatch, options?: { readonly retried?: boolean }): Promise<unknown>;
  readonly ledger: {
    acquire(request: { subject: string; item: string; quantity: number; idempotencyKey: string }): Promise<unknown>;
  };
}

/** Counters for dashboards, health checks and tests. */
export interface RecorderStats {
  /** Events accepted by `record()` since start. */
  readonly recordedEvents: number;
  /** Events `record()` refused (bad input, the buffer bound, shutdown). */
  readonly rejectedEvents: number;
  /** Events recorded and not yet applied (buffered or in the batch being retried). */
  readonly pendingEvents: number;
  readonly pendingIncrements: number;
  /** Item grants waiting (coalesced per subject and item), including failed ones being retried. */
  readonly pendingGrants: number;
  readonly appliedEvents: number;
  readonly appliedBatches: number;
  /** Consecutive failed attempts of the current batch (0 when healthy). */
  readonly failedAttempts: number;
  /** Duration of the last successful apply, and the longest one so far (milliseconds). */
  readonly lastApplyMs: number;
  readonly maxApplyMs: number;
  /** From the oldest event of a batch being recorded to the batch being applied: last and longest (ms). */
  readonly lastFlushLagMs: number;
  readonly maxFlushLagMs: number;
}

/**
 * The recorder: gameplay events and item grants go in synchronously (validated, coalesced in memory),
 * and come out as batched applies, one at a time, every `flushIntervalMs` or sooner when the buffer is
 * large. It is the whole exactly-once protocol of docs/semantics.md ("Recording: exactly once"):
 *
 * - a drained batch keeps its batch id until it is applied: a failed apply is retried with the same
 *   batch, with backoff, while new events keep buffering; the backend applies a batch id once per
 *   subject, so a retry after a lost reply changes nothing, and the engine then reports the awards the
 *   lost reply carried (`retried: true`);
 * - grants are drained with a key per drain and item and retried with that key, so each is granted once;
 * - the buffer is bounded: at the bound `record()` refuses with BACKEND_UNAVAILABLE, never dropping silently;
 * - `close()` refuses new input, applies everything (retrying up to `shutdownTimeoutMs`), and reports
 *   what it could not apply.
 *
 * Free of Colyseus; the room plugin's host owns one per process.
 */
export class Recorder {
  private readonly engine: RecordingEngine;
  private readonly settings: Required<Omit<RecorderOptions, "onError" | "logger" | "instruments">>;
  private readonly onError: (report: RecorderErrorReport) => void;
  private readonly instruments: ProgressionInstruments;
  private readonly measuresMeanLag: boolean;
  private readonly buffer: EventBuffer;
  private readonly grants = new GrantBuffer();
  /** Drained grants whose acquire failed: retried with the same key, so each is granted once. */
  private failedGrants: PendingGrant[] = [];
  private grantsInFlight: Promise<boolean> | null = null;
  private readonly grantTimer: NodeJS.Timeout;
  private readonly flushTimer: NodeJS.Timeout;

  /** The drained batch until it is applied: retried as is, so its batch id makes the retry apply once. */
  private retryBatch: PendingBatch | null = null;
  /** Increments in `retryBatch`, counted once at drain (record() checks the bound on every call). */
  private batchIncrements = 0;
  private lastBatchIncrements = 0;
  private inFlight: Promise<void> | null = null;
  private retryAt = 0;
  private failedAttempts = 0;
  private earlyFlushScheduled = false;
  private recordedEvents = 0;
  private rejectedEvents = 0;
  private appliedEvents = 0;
  private appliedBatches = 0;
  private closing: Promise<void> | null = null;
  private lastApplyMs = 0;
  private maxApplyMs = 0;
  private lastFlushLagMs = 0;
  private maxFlushLagMs = 0;
  /** When the oldest event still in the buffer was recorded (0: buffer empty). */
  private oldestBufferedAt = 0;
  /** Sum of the record times of the buffered events (their mean age at apply is what a player waits). */
  private bufferedAtSum = 0;
  /** Same, for the batch being applied or retried. */
  private oldestInBatchAt = 0;
  private batchAtSum = 0;

  constructor(engine: RecordingEngine, options: RecorderOptions = {}) {
    this.engine = engine;
    const option = (name: keyof typeof recorderDefaults): number => positiveOption(name, options[name], recorderDefaults[name]);
    this.settings = {
      flushIntervalMs: option("flushIntervalMs"),
      flushSize: option("flushSize"),
      grantIntervalMs: option("grantIntervalMs"),
      maxBufferedIncrements: option("maxBufferedIncrements"),
      retryBaseMs: option("retryBaseMs"),
      retryMaxMs: option("retryMaxMs"),
      shutdownTimeoutMs: option("shutdownTimeoutMs"),
    };
    this.onError = options.onError ?? logRecorderError(options.logger ?? engine.logger ?? consoleLogger);
    this.instruments = options.instruments ?? engine.instruments ?? {};
    this.measuresMeanLag = this.instruments.flushed !== undefined;
    this.buffer = engine.createBuffer();
    this.flushTimer = setInterval(() => this.onTick(), this.settings.flushIntervalMs);
    this.flushTimer.unref();
    this.grantTimer = setInterval(() => {
      if (this.grantsInFlight === null && (this.grants.pendingGrants > 0 || this.failedGrants.length > 0)) void this.flushGrants();
    }, this.settings.grantIntervalMs);
    this.grantTimer.unref();
  }

  /**
   * Records one gameplay event. It is validated now (a bad event throws a ProgressionError and nothing is
   * kept), buffered, and applied by the next flush. At the buffer bound it throws BACKEND_UNAVAILABLE: the
   * store has been unreachable for a long time and nothing more is accepted.
   */
  record(event: GameplayEvent): void {
    try {
      this.refuseWhenClosing("records");
      this.checkBound();
      this.buffer.add(event);
    } catch (error) {
      this.rejectedEvents += 1;
      this.instruments.eventRejected?.(error instanceof ProgressionError ? error.code : "INTERNAL");
      throw error;
    }
    this.recordedEvents += 1;
    // One clock read per event only when metrics want the mean wait (push latency); otherwise one per batch.
    if (this.measuresMeanLag) {
      const now = performance.now();
      this.bufferedAtSum += now;
      if (this.oldestBufferedAt === 0) this.oldestBufferedAt = now;
    } else if (this.oldestBufferedAt === 0) {
      this.oldestBufferedAt = performance.now();
    }
    if (this.buffer.pendingIncrements >= this.settings.flushSize && !this.earlyFlushScheduled) {
      this.earlyFlushScheduled = true;
      setImmediate(() => {
        this.earlyFlushScheduled = false;
        this.onTick();
      });
    }
  }

  /**
   * Grants `quantity` of `item` to `subject` (e.g. loot), coalesced with other grants of the same item and
   * applied within `grantIntervalMs` as one ledger acquire. Validated now (a ProgressionError on bad input,
   * BACKEND_UNAVAILABLE at the buffer bound); retried exactly once per grant if the store fails. Before
   * spending a subject's items, call `flushGrants(subject)`.
   */
  grant(subject: string, item: string, quantity: number): void {
    this.refuseWhenClosing("grants");
    this.checkBound();
    this.grants.add(subject, item, quantity);
  }

  /**
   * Applies pending grants now (all, or only `subject`'s, e.g. before a trade), plus earlier failed ones.
   * Resolves true when none is left failing.
   */
  async flushGrants(subject?: string): Promise<boolean> {
    if (subject === undefined) {
      if (this.grantsInFlight !== null) await this.grantsInFlight;
      const run = this.applyGrants(this.grants.drain(), undefined).finally(() => {
        this.grantsInFlight = null;
      });
      this.grantsInFlight = run;
      return run;
    }
    if (!this.grants.has(subject) && !this.failedGrants.some((grant) => grant.subject === subject)) return true;
    return this.applyGrants(this.grants.drain(subject), subject);
  }

  /**
   * Applies every event recorded before this call (waiting through retries), up to `timeoutMs`.
   * Resolves true when they are all applied, false at the timeout (they stay buffered and keep retrying).
   */
  async flush(timeoutMs: number = this.settings.shutdownTimeoutMs): Promise<boolean> {
    const target = this.recordedEvents;
    const deadline = Date.now() + timeoutMs;
    let grantsDone = await this.flushGrants();
    for (;;) {
      if (this.inFlight !== null) await this.inFlight;
      if (!grantsDone) grantsDone = await this.flushGrants();
      if (this.appliedEvents >= target && grantsDone) return true;
      const now = Date.now();
      if (now >= deadline) return false;
      if (this.appliedEvents >= target) {
        await sleep(Math.min(this.settings.retryBaseMs, deadline - now)); // only grants are failing
        continue;
      }
      if (this.retryAt > now) await sleep(Math.min(this.retryAt, deadline) - now);
      else await this.step();
    }
  }

  /**
   * Graceful shutdown: refuses new events, applies everything buffered (retrying up to `shutdownTimeoutMs`),
   * then stops the timers. What it could not apply is reported through `onError` (stage "shutdown").
   * Calling it again waits for the first call.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  get stats(): RecorderStats {
    return {
      recordedEvents: this.recordedEvents,
      rejectedEvents: this.rejectedEvents,
      pendingEvents: this.recordedEvents - this.appliedEvents,
      pendingIncrements: this.buffer.pendingIncrements + this.batchIncrements,
      pendingGrants: this.grants.pendingGrants + this.failedGrants.length,
      appliedEvents: this.appliedEvents,
      appliedBatches: this.appliedBatches,
      failedAttempts: this.failedAttempts,
      lastApplyMs: this.lastApplyMs,
      maxApplyMs: this.maxApplyMs,
      lastFlushLagMs: this.lastFlushLagMs,
      maxFlushLagMs: this.maxFlushLagMs,
    };
  }

  private async shutDown(): Promise<void> {
    const flushed = await this.flush(this.settings.shutdownTimeoutMs);
    clearInterval(this.flushTimer);
    clearInterval(this.grantTimer);
    if (!flushed) {
      const pending = this.recordedEvents - this.appliedEvents + this.grants.pendingGrants + this.failedGrants.length;
      this.onError({
        stage: "shutdown",
        error: new ProgressionError(
          ErrorCode.BackendUnavailable,
          `${pending} recorded events and grants could not be applied before shutdownTimeoutMs=${this.settings.shutdownTimeoutMs}`,
          { pending },
        ),
      });
    }
  }

  private refuseWhenClosing(what: string): void {
    if (this.closing !== null) {
      throw new ProgressionError(ErrorCode.Closed, `the recorder is shutting down and takes no more ${what}; record before server shutdown`);
    }
  }

  private checkBound(): void {
    const held = this.buffer.pendingIncrements + this.batchIncrements + this.grants.pendingGrants + this.failedGrants.length;
    if (held >= this.settings.maxBufferedIncrements) {
      throw new ProgressionError(
        ErrorCode.BackendUnavailable,
        `the event buffer is full (${held} increments waiting, maxBufferedIncrements=${this.settings.maxBufferedIncrements}): ` +
          "the store has been failing; the event was not recorded, retry once the store is back",
        { held, maxBufferedIncrements: this.settings.maxBufferedIncrements },
      );
    }
  }

  private async applyGrants(drained: readonly PendingGrant[], subject: string | undefined): Promise<boolean> {
    const retried = this.failedGrants.filter((grant) => subject === undefined || grant.subject === subject);
    this.failedGrants = this.failedGrants.filter((grant) => !retried.includes(grant));
    const results = await Promise.allSettled(
      [...retried, ...drained].map(async (grant) => {
        try {
          await this.engine.ledger.acquire(grant);
        } catch (error) {
          this.failedGrants.push(grant);
          throw error;
        }
      }),
    );
    const failure = results.find((result) => result.status === "rejected");
    if (failure !== undefined) this.onError({ stage: "grant", error: failure.reason });
    return failure === undefined;
  }

  private onTick(): void {
    if (this.inFlight !== null || Date.now() < this.retryAt) return;
    if (this.retryBatch === null && this.buffer.pendingEvents === 0) return;
    void this.step().then(() => {
      // A slow apply already used up the interval: go again now instead of idling until the next tick.
      if (this.buffer.pendingIncrements >= this.settings.flushSize || this.lastApplyMs >= this.settings.flushIntervalMs) {
        this.onTick();
      }
    });
  }

  /** One apply attempt; at most one runs at a time. Never rejects: failures schedule a retry. */
  private step(): Promise<void> {
    if (this.inFlight !== null) return this.inFlight;
    const attempt = this.applyOnce().finally(() => {
      this.inFlight = null;
    });
    this.inFlight = attempt;
    return attempt;
  }

  private async applyOnce(): Promise<void> {
    let batch = this.retryBatch;
    if (batch === null) {
      if (this.buffer.pendingEvents === 0) return;
      batch = this.buffer.drain();
      this.retryBatch = batch;
      this.batchIncrements = countIncrements(batch);
      this.oldestInBatchAt = this.oldestBufferedAt;
      this.batchAtSum = this.bufferedAtSum;
      this.oldestBufferedAt = 0;
      this.bufferedAtSum = 0;
    }
    try {
      const started = performance.now();
      if (batch.subjects.length > 0) await this.engine.applyBatch(batch, { retried: this.failedAttempts > 0 });
      this.lastApplyMs = performance.now() - started;
      this.maxApplyMs = Math.max(this.maxApplyMs, this.lastApplyMs);
      this.retryBatch = null;
      this.lastBatchIncrements = this.batchIncrements;
      this.batchIncrements = 0;
      this.failedAttempts = 0;
      this.retryAt = 0;
      this.appliedEvents += batch.events;
      this.appliedBatches += 1;
      const appliedAt = performance.now();
      if (this.oldestInBatchAt > 0) {
        this.lastFlushLagMs = appliedAt - this.oldestInBatchAt;
        this.maxFlushLagMs = Math.max(this.maxFlushLagMs, this.lastFlushLagMs);
      }
      this.instruments.flushed?.({
        events: batch.events,
        increments: this.lastBatchIncrements,
        applyMs: this.lastApplyMs,
        oldestLagMs: this.lastFlushLagMs,
        meanLagMs: batch.events > 0 ? appliedAt - this.batchAtSum / batch.events : 0,
      });
    } catch (error) {
      this.failedAttempts += 1;
      const exponential = this.settings.retryBaseMs * 2 ** Math.min(this.failedAttempts - 1, 20);
      const delay = Math.min(this.settings.retryMaxMs, exponential) * (0.5 + Math.random() / 2);
      this.retryAt = Date.now() + delay;
      this.instruments.flushFailed?.(this.failedAttempts);
      this.onError({ stage: "flush", error, attempt: this.failedAttempts });
    }
  }
}

/** Creates a recorder for an engine: one per process, shared by everything that records. */
export function createRecorder(engine: RecordingEngine, options: RecorderOptions = {}): Recorder {
  return new Recorder(engine, options);
}

function countIncrements(batch: PendingBatch): number {
  let count = 0;
  for (const subject of batch.subjects) count += subject.increments.length;
  return count;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
