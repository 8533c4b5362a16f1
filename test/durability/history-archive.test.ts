import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { createDurability, type Durability, type DurabilityOptions } from "../../src/durability/create-durability.ts";
import { snapshotDirtySubjects } from "../../src/durability/jobs/snapshot-dirty-subjects.ts";
import { createPostgresHistoryArchive, HISTORY_PARTITION_DAYS } from "../../src/durability/postgres/history-archive.ts";
import { createPostgresStore, type PostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { mergeParts, type HistoryPart, type HistoryRollup } from "../../src/model/history.ts";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";
import { dayOf, DAY_MS } from "../../src/model/utc-day.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { openSuiteDatabase, snapshotOf, type SuiteDatabase } from "./durability-fixtures.ts";

/**
 * The PostgreSQL history archive: what the snapshot job writes there, what the backend drops after it,
 * what the engine reads back, partitions and retention. Real PostgreSQL (a throwaway database for the
 * suite, a fresh schema per test) and the memory backend.
 */

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const definitions: MilestoneDefinitionInput[] = [
  { code: "slayer_3", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 3 } },
];
/** Noon of a fixed UTC day: the engine's and durability's "now" in these tests. */
const NOW = Date.parse("2026-03-15T12:00:00Z");
const TODAY = dayOf(NOW);
const clock = (): number => NOW;

let database: SuiteDatabase;
let redis: Redis;
const bullPrefixes: string[] = [];

beforeAll(async () => {
  database = await openSuiteDatabase();
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const prefix of bullPrefixes) await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
  await database.close();
});

/** A migrated store on a schema no other test uses. */
async function freshStore(): Promise<PostgresStore> {
  const store = createPostgresStore({ pool: database.pool, schema: `hist_${randomBytes(4).toString("hex")}` });
  await store.migrate();
  return store;
}

function newDurability(store: PostgresStore, overrides: Partial<DurabilityOptions> = {}): Durability {
  const bullPrefix = randomPrefix("hist");
  bullPrefixes.push(bullPrefix);
  return createDurability({
    redis: testRedisUrl(),
    store,
    bullPrefix,
    // Runs only when asked (snapshotNow), but for the one the scheduler fires at start.
    schedule: { minIntervalMs: 60_000, maxIntervalMs: 60_000 },
    events: { backoffMs: 10, onError: () => undefined },
    clock,
    logger: quiet,
    ...overrides,
  });
}

function part(values: Partial<HistoryPart> & Pick<HistoryPart, "day">): HistoryPart {
  return { part: "p1", type: "kill", tags: "", count: 1, sum: 1, firstAt: values.day * DAY_MS, lastAt: values.day * DAY_MS, maxAmount: 1, ...values };
}

/** The rollups' own fields (mergeParts may hand back the stored part objects). */
function totals(rollups: readonly HistoryRollup[]): HistoryRollup[] {
  return rollups.map(({ type, tags, day, count, sum, firstAt, lastAt, maxAmount }) => ({ type, tags, day, count, sum, firstAt, lastAt, maxAmount }));
}

function withHistory(subject: string, history: readonly HistoryPart[], historyCompleteFor?: string | null): SubjectSnapshot {
  return { ...snapshotOf(subject, {}), history, ...(historyCompleteFor === undefined ? {} : { historyCompleteFor }) };
}

/** Rows of `<schema>.history` by key, with the physical row version (xmin changes when a row is rewritten). */
async function storedRows(store: PostgresStore): Promise<Map<string, { count: string; sum: string; first_at: string; last_at: string; max_amount: string; xmin: string }>> {
  const result = await database.pool.query<{ key: string; count: string; sum: string; first_at: string; last_at: string; max_amount: string; xmin: string }>(
    `SELECT subject || '|' || day || '|' || type || '|' || tags || '|' || part AS key, count, sum, first_at, last_at, max_amount, xmin::text
     FROM "${store.schema}".history`,
  );
  return new Map(result.rows.map(({ key, ...row }) => [key, row]));
}

describe("the snapshot job and the history archive", () => {
  it("archives every rollup; the backend drops the old days and progression.history still returns the same totals", async () => {
    const store = await freshStore();
    const durability = newDurability(store);
    const backend = createMemoryBackend();
    const progression = createProgression({ definitions, backend, events: durability.bus, clock, onMissingTranslations: () => {} });
    try {
      await durability.start(progression);
      const days = [TODAY - 40, TODAY - 10, TODAY - 2, TODAY - 1, TODAY];
      await progression.recordBatch(
        days.flatMap((day, index) => [
          { type: "kill", subject: "hero", amount: 2 + index, at: day * DAY_MS + 1_000, tags: { creature: "goblin" } },
          { type: "kill", subject: "hero", amount: 1, at: day * DAY_MS + 5_000, tags: { creature: "goblin" } },
          { type: "loot", subject: "hero", amount: 7, at: day * DAY_MS + 9_000 },
        ]),
      );
      const before = await progression.history("hero");
      expect(before).toHaveLength(days.length * 2);

      await durability.snapshotNow();

      // Everything the export carried is in the archive...
      const archived = (await durability.historyArchive!.read(["hero", "nobody"])).get("hero") ?? [];
      expect(totals(mergeParts([archived]))).toEqual(before);
      expect((await durability.historyArchive!.read(["nobody"])).size).toBe(0);
      // ...the backend kept only today and yesterday (historyHotDays 2)...
      const own = await backend.readHistory("hero");
      expect([...new Set(own.parts.map((p) => p.day))].sort()).toEqual([TODAY - 1, TODAY]);
      // ...and the engine reads the rest from the archive.
      expect(await progression.history("hero")).toEqual(before);
    } finally {
      await durability.close();
      await progression.close();
    }
  });

  it("a late event on an archived day goes into a part of its own ('+') that adds to the same key", async () => {
    const store = await freshStore();
    const durability = newDurability(store);
    const backend = createMemoryBackend();
    const progression = createProgression({ definitions, backend, events: durability.bus, clock, onMissingTranslations: () => {} });
    const oldDay = TODAY - 5;
    try {
      await durability.start(progression);
      await progression.record({ type: "kill", subject: "late", amount: 3, at: oldDay * DAY_MS + 1_000 });
      await durability.snapshotNow();
      expect((await backend.readHistory("late")).parts).toEqual([]);

      await progression.record({ type: "kill", subject: "late", amount: 4, at: oldDay * DAY_MS + 2_000 });
      await durability.snapshotNow();

      const parts = (await durability.historyArchive!.read(["late"])).get("late") ?? [];
      expect(parts).toHaveLength(2);
      expect(parts.filter((p) => p.part.includes("+"))).toEqual([expect.objectContaining({ day: oldDay, count: 1, sum: 4 })]);
      expect(await progression.history("late")).toEqual([
        { type: "kill", tags: "", day: oldDay, count: 2, sum: 7, firstAt: oldDay * DAY_MS + 1_000, lastAt: oldDay * DAY_MS + 2_000, maxAmount: 4 },
      ]);
    } finally {
      await durability.close();
      await progression.close();
    }
  });

  it("a backend that fails to drop archived parts does not fail the pass; they are dropped by the next one", async () => {
    const store = await freshStore();
    const backend = createMemoryBackend();
    const progression = createProgression({ definitions, backend, clock, onMissingTranslations: () => {} });
    const errors: unknown[] = [];
    let failDrops = true;
    const flaky: ProgressionBackend = Object.assign(Object.create(backend) as ProgressionBackend, {
      dropArchivedHistory: async (...args: Parameters<ProgressionBackend["dropArchivedHistory"]>) => {
        if (failDrops) throw new Error("backend unreachable");
        return backend.dropArchivedHistory(...args);
      },
    });
    try {
      await progression.record({ type: "kill", subject: "s", amount: 2, at: (TODAY - 3) * DAY_MS });
      const options = { chunkSize: 10, maxSubjects: 10, clock, onHistoryDropFailed: (error: unknown) => void errors.push(error) };
      await expect(snapshotDirtySubjects(flaky, store.writer, options)).resolves.toMatchObject({ written: 1 });
      expect(errors).toEqual([expect.objectContaining({ message: "backend unreachable" })]);
      expect((await backend.readHistory("s")).parts).toHaveLength(1);
      expect((await createPostgresHistoryArchive(store).read(["s"])).get("s")).toHaveLength(1);

      // The subject went back into the dirty set: the next pass exports it again and drops its parts.
      expect(await backend.dirtyCount()).toBe(1);
      failDrops = false;
      await snapshotDirtySubjects(flaky, store.writer, options);
      expect(await backend.dirtyCount()).toBe(0);
      expect((await backend.readHistory("s")).parts).toEqual([]);
      expect(await progression.history("s")).toEqual([]); // no archive attached to this engine: gone from its view
      expect((await createPostgresHistoryArchive(store).read(["s"])).get("s")).toEqual([expect.objectContaining({ count: 1, sum: 2 })]);
    } finally {
      await progression.close();
    }
  });
});

describe("the history writer", () => {
  it("is idempotent: the same snapshot written twice changes no row, a newer copy with larger values wins, an older one lowers nothing", async () => {
    const store = await freshStore();
    const parts = [
      part({ day: TODAY - 3, count: 5, sum: 50, maxAmount: 20 }),
      part({ day: TODAY - 3, type: "loot", tags: '{"rarity":"epic"}', count: 2, sum: 9, maxAmount: 8 }),
      part({ day: TODAY, count: 1, sum: 1 }),
    ];
    const snapshot = withHistory("twice", parts);
    await store.writer.write([snapshot], NOW);
    const first = await storedRows(store);
    await store.writer.write([snapshot], NOW + 1);
    await store.writer.write([snapshot], NOW + 2);
    expect(await storedRows(store)).toEqual(first);
    const archive = createPostgresHistoryArchive(store);
    expect(totals(mergeParts([(await archive.read(["twice"])).get("twice") ?? []]))).toEqual(totals(mergeParts([parts])));

    // The part grew in the backend: the newer copy replaces the stored values, key by key.
    const grown = part({ day: TODAY - 3, count: 7, sum: 61, firstAt: (TODAY - 3) * DAY_MS - 5, lastAt: (TODAY - 2) * DAY_MS - 1, maxAmount: 20 });
    await store.writer.write([withHistory("twice", [grown])], NOW + 3);
    // An older copy arriving late (smaller values) lowers nothing.
    await store.writer.write([withHistory("twice", [part({ day: TODAY - 3, count: 3, sum: 10, maxAmount: 4 })])], NOW + 4);
    const stored = (await archive.read(["twice"])).get("twice") ?? [];
    expect(stored).toHaveLength(3);
    expect(stored.find((p) => p.type === "kill" && p.day === TODAY - 3)).toEqual(grown);
    // Each value merges on its own: copies where a single value is larger and every other one smaller.
    const killed = async (): Promise<HistoryPart | undefined> =>
      ((await archive.read(["twice"])).get("twice") ?? []).find((p) => p.type === "kill" && p.day === TODAY - 3);
    const smaller = { ...grown, count: 1, sum: 1, firstAt: grown.lastAt, lastAt: grown.firstAt, maxAmount: 1 };
    let expected: HistoryPart = grown;
    let takenAt = NOW + 5;
    for (const larger of [{ count: 8 }, { sum: 70 }, { firstAt: grown.firstAt - 1 }, { lastAt: grown.lastAt + 1 }, { maxAmount: 30 }]) {
      await store.writer.write([withHistory("twice", [{ ...smaller, ...larger }])], (takenAt += 1));
      expected = { ...expected, ...larger };
      expect(await killed()).toEqual(expected);
    }
  });

  it("creates one partition per 32 UTC days, on demand, also for days far apart", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    expect(await archive.partitions()).toEqual([]);
    const days = [TODAY, TODAY - 400, TODAY + 1, 3, -1];
    await store.writer.write([withHistory("far", days.map((day) => part({ day })))], NOW);
    const starts = [...new Set(days.map((day) => Math.floor(day / HISTORY_PARTITION_DAYS) * HISTORY_PARTITION_DAYS))].sort((a, b) => a - b);
    const partitions = await archive.partitions();
    expect(partitions.map((p) => [p.fromDay, p.toDay])).toEqual(starts.map((start) => [start, start + HISTORY_PARTITION_DAYS]));
    // Each row sits in the partition of its day.
    const placed = await database.pool.query<{ day: number; partition: string }>(
      `SELECT h.day, c.relname AS partition FROM "${store.schema}".history h JOIN pg_class c ON c.oid = h.tableoid`,
    );
    expect(placed.rows).toHaveLength(days.length);
    for (const row of placed.rows) {
      const holder = partitions.find((p) => p.fromDay <= row.day && row.day < p.toDay);
      expect(row.partition).toBe(holder?.name);
    }
    expect(((await archive.read(["far"])).get("far") ?? []).map((p) => p.day).sort((a, b) => a - b)).toEqual([...days].sort((a, b) => a - b));
  });

  it("retention drops whole partitions that end before the day, and nothing from that day on", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    const cut = Math.floor(TODAY / HISTORY_PARTITION_DAYS) * HISTORY_PARTITION_DAYS; // a partition boundary
    const days = [cut - 2 * HISTORY_PARTITION_DAYS, cut - 1, cut, cut + 5];
    await store.writer.write([withHistory("old", days.map((day) => part({ day })))], NOW);
    expect(await archive.partitions()).toHaveLength(3);

    const dropped = await archive.dropHistoryBefore(cut);
    expect(dropped.map((p) => p.fromDay)).toEqual([cut - 2 * HISTORY_PARTITION_DAYS, cut - HISTORY_PARTITION_DAYS]);
    expect((await archive.partitions()).map((p) => p.fromDay)).toEqual([cut]);
    expect(((await archive.read(["old"])).get("old") ?? []).map((p) => p.day).sort((a, b) => a - b)).toEqual([cut, cut + 5]);
    // A day inside a partition keeps that partition whole.
    expect(await archive.dropHistoryBefore(cut + 5)).toEqual([]);
    expect(((await archive.read(["old"])).get("old") ?? []).map((p) => p.day).sort((a, b) => a - b)).toEqual([cut, cut + 5]);

    // A write to a dropped range afterwards recreates its partition (this process forgot it).
    await store.writer.write([withHistory("old", [part({ day: cut - 1, part: "p1+late" })])], NOW + 1);
    expect((await archive.partitions()).map((p) => p.fromDay)).toEqual([cut - HISTORY_PARTITION_DAYS, cut]);
  });

  it("recovers when another process dropped a partition it still remembers", async () => {
    const store = await freshStore();
    const day = TODAY - 100;
    await store.writer.write([withHistory("gone", [part({ day })])], NOW);
    // Another process's retention: a pool this process's writer does not share.
    const other = createPostgresStore({ databaseUrl: database.url, schema: store.schema });
    try {
      await createPostgresHistoryArchive(other).dropHistoryBefore(TODAY);
    } finally {
      await other.close();
    }
    const late = withHistory("gone", [part({ day, part: "p1+2", count: 2, sum: 2 })]);
    await expect(store.writer.write([late], NOW + 1)).rejects.toThrow(/partition/);
    await store.writer.write([late], NOW + 2);
    expect((await createPostgresHistoryArchive(store).read(["gone"])).get("gone")).toEqual([late.history?.[0]]);
  });

  it("applies historyRetentionDays on the scheduled run", async () => {
    const store = await freshStore();
    const old = TODAY - 200;
    await store.writer.write([withHistory("kept", [part({ day: old }), part({ day: TODAY - 1 })])], NOW);
    expect(() => newDurability(store, { historyRetentionDays: 1 })).toThrow(/historyRetentionDays/);
    expect(() => newDurability(store, { historyHotDays: 0 })).toThrow(/historyHotDays/);
    const durability = newDurability(store, { historyRetentionDays: 30, schedule: { minIntervalMs: 50, maxIntervalMs: 100 } });
    const progression = createProgression({ definitions, backend: createMemoryBackend(), events: durability.bus, clock, onMissingTranslations: () => {} });
    try {
      await durability.start(progression);
      await expect
        .poll(async () => ((await durability.historyArchive!.read(["kept"])).get("kept") ?? []).map((p) => p.day), { timeout: 5_000, interval: 50 })
        .toEqual([TODAY - 1]);
    } finally {
      await durability.close();
      await progression.close();
    }
  });
});

describe("historyCompleteFor", () => {
  it("survives a restore through the loader (the rollups stay in the archive)", async () => {
    const store = await freshStore();
    const durability = newDurability(store);
    const first = createMemoryBackend();
    const before = createProgression({ definitions, backend: first, events: durability.bus, clock, onMissingTranslations: () => {} });
    await durability.start(before);
    await before.record({ type: "kill", subject: "hero", amount: 2, at: NOW - 3 * DAY_MS });
    const completeFor = (await first.historyStatus("hero")).completeFor;
    expect(completeFor).toEqual(expect.any(String));
    await durability.close();
    await before.close();

    const restored = await store.loader("hero");
    expect(restored?.historyCompleteFor).toBe(completeFor);
    expect(restored?.history).toBeUndefined();

    const second = createMemoryBackend({ loader: store.loader });
    const after = createProgression({ definitions, backend: second, clock, onMissingTranslations: () => {} });
    after.useHistoryArchive(createPostgresHistoryArchive(store));
    try {
      expect((await second.historyStatus("hero")).completeFor).toBe(completeFor);
      expect(await after.history("hero")).toEqual([expect.objectContaining({ type: "kill", count: 1, sum: 2 })]);
    } finally {
      await after.close();
    }
  });

  it("the newer snapshot's value wins; an older one, or one that does not say, keeps it", async () => {
    const store = await freshStore();
    await store.writer.write([withHistory("s", [], "set-a")], NOW);
    expect((await store.loader("s"))?.historyCompleteFor).toBe("set-a");
    await store.writer.write([withHistory("s", [], "set-b")], NOW + 10);
    expect((await store.loader("s"))?.historyCompleteFor).toBe("set-b");
    await store.writer.write([withHistory("s", [], "set-old")], NOW + 5); // exported before the last one
    expect((await store.loader("s"))?.historyCompleteFor).toBe("set-b");
    await store.writer.write([snapshotOf("s", {})], NOW + 20); // a backend without history
    expect((await store.loader("s"))?.historyCompleteFor).toBe("set-b");
    await store.writer.write([withHistory("s", [], null)], NOW + 30);
    expect((await store.loader("s"))?.historyCompleteFor).toBeUndefined();
  });
});
