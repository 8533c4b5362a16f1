import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { SnapshotSource } from "../../src/backends/contract/progression-backend.ts";
import { resolveSchedule } from "../../src/durability/jobs/adaptive-schedule.ts";
import { historyArchivedThroughKey } from "../../src/durability/jobs/history-archive-lag.ts";
import { snapshotDirtySubjects } from "../../src/durability/jobs/snapshot-dirty-subjects.ts";
import { SnapshotJob } from "../../src/durability/jobs/snapshot-job.ts";
import { createPostgresHistoryArchive } from "../../src/durability/postgres/history-archive.ts";
import { createPostgresStore, type PostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import type { SnapshotWriter } from "../../src/durability/postgres/snapshot-writer.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import { createProgressionMetrics } from "../../src/metrics/progression-metrics.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { openSuiteDatabase, type SuiteDatabase } from "./durability-fixtures.ts";

/**
 * The history archive's lag (src/durability/jobs/history-archive-lag.ts): the watermark a snapshot pass
 * that empties the dirty set stores, and its age while applied events wait for the next pass. Real Redis
 * (store, queue and watermark) and PostgreSQL; a clock the test moves.
 */

let database: SuiteDatabase;
let redis: Redis;
const prefixes: string[] = [];
const START = Date.parse("2026-03-15T12:00:00Z");

beforeAll(async () => {
  database = await openSuiteDatabase();
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
  await database.close();
});

interface Fixture {
  readonly store: PostgresStore;
  readonly progression: ReturnType<typeof createProgression>;
  readonly bullPrefix: string;
  readonly backend: SnapshotSource;
  /** The test's clock: the engine's and the job's "now". */
  now: number;
  job(options?: { writer?: SnapshotWriter; maxSubjectsPerRun?: number; source?: SnapshotSource }): SnapshotJob;
  close(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const storePrefix = randomPrefix("lag");
  const bullPrefix = randomPrefix("lag-bull");
  prefixes.push(storePrefix, bullPrefix);
  const store = createPostgresStore({ pool: database.pool, schema: `lag_${randomBytes(4).toString("hex")}` });
  await store.migrate();
  const backend = createRedisBackend({ redis, prefix: storePrefix });
  const jobs: SnapshotJob[] = [];
  const state: Fixture = {
    store,
    bullPrefix,
    backend,
    now: START,
    progression: createProgression({
      definitions: [{ code: "slayer_3", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 3 } }],
      backend,
      clock: () => state.now,
      onMissingTranslations: () => {},
    }),
    job(options = {}) {
      // Never started: passes run only when the test calls snapshotAll (one process's final snapshot).
      const job = new SnapshotJob({
        redis: testRedisUrl(),
        prefix: bullPrefix,
        queueName: "snapshot",
        source: options.source ?? backend,
        writer: options.writer ?? store.writer,
        schedule: resolveSchedule({ minIntervalMs: 60_000, maxIntervalMs: 60_000 }),
        chunkSize: 10,
        maxSubjectsPerRun: options.maxSubjectsPerRun ?? 1000,
        clock: () => state.now,
        onError: () => undefined,
      });
      jobs.push(job);
      return job;
    },
    async close() {
      for (const job of jobs) await job.close({ finalSnapshot: false });
      await state.progression.close();
    },
  };
  return state;
}

async function archivedKills(store: PostgresStore, subject: string): Promise<number> {
  const parts = (await createPostgresHistoryArchive({ pool: store.pool, schema: store.schema }).read([subject])).get(subject) ?? [];
  return parts.filter((part) => part.type === "kill").reduce((sum, part) => sum + part.count, 0);
}

describe("the history archive's lag", () => {
  it("is the age of the oldest applied event not in PostgreSQL yet: it grows until a pass archives it, then reads 0", async () => {
    const f = await fixture();
    try {
      const job = f.job();
      expect(await job.historyArchiveLag()).toEqual({ archivedThrough: null, lagMs: null }); // no pass yet

      await f.progression.record({ type: "kill", subject: "hero" });
      f.now = START + 10;
      await job.snapshotAll();
      expect(await archivedKills(f.store, "hero")).toBe(1);
      // Nothing waits: the dirty set is empty and no pass runs.
      expect(await job.historyArchiveLag()).toEqual({ archivedThrough: START + 10, lagMs: 0 });

      f.now = START + 20;
      await f.progression.record({ type: "kill", subject: "hero" });
      f.now = START + 510;
      // The kill applied at +20 is not in PostgreSQL: everything before +10 is.
      expect(await archivedKills(f.store, "hero")).toBe(1);
      expect(await job.historyArchiveLag()).toEqual({ archivedThrough: START + 10, lagMs: 500 });

      await job.snapshotAll();
      expect(await archivedKills(f.store, "hero")).toBe(2);
      expect(await job.historyArchiveLag()).toEqual({ archivedThrough: START + 510, lagMs: 0 });
      // Kept in Redis next to the queue: another process's job (and a load test) reads the same watermark.
      expect(await redis.get(historyArchivedThroughKey(f.bullPrefix, "snapshot"))).toBe(String(START + 510));
      expect((await f.job().historyArchiveLag()).archivedThrough).toBe(START + 510);
    } finally {
      await f.close();
    }
  });

  it("moves with every chunk whose take empties the dirty set, while applies keep coming during the pass", async () => {
    const f = await fixture();
    try {
      const seen: (number | null)[] = [];
      let takes = 0;
      // Players keep playing while the pass writes: after each of the first three takes, one more kill.
      const busy: SnapshotSource = Object.assign(Object.create(f.backend) as SnapshotSource, {
        takeDirtySubjects: async (limit: number) => {
          const taken = await f.backend.takeDirtySubjects(limit);
          takes += 1;
          seen.push((await job.historyArchiveLag()).archivedThrough);
          f.now += 100;
          if (takes <= 3) await f.progression.record({ type: "kill", subject: "hero" });
          return taken;
        },
      });
      const job = f.job({ source: busy });
      await f.progression.record({ type: "kill", subject: "hero" });
      const result = await job.snapshotAll();
      // Takes at +0, +100, +200, +300 each took "hero" (1 of 10 asked: the set emptied); the fifth found nothing.
      expect(result).toMatchObject({ written: 4, backlog: 0, archivedThrough: START + 400 });
      // Stored as the pass went, chunk by chunk, not only at its end. A take runs while the chunk before
      // it is written (the next chunk is exported ahead), so it sees the watermark of the one before that.
      expect(seen).toEqual([null, null, START, START + 100, START + 200]);
      expect(await archivedKills(f.store, "hero")).toBe(4);
    } finally {
      await f.close();
    }
  });

  it("keeps growing while passes fail or stop with subjects left, and is exported as progression_history_archive_lag_seconds", async () => {
    const f = await fixture();
    const metrics = createProgressionMetrics();
    try {
      const job = f.job();
      await f.progression.record({ type: "kill", subject: "a" });
      await job.snapshotAll();
      expect(await job.historyArchiveLag()).toEqual({ archivedThrough: START, lagMs: 0 });

      // PostgreSQL refuses the write: the pass fails, its subjects go back to the dirty set, the watermark stays.
      const down: SnapshotWriter = { write: () => Promise.reject(new Error("connection refused")) };
      await f.progression.recordBatch([{ type: "kill", subject: "a" }, { type: "kill", subject: "b" }]);
      f.now = START + 2_000;
      await expect(f.job({ writer: down }).snapshotAll()).rejects.toThrow("connection refused");
      expect(await job.historyArchiveLag()).toEqual({ archivedThrough: START, lagMs: 2_000 });

      // A pass that stops at its subject limit with subjects left proves nothing about the others.
      f.now = START + 3_000;
      const capped = await snapshotDirtySubjects(f.backend, f.store.writer, { chunkSize: 10, maxSubjects: 1, clock: () => f.now });
      expect(capped).toEqual({ written: 1, rows: expect.any(Number), backlog: 1 }); // no archivedThrough
      // Under its limit, it found the dirty set empty: everything before its start is archived.
      const drained = await snapshotDirtySubjects(f.backend, f.store.writer, { chunkSize: 10, maxSubjects: 10, clock: () => f.now });
      expect(drained).toMatchObject({ written: 1, backlog: 0, archivedThrough: START + 3_000 });

      // Those passes ran outside the job, so the job's watermark did not move: with an event waiting, the
      // lag counts from it (with none waiting, it reads 0 whatever the watermark).
      expect(await job.historyArchiveLag()).toEqual({ archivedThrough: START, lagMs: 0 });
      await f.progression.record({ type: "kill", subject: "b" });
      expect(await job.historyArchiveLag()).toEqual({ archivedThrough: START, lagMs: 3_000 });
      metrics.watch({ historyArchiveLag: () => job.historyArchiveLag() });
      expect(await metrics.text()).toContain("progression_history_archive_lag_seconds 3\n");

      f.now = START + 3_500;
      await f.progression.record({ type: "kill", subject: "a" });
      await job.snapshotAll();
      expect(await archivedKills(f.store, "a")).toBe(3);
      expect(await archivedKills(f.store, "b")).toBe(2);
      expect(await metrics.text()).toContain("progression_history_archive_lag_seconds 0\n");
    } finally {
      await f.close();
    }
  });

  it("is a series only once watched, NaN before any pass stored a watermark", async () => {
    const f = await fixture();
    const metrics = createProgressionMetrics();
    try {
      const job = f.job();
      expect(await metrics.text()).not.toContain("progression_history_archive_lag_seconds"); // no durability: no archive
      metrics.watch({ historyArchiveLag: () => job.historyArchiveLag() });
      expect(await metrics.text()).toMatch(/^progression_history_archive_lag_seconds Nan$/m);
    } finally {
      await f.close();
    }
  });
});
