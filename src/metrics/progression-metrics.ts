import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ProgressionInstruments } from "../runtime/instruments.ts";
import type { RecorderStats } from "../runtime/recorder.ts";

/** A queue's jobs by state (BullMQ's getJobCounts), as durability reports them. */
export interface QueueJobCounts {
  readonly queue: string;
  readonly counts: Readonly<Record<string, number>>;
}

/** What the gauges read at scrape time. */
export interface MetricsSources {
  /** The recorder's counters: `host.stats` (Colyseus) or `recorder.stats`. */
  readonly stats?: () => RecorderStats;
  /** BullMQ queue depths: `() => durability.jobCounts()`. */
  readonly queues?: () => Promise<readonly QueueJobCounts[]>;
  /**
   * How far PostgreSQL is behind the applies: `() => durability.historyArchiveLag()` (the snapshot job's
   * watermark, src/durability/jobs/history-archive-lag.ts); `lagMs` null before the first complete pass.
   */
  readonly historyArchiveLag?: () => Promise<{ readonly lagMs: number | null }>;
}

export interface ProgressionMetricsOptions {
  /** Where the series are registered. Default: a new registry (`metrics.registry`). */
  readonly registry?: Registry;
  /** Prefix of every series name. Default: "progression_". */
  readonly prefix?: string;
}

export interface ProgressionMetrics {
  readonly registry: Registry;
  /** Pass to `createProgression({ instruments })`: the host's recorder picks them up from the engine. */
  readonly instruments: ProgressionInstruments;
  /** Tells the gauges where to read (call once the host and durability exist). */
  watch(sources: MetricsSources): void;
  /** The exposition text for a `/metrics` route, and its content type. */
  text(): Promise<string>;
  readonly contentType: string;
}

/** Flush lag and push latency: 1 ms to 10 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus series for the recorder, the flusher, the ledger and the BullMQ queues (every name is listed
 * in docs/operations.md). Counters that move per event are read from the recorder's stats at scrape time;
 * the one per-event cost is a clock read for the push-latency mean.
 */
export function createProgressionMetrics(options: ProgressionMetricsOptions = {}): ProgressionMetrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? "progression_";
  let sources: MetricsSources = {};
  const registers = [registry];

  /** A counter fed from a cumulative value read at scrape time. */
  const cumulative = (name: string, help: string, read: (stats: RecorderStats) => number): void => {
    let reported = 0;
    new Counter({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        const stats = sources.stats?.();
        if (stats === undefined) return;
        const value = read(stats);
        if (value > reported) this.inc(value - reported);
        reported = value;
      },
    });
  };
  const gauge = (name: string, help: string, read: (stats: RecorderStats) => number): void => {
    new Gauge({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        const stats = sources.stats?.();
        if (stats !== undefined) this.set(read(stats));
      },
    });
  };

  cumulative("events_recorded_total", "Gameplay events accepted by record().", (stats) => stats.recordedEvents);
  cumulative("events_applied_total", "Gameplay events applied to the store.", (stats) => stats.appliedEvents);
  gauge("buffer_events", "Events recorded and not applied yet (buffered or being retried).", (stats) => stats.pendingEvents);
  gauge("buffer_increments", "Coalesced increments waiting, counting the batch being retried (the buffer bound counts these).", (stats) => stats.pendingIncrements);
  gauge("grants_pending", "Coalesced item grants waiting, including failed ones being retried.", (stats) => stats.pendingGrants);
  gauge("flush_failed_attempts", "Consecutive failed attempts of the current batch (0 when healthy).", (stats) => stats.failedAttempts);

  const rejected = new Counter({ name: `${prefix}events_rejected_total`, help: "Events record() refused, by error code.", labelNames: ["code"], registers });
  const flushFailures = new Counter({ name: `${prefix}flush_failures_total`, help: "Apply attempts that failed and were retried.", registers });
  const applyDuration = new Histogram({ name: `${prefix}apply_duration_seconds`, help: "Duration of one batched apply, pushes included.", buckets: LATENCY_BUCKETS, registers });
  const flushLag = new Histogram({ name: `${prefix}flush_lag_seconds`, help: "From the oldest event of a batch being recorded to its pushes being sent.", buckets: LATENCY_BUCKETS, registers });
  const pushLatency = new Histogram({
    name: `${prefix}push_latency_seconds`,
    help: "From an event being recorded to its unlock and progress pushes being sent (the average event of each batch).",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const ledger = new Counter({
    name: `${prefix}ledger_operations_total`,
    help: "Ledger calls by operation and result (ok, replayed, or the error code).",
    labelNames: ["operation", "result"],
    registers,
  });
  const suspicious = new Counter({
    name: `${prefix}suspicious_events_total`,
    help: "Events a stat guard refused (progression.suspicious), by trigger and guard (maxAmount, maxPerWindow).",
    labelNames: ["trigger", "guard"],
    registers,
  });
  new Gauge({
    name: `${prefix}queue_jobs`,
    help: "BullMQ jobs by queue and state (waiting, active, delayed, failed...).",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      const queues = await sources.queues?.().catch(() => undefined);
      if (queues === undefined) return;
      this.reset();
      for (const { queue, counts } of queues) for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
    },
  });

  // Registered once a source is watched: without durability there is no archive to be behind.
  let archiveLagGauge: Gauge | undefined;
  const watchArchiveLag = (): void => {
    archiveLagGauge ??= new Gauge({
      name: `${prefix}history_archive_lag_seconds`,
      help: "Age of the oldest applied event that may not be in PostgreSQL yet (snapshots and history); NaN before the first snapshot pass.",
      registers,
      async collect() {
        const lag = await sources.historyArchiveLag?.().catch(() => undefined);
        // Unknown when it cannot be read: the last value would be a claim nobody checked.
        this.set(lag === undefined || lag.lagMs === null ? Number.NaN : lag.lagMs / 1000);
      },
    });
  };

  const instruments: ProgressionInstruments = {
    eventRejected: (code) => rejected.inc({ code }),
    flushFailed: () => flushFailures.inc(),
    flushed(report) {
      applyDuration.observe(report.applyMs / 1000);
      flushLag.observe(report.oldestLagMs / 1000);
      pushLatency.observe(report.meanLagMs / 1000);
    },
    ledgerOperation: (operation, result) => ledger.inc({ operation, result }),
    suspicious: (trigger, guard) => suspicious.inc({ trigger, guard }),
  };

  return {
    registry,
    instruments,
    watch(next) {
      sources = { ...sources, ...next };
      if (sources.historyArchiveLag !== undefined) watchArchiveLag();
    },
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
