import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { snapshotDirtySubjects } from "../../src/durability/jobs/snapshot-dirty-subjects.ts";
import { createPostgresStore, type PostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import type { SnapshotWriter } from "../../src/durability/postgres/snapshot-writer.ts";
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
