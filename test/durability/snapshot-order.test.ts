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

describe("a pass that takes the next chunk while it writes one", () => {
  const subjects = ["s1", "s2", "s3", "s4", "s5"];
  const dirtyBackend = async () => {
    const backend = createMemoryBackend();
    for (const subject of subjects) await backend.acquire({ subject, item: "gem", quantity: 1, idempotencyKey: `g-${subject}`, now: Date.now() });
    return backend;
  };

  it("exports the next chunk before the current one is written, and writes them in the order taken", async () => {
    const backend = await dirtyBackend();
    const events: string[] = [];
    const exporting: typeof backend.exportSubjects = backend.exportSubjects.bind(backend);
    backend.exportSubjects = async (chunk) => {
      events.push(`export ${chunk.join(",")}`);
      return exporting(chunk);
    };
    const writer: SnapshotWriter = {
      write: async (snapshots) => {
        const names = snapshots.map((s) => s.subject).join(",");
        events.push(`write ${names}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`written ${names}`);
        return { subjects: snapshots.length, rows: snapshots.length, staleSubjects: 0 };
      },
    };
    const result = await snapshotDirtySubjects(backend, writer, { chunkSize: 2, maxSubjects: Number.POSITIVE_INFINITY, clock: Date.now });
    expect(result).toMatchObject({ written: 5, backlog: 0 });
    const chunks = events.filter((event) => event.startsWith("write ")).map((event) => event.slice("write ".length));
    expect(chunks).toHaveLength(3);
    // Each next chunk was exported while the one before it was still being written, and written after it.
    for (let i = 1; i < chunks.length; i += 1) {
      expect(events.indexOf(`export ${chunks[i]}`)).toBeLessThan(events.indexOf(`written ${chunks[i - 1]}`));
      expect(events.indexOf(`write ${chunks[i]}`)).toBeGreaterThan(events.indexOf(`written ${chunks[i - 1]}`));
    }
  });

  it("puts back the chunk being written and the one taken ahead of it when a write fails: nothing is lost", async () => {
    for (const failOn of [1, 2]) {
      const backend = await dirtyBackend();
      let writes = 0;
      const writer: SnapshotWriter = {
        write: async (snapshots) => {
          writes += 1;
          if (writes === failOn) throw new Error("connection refused");
          return { subjects: snapshots.length, rows: snapshots.length, staleSubjects: 0 };
        },
      };
      await expect(snapshotDirtySubjects(backend, writer, { chunkSize: 2, maxSubjects: Number.POSITIVE_INFINITY, clock: Date.now })).rejects.toThrow("connection refused");
      // Written before the failure: 2 subjects per successful write; every other subject is dirty again.
      expect(await backend.dirtyCount()).toBe(subjects.length - 2 * (failOn - 1));
    }
  });
});
