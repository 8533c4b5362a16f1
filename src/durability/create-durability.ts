import type { AwardProvenanceSource } from "../model/award-provenance.ts";
import type { DomainEventBus } from "../events/domain-event-bus.ts";
import { BullMQEventBus, type BullMQEventBusOptions } from "./events/bullmq-event-bus.ts";
import { resolveSchedule, type AdaptiveSchedule } from "./jobs/adaptive-schedule.ts";
import { HoldExpiryJobs } from "./jobs/hold-expiry-jobs.ts";
import { BackfillJob, type BackfillRun } from "./jobs/backfill-job.ts";
import type { BackfillProgress } from "../history/backfill.ts";
import type { HoldExpiry } from "../runtime/hold-expiry.ts";
import { bullPrefixFor, queueRedisAddress, requireQueueName, requireQueueRedis, type QueueRedis } from "./jobs/queue-connection.ts";
import type { SnapshotPassResult } from "./jobs/snapshot-dirty-subjects.ts";
import { SnapshotJob } from "./jobs/snapshot-job.ts";
import type { HistoryArchiveLag } from "./jobs/history-archive-lag.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { SnapshotSource } from "../backends/contract/progression-backend.ts";
import type { SubjectLoader } from "../model/subject-state.ts";
import { createPostgresStore, type PostgresStore } from "./postgres/postgres-store.ts";
import { consoleLogger, type ProgressionLogger } from "../logging/logger.ts";
import { OutageLog } from "../logging/outage-log.ts";
import { describeError } from "../logging/logger.ts";
import type { HistoryArchive } from "../history/history-archive.ts";
import { createPostgresHistoryArchive, type PostgresHistoryArchive } from "./postgres/history-archive.ts";
import { eraseSubjectRows } from "./postgres/erase-subject.ts";
import { addressOf, connectionReason, unreachable, withTimeout } from "../errors/unreachable.ts";
import type { BackendHealth } from "../backends/contract/progression-backend.ts";

/**
 * Durability for Redis mode in one call: PostgreSQL snapshots (adaptive BullMQ job), restore on first
 * access (`loader`), hold expiry jobs, durable domain events, the ledger journal and the history
 * archive (`historyArchive`, attached to the engine at start).
 *
 *   const durability = createDurability({ redis: process.env.REDIS_URL, databaseUrl: process.env.DATABASE_URL });
 *   const backend = createRedisBackend({ ..., loader: durability.loader });
 *   const progression = createProgression({ definitions, backend, events: durability.bus, holdExpiry: durability.holdExpiry });
 *   await durability.start(progression);
 *   ...
 *   await progression.close();  // closes durability first (workers finish their job, final snapshot), then the backend
 *
 * Without `databaseUrl` (and `store`), it runs without PostgreSQL — no snapshots, no restore — and
 * says so at start: Redis is then the only copy of progress (see docs/durability.md).
 */

export interface DurabilityOptions {
  /**
   * Redis for the BullMQ queues and workers: a redis:// URL, ioredis options, or a Redis Cluster as
   * `{ cluster: ["host:port", ...], options?: ClusterOptions }` (durability opens and closes the clients). Required.
   */
  redis: QueueRedis;
  /** PostgreSQL connection string. Default: none (durability without PostgreSQL, announced at start). */
  databaseUrl?: string;
  /** What set `databaseUrl`, named when PostgreSQL cannot be reached at start ("DATABASE_URL"). Default: "databaseUrl". */
  databaseUrlSource?: string;
  /** An existing store instead of `databaseUrl` (its pool is the caller's to close). */
  store?: PostgresStore;
  /** PostgreSQL schema of the tables. Default `"progression"`. */
  schema?: string;
  /** Queue names are `<queuePrefix>-snapshot`, `-hold-expiry`, `-events`. Default `"progression"`. */
  queuePrefix?: string;
  /**
   * BullMQ key prefix. Default `"bull"`; on a Redis Cluster `"{bull}"`: there it must hold a hash tag (every key
   * of a queue on one slot, as BullMQ's scripts need), and one without is refused.
   */
  bullPrefix?: string;
  /** The domain event bus. Default: a BullMQEventBus on `<queuePrefix>-events` with `events` options. */
  bus?: DomainEventBus;
  /** Options of the default bus (queue and redis are set here). Default: the bus's own defaults. */
  events?: Omit<BullMQEventBusOptions, "redis" | "queueName" | "prefix">;
  /** Adaptive snapshot interval. Default `adaptiveScheduleDefaults` (1 s .. 30 s, x2, snap at 1000 dirty). */
  schedule?: Partial<AdaptiveSchedule>;
  /** Subjects per COPY transaction. Default 5000. */
  snapshotChunkSize?: number;
  /** Subjects one snapshot run writes at most (the rest waits for the next run, at min interval). Default 100 000. */
  maxSubjectsPerRun?: number;
  /** Interval of the sweep that releases expired holds whose job was never enqueued. Default 5000 ms. */
  holdSweepIntervalMs?: number;
  /**
   * Also enqueue one delayed job per hold, due at its expiry, so it is released on the millisecond rather
   * than within `holdSweepIntervalMs`. Costs a BullMQ job per hold. Default false.
   */
  holdJobPerHold?: boolean;
  /** Holds released per sweep call. Default 500. */
  holdSweepLimit?: number;
  /** Hold expiry jobs processed at once. Default 4. */
  holdExpiryConcurrency?: number;
  /**
   * Record `inventory.changed` events in the PostgreSQL ledger journal and awards' receipts
   * (`milestone.reached`, with what made each award) in the award journal `explain` reads. Default true
   * (when PostgreSQL is on).
   */
  journal?: boolean;
  /**
   * UTC days (today included) whose history rollups stay in the backend once archived: older ones are
   * dropped from it after each snapshot wrote them to PostgreSQL. Default 2 (today and yesterday).
   */
  historyHotDays?: number;
  /**
   * Drop archived history older than this many UTC days (today included), by whole 32-day partitions, at
   * most once an hour. At least `historyHotDays`. Default: none (the archive keeps every day).
   */
  historyRetentionDays?: number;
  /** Time source for snapshot ordering. Default Date.now. */
  clock?: () => number;
  /** Where announcements and background errors go (one line per outage). Default: the console, prefixed. */
  logger?: ProgressionLogger;
}

export const durabilityDefaults = {
  schema: "progression",
  queuePrefix: "progression",
  /** On a single Redis; on a Redis Cluster the default is `"{bull}"` (CLUSTER_BULL_PREFIX). */
  bullPrefix: "bull",
  snapshotChunkSize: 5000,
  maxSubjectsPerRun: 100_000,
  holdSweepIntervalMs: 1000,
  holdJobPerHold: false,
  holdSweepLimit: 500,
  holdExpiryConcurrency: 4,
  journal: true,
  historyHotDays: 2,
  clock: Date.now,
  logger: consoleLogger,
} as const;

/** What durability needs from the engine: a `Progression` satisfies it. */
export interface DurableEngine {
  readonly backend: SnapshotSource;
  /** Durability closes with the engine, before its backend. */
  onClose(hook: () => Promise<void>): void;
  /** Where the engine reads history the backend no longer holds (durability's PostgreSQL archive). */
  useHistoryArchive?(archive: HistoryArchive): void;
  /** Where `explain` reads awards' provenance (durability's PostgreSQL award journal). */
  useAwardJournal?(journal: AwardProvenanceSource): void;
  /** `progression.erase` runs the hook first: durability deletes the subject's PostgreSQL rows there. */
  onErase?(hook: (subject: string) => Promise<void>): void;
  /** The walk `durability.backfill()` runs as a BullMQ job (`progression.backfill`). */
  readonly backfill?: BackfillRun;
}

export interface Durability {
  readonly bus: DomainEventBus;
  /** Restore hook for the backend (`loader` option): null for unknown subjects, always null without PostgreSQL. */
  readonly loader: SubjectLoader;
  readonly store: PostgresStore | undefined;
  /**
   * The PostgreSQL history archive the snapshot job writes (undefined without PostgreSQL); `start` hands
   * it to the engine (`useHistoryArchive`). Each call waits for the migrations first.
   */
  readonly historyArchive: PostgresHistoryArchive | undefined;
  /**
   * The hold-expiry mechanism of Redis mode (BullMQ jobs): pass it to `createProgression({ holdExpiry })`
   * so the engine runs no timer of its own; its worker starts with `start()`.
   */
  readonly holdExpiry: HoldExpiry;
  /**
   * Applies migrations, starts the snapshot scheduler, the hold expiry jobs and the journal listener, and
   * makes `engine.close()` close durability first.
   */
  start(engine: DurableEngine): Promise<void>;
  /** Jobs of each queue by state (snapshot, hold expiry, domain events), for metrics. */
  jobCounts(): Promise<readonly { readonly queue: string; readonly counts: Readonly<Record<string, number>> }[]>;
  /** PostgreSQL (`SELECT 1`) and the BullMQ Redis connection (PING), each bounded by a timeout. */
  health(): Promise<Record<string, BackendHealth>>;
  /** Writes every dirty subject now. */
  snapshotNow(): Promise<SnapshotPassResult>;
  /**
   * How far PostgreSQL (snapshots and history rollups) is behind the applies: the snapshot job's watermark
   * and its age (jobs/history-archive-lag.ts); both null without PostgreSQL or before the first pass.
   */
  historyArchiveLag(): Promise<HistoryArchiveLag>;
  /**
   * Backfills every player from history (after a deploy added milestones) as one BullMQ job for the
   * deployment, resumable: it continues from the last page it finished after a failure or a crash.
   * Returns the job id; a request while a walk runs joins that walk.
   */
  backfill(): Promise<string>;
  /** The backfill walk's state and progress, or null when none is queued or running. */
  backfillStatus(): Promise<{ readonly state: string; readonly progress: BackfillProgress | null; readonly attempts: number } | null>;
  /** Workers stop after their current job, then a final snapshot, then queues, bus and pool close. */
  close(): Promise<void>;
}

export function createDurability(options: DurabilityOptions): Durability {
  const settings = { ...durabilityDefaults, ...definedOnly(options) };
  const bullPrefix = bullPrefixFor(requireQueueRedis(options.redis), options.bullPrefix);
  const queuePrefix = requireQueueName(settings.queuePrefix, "queuePrefix");
  const schedule = resolveSchedule(options.schedule);
  for (const option of ["snapshotChunkSize", "maxSubjectsPerRun", "holdSweepIntervalMs", "holdSweepLimit", "holdExpiryConcurrency", "historyHotDays"] as const) {
    const value = settings[option];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new ProgressionError(ErrorCode.InvalidInput, `${option} must be a positive integer, got ${String(value)}`, { [option]: value });
    }
  }
  const retentionDays = settings.historyRetentionDays;
  if (retentionDays !== undefined && (!Number.isSafeInteger(retentionDays) || retentionDays < settings.historyHotDays)) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `historyRetentionDays must be an integer of at least historyHotDays (${settings.historyHotDays}), got ${String(retentionDays)}; leave it out to keep the history forever`,
      { historyRetentionDays: retentionDays },
    );
  }
  const logger = settings.logger;
  // Queue and worker connections retry on their own; an outage is logged once, and its end once.
  const redisOutage = new OutageLog(logger, `durability: Redis (BullMQ) at ${redisAddress(options.redis)}`);
  const postgresOutage = new OutageLog(logger, "durability: PostgreSQL snapshots");
  const historyDropOutage = new OutageLog(logger, "durability: dropping archived history from the backend");
  const onError = (error: unknown): void => redisOutage.failed(error);

  const store =
    options.store ??
    (options.databaseUrl === undefined ? undefined : createPostgresStore({ databaseUrl: options.databaseUrl, schema: settings.schema }));
  const ownsStore = options.store === undefined;
  const historyArchive = store === undefined ? undefined : migratedArchive(store);
  const ownedBus =
    options.bus === undefined
      ? new BullMQEventBus({ logger, ...options.events, redis: options.redis, queueName: `${queuePrefix}-events`, prefix: bullPrefix })
      : undefined;
  const bus: DomainEventBus = options.bus ?? (ownedBus as BullMQEventBus);
  const afterJob = ownedBus === undefined ? undefined : () => ownedBus.enqueued();

  const backfills = new BackfillJob({
    redis: options.redis,
    prefix: bullPrefix,
    queueName: `${queuePrefix}-backfill`,
    chunk: 500,
    attempts: 10,
    onError,
    onProgress: (progress) => logger.info(`durability: backfill visited ${progress.visited} players, seeded ${progress.seeded}, awarded ${progress.awarded}`),
  });
  let backfillStarted = false;
  const holds = new HoldExpiryJobs({
    redis: options.redis,
    prefix: bullPrefix,
    queueName: `${queuePrefix}-hold-expiry`,
    sweepIntervalMs: settings.holdSweepIntervalMs,
    jobPerHold: settings.holdJobPerHold,
    sweepLimit: settings.holdSweepLimit,
    concurrency: settings.holdExpiryConcurrency,
    onError,
    onSwept: () => redisOutage.recovered(),
    ...(afterJob === undefined ? {} : { afterJob }),
  });
  let snapshots: SnapshotJob | undefined;
  let unsubscribeJournal: (() => void) | undefined;
  let started = false;
  let closing: Promise<void> | undefined;

  const notStarted = (what: string): ProgressionError =>
    new ProgressionError(ErrorCode.InvalidInput, `${what} needs a started durability: call durability.start(progression) first`);

  return {
    bus,
    store,
    historyArchive,
    holdExpiry: holds,
    loader: async (subject) => (store === undefined ? null : store.loader(subject)),

    async start(engine) {
      if (started) return;
      started = true;
      engine.onClose(() => this.close());
      if (store === undefined) {
        logger.warn(
          "durability: no databaseUrl, running WITHOUT PostgreSQL: no snapshots and no restore; " +
            "progress lives only in Redis (enable AOF, or set DATABASE_URL)",
        );
      } else {
        let applied: readonly number[];
        try {
          applied = await store.migrate();
        } catch (error) {
          // A wrong address or a database that is down: one line naming where, not pg's stack.
          if (options.databaseUrl !== undefined && isConnectionFailure(error)) {
            throw unreachable("PostgreSQL", addressOf(options.databaseUrl, 5432), options.databaseUrlSource ?? "databaseUrl", error);
          }
          throw error;
        }
        if (applied.length > 0) logger.info(`durability: applied migrations ${applied.join(", ")} to schema ${store.schema}`);
        if (historyArchive !== undefined) engine.useHistoryArchive?.(historyArchive);
        if (settings.journal) engine.useAwardJournal?.(store.awardJournal);
        engine.onErase?.(async (subject) => {
          await store.migrate();
          await eraseSubjectRows(store.pool, store.schema, subject);
        });
        snapshots = new SnapshotJob({
          redis: options.redis,
          prefix: bullPrefix,
          queueName: `${queuePrefix}-snapshot`,
          source: engine.backend,
          writer: store.writer,
          schedule,
          chunkSize: settings.snapshotChunkSize,
          maxSubjectsPerRun: settings.maxSubjectsPerRun,
          clock: settings.clock,
          historyHotDays: settings.historyHotDays,
          ...(retentionDays === undefined || historyArchive === undefined
            ? {}
            : {
                historyRetention: {
                  days: retentionDays,
                  dropBefore: (day: number) => historyArchive.dropHistoryBefore(day),
                  onError: (error: unknown) => logger.warn(`durability: history retention failed (tried again within the hour): ${describeError(error)}`),
                },
              }),
          ...(historyArchive === undefined
            ? {}
            : {
                // The engine's historyRawEvents.retentionDays, told to the archive at useHistoryArchive.
                rawEventsRetention: {
                  days: () => historyArchive.rawEventRetentionDays(),
                  dropBefore: (day: number) => historyArchive.dropRawEventsBefore(day),
                  onError: (error: unknown) => logger.warn(`durability: raw event retention failed (tried again within the hour): ${describeError(error)}`),
                },
              }),
          onError,
          onHistoryDropFailed: (error) => historyDropOutage.failed(error),
          onHistoryDropped: () => historyDropOutage.recovered(),
          onRun: (run) => {
            if (run.failed) postgresOutage.failed(run.error);
            else {
              postgresOutage.recovered();
              redisOutage.recovered();
            }
          },
        });
        await snapshots.start();
        if (settings.journal) {
          const journal = store.journal;
          const ledgerListener = bus.on("inventory.changed", "progression.ledger-journal", async (envelope) => {
            await journal.append(journal.entriesOf(envelope));
          });
          const awardListener = bus.on("milestone.reached", "progression.award-journal", async (envelope) => {
            await store.awardJournal.append(envelope);
          });
          unsubscribeJournal = () => {
            ledgerListener();
            awardListener();
          };
        }
      }
      if (engine.backfill !== undefined) {
        backfills.start(engine.backfill);
        backfillStarted = true;
      }
      if (holds.attached) await holds.start();
      else logger.warn("durability: the engine runs its own hold expiry; pass holdExpiry: durability.holdExpiry to createProgression to run it as BullMQ jobs");
    },

    async jobCounts() {
      const sources = [holds.jobCounts(), backfills.jobCounts(), ...(snapshots === undefined ? [] : [snapshots.jobCounts()]), ...(ownedBus === undefined ? [] : [ownedBus.jobCounts()])];
      return Promise.all(sources);
    },

    async health() {
      const checks: Record<string, BackendHealth> = {};
      const redisAt = `Redis (BullMQ) at ${redisAddress(options.redis)}`;
      checks["bullmq"] = await withTimeout(holds.ping(), HEALTH_TIMEOUT_MS).then(
        () => ({ ok: true, detail: `${redisAt}: PONG` }),
        (error: unknown) => ({ ok: false, detail: `${redisAt}: ${connectionReason(error)}` }),
      );
      if (store !== undefined) {
        const postgresAt = `PostgreSQL at ${options.databaseUrl === undefined ? "(injected store)" : addressOf(options.databaseUrl, 5432)}`;
        checks["postgres"] = await withTimeout(store.pool.query("SELECT 1"), HEALTH_TIMEOUT_MS).then(
          () => ({ ok: true, detail: `${postgresAt}: SELECT 1 answered` }),
          (error: unknown) => ({ ok: false, detail: `${postgresAt}: ${connectionReason(error)}` }),
        );
      }
      return checks;
    },

    async backfill() {
      if (!backfillStarted) throw notStarted("backfill (an engine with backfill)");
      return backfills.request();
    },

    backfillStatus: () => backfills.status(),

    historyArchiveLag: async () => (snapshots === undefined ? { archivedThrough: null, lagMs: null } : snapshots.historyArchiveLag()),

    async snapshotNow() {
      if (snapshots === undefined) throw notStarted("snapshotNow (with PostgreSQL)");
      return snapshots.snapshotAll();
    },

    close() {
      closing ??= (async () => {
        await backfills.close();
        await holds.close();
        try {
          const final = await snapshots?.close();
          if (final !== undefined && final.written > 0) logger.info(`durability: final snapshot wrote ${final.written} subjects`);
        } finally {
          snapshots = undefined;
          // The bus first: its worker finishes the journal deliveries in flight before the listener goes.
          if (ownedBus !== undefined) await ownedBus.close();
          unsubscribeJournal?.();
          if (ownsStore) await store?.close();
        }
      })();
      return closing;
    },
  };
}

/** The store's history archive, each call waiting for the store's migrations (like its loader). */
function migratedArchive(store: PostgresStore): PostgresHistoryArchive {
  const archive = createPostgresHistoryArchive({ pool: store.pool, schema: store.schema });
  return {
    async read(subjects, selection, rawEventsFromDay) {
      await store.migrate();
      return archive.read(subjects, selection, rawEventsFromDay);
    },
    async dropHistoryBefore(day) {
      await store.migrate();
      return archive.dropHistoryBefore(day);
    },
    async partitions() {
      await store.migrate();
      return archive.partitions();
    },
    async dropRawEventsBefore(day) {
      await store.migrate();
      return archive.dropRawEventsBefore(day);
    },
    async rawEventPartitions() {
      await store.migrate();
      return archive.rawEventPartitions();
    },
    rawEventRetentionDays: () => archive.rawEventRetentionDays(),
    useRawEventRetention: (retentionDays) => archive.useRawEventRetention(retentionDays),
  };
}

/** Where the queues connect, for messages (no credentials). */
function redisAddress(redis: QueueRedis): string {
  return typeof redis === "string" ? addressOf(redis, 6379) : queueRedisAddress(redis);
}

const HEALTH_TIMEOUT_MS = 3_000;

function isConnectionFailure(error: unknown): boolean {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : "";
  return (
    (typeof code === "string" && ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH"].includes(code)) ||
    /timeout|terminated|Connection terminated/i.test(message)
  );
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
