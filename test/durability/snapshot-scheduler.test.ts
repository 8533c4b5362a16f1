import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createPostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import { resolveSchedule } from "../../src/durability/jobs/adaptive-schedule.ts";
import { SnapshotJob, type SnapshotRunReport } from "../../src/durability/jobs/snapshot-job.ts";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { openSuiteDatabase, type SuiteDatabase } from "./durability-fixtures.ts";

let database: SuiteDatabase;
let redis: Redis;
const prefix = randomPrefix("sched");

beforeAll(async () => {
  database = await openSuiteDatabase();
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
  await database.close();
});

it("backs off while idle, then snaps to the minimum interval when a large backlog shows up", async () => {
  const backend = createMemoryBackend();
  const progression = createProgression({
    definitions: [{ code: "k", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 100 } }],
    backend,
    onMissingTranslations: () => {},
  });
  const store = createPostgresStore({ pool: database.pool, schema: "scheduled" });
  const runs: { at: number; report: SnapshotRunReport }[] = [];
  const job = new SnapshotJob({
    redis: testRedisUrl(),
    prefix,
    queueName: "snapshot",
    source: backend,
    writer: store.writer,
    schedule: resolveSchedule({ minIntervalMs: 50, maxIntervalMs: 400, backoffFactor: 2, highBacklog: 5 }),
    chunkSize: 100,
    maxSubjectsPerRun: 1000,
    clock: Date.now,
    onError: () => undefined,
    onRun: (report) => runs.push({ at: Date.now(), report }),
  });
  try {
    await job.start();
    await expect.poll(() => runs.at(-1)?.report.next.intervalMs, { timeout: 5000, interval: 20 }).toBe(400);
    const idleRuns = runs.length;
    expect(runs.slice(0, 3).map((run) => run.report.next.intervalMs)).toEqual([100, 200, 400]);
    // At the maximum, runs are spaced by it (not immediately re-fired by the scheduler update).
    await expect.poll(() => runs.length, { timeout: 3000, interval: 20 }).toBeGreaterThanOrEqual(idleRuns + 1);
    const last = runs.at(-1);
    const beforeLast = runs.at(-2);
    expect((last?.at ?? 0) - (beforeLast?.at ?? 0)).toBeGreaterThanOrEqual(250);

    await progression.recordBatch(Array.from({ length: 8 }, (_, i) => ({ type: "kill", subject: `p${i}` })));
    await expect.poll(() => runs.find((run) => (run.report.written ?? 0) > 0)?.report, { timeout: 3000, interval: 20 }).toMatchObject({
      written: 8,
      failed: false,
      next: { intervalMs: 50, idleStreak: 0 },
    });
    expect(await store.loader("p7")).not.toBeNull();
  } finally {
    await job.close();
    await progression.close();
  }
});
