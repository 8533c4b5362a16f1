import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { resolveSchedule } from "../../src/durability/jobs/adaptive-schedule.ts";
import { snapshotDirtySubjects } from "../../src/durability/jobs/snapshot-dirty-subjects.ts";
import { SnapshotJob } from "../../src/durability/jobs/snapshot-job.ts";
import { createPostgresStore, type PostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import type { SnapshotWriter } from "../../src/durability/postgres/snapshot-writer.ts";
import { Redis } from "ioredis";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { openSuiteDatabase, type SuiteDatabase } from "./durability-fixtures.ts";

let database: SuiteDatabase;
let store: PostgresStore;

beforeAll(async () => {
  database = await openSuiteDatabase();
  store = createPostgresStore({ pool: database.pool, schema: "progression" });
  await store.migrate();
});

afterAll(async () => {
  await store.close();
  await database.close();
});

describe("two snapshot passes of one subject in the same millisecond", () => {
  it("the older export, landing second, does not replace the newer balances and holds", async () => {
    const T = Date.parse("2026-06-01T12:00:00Z");
    const backend = createMemoryBackend();
    await backend.acquire({ subject: "p1", item: "gem", quantity: 10, idempotencyKey: "grant", now: T });

    // Pass A exports the subject before the hold, and its write waits until pass B has written.
    let releaseA: () => void = () => {};
    const gate = new Promise<void>((resolve) => (releaseA = resolve));
    let exportedA!: () => void;
    const aExported = new Promise<void>((resolve) => (exportedA = resolve));
    const delayed: SnapshotWriter = {
      ...store.writer,
      write: async (snapshots, takenAt) => {
        exportedA();
        await gate;
        return store.writer.write(snapshots, takenAt);
      },
    };
    const frozen = () => T; // both passes read the same millisecond
    const passA = snapshotDirtySubjects(backend, delayed, { chunkSize: 10, maxSubjects: 10, clock: frozen });
    await aExported;
    const { hold } = await backend.hold({ subject: "p1", item: "gem", quantity: 3, ttlMs: 3_600_000, idempotencyKey: "buy", now: T });
    await snapshotDirtySubjects(backend, store.writer, { chunkSize: 10, maxSubjects: 10, clock: frozen });
    releaseA();
    await passA;

    const restored = await store.loader("p1");
    expect(restored?.balances).toEqual([{ subject: "p1", item: "gem", free: 7, held: 3 }]);
    expect(restored?.holds.map((h) => h.holdId)).toEqual([hold.holdId]);
  });
});

describe("snapshotNow while a scheduled run is writing", () => {
  it("resolves only once the subjects that run took from the dirty set are in PostgreSQL", async () => {
    const backend = createMemoryBackend();
    await backend.acquire({ subject: "p2", item: "gem", quantity: 5, idempotencyKey: "grant", now: Date.now() });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const scheduledWriting = new Promise<void>((resolve) => (entered = resolve));
    let gated = true;
    const writer: SnapshotWriter = {
      ...store.writer,
      write: async (snapshots, takenAt) => {
        if (gated) {
          gated = false;
          entered();
          await gate; // the scheduled run's write is slow
        }
        return store.writer.write(snapshots, takenAt);
      },
    };
    const prefix = randomPrefix("order");
    const job = new SnapshotJob({
      redis: testRedisUrl(),
      prefix,
      queueName: "snapshot",
      source: backend,
      writer,
      schedule: resolveSchedule({ minIntervalMs: 60_000, maxIntervalMs: 60_000 }),
      chunkSize: 10,
      maxSubjectsPerRun: 10,
      clock: Date.now,
      onError: () => undefined,
    });
    try {
      await job.start(); // the scheduler fires at once: that run takes p2 and blocks in its write
      await scheduledWriting;
      let done = false;
      const now = job.snapshotAll().then((result) => {
        done = true;
        return result;
      });
      // The memory backend answers in microtasks: a pass that did not wait would have resolved by now.
      await new Promise((resolve) => setImmediate(resolve));
      expect(done).toBe(false);
      release();
      await now;
      expect((await store.loader("p2"))?.balances).toEqual([{ subject: "p2", item: "gem", free: 5, held: 0 }]);
    } finally {
      release();
      await job.close();
      const redis = new Redis(testRedisUrl());
      await deleteKeysWithPrefix(redis, prefix);
      redis.disconnect();
    }
  });
});
