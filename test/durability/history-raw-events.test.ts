import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { createDurability, type Durability, type DurabilityOptions } from "../../src/durability/create-durability.ts";
import { createPostgresHistoryArchive } from "../../src/durability/postgres/history-archive.ts";
import { eraseSubjectRows } from "../../src/durability/postgres/erase-subject.ts";
import { createPostgresStore, type PostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import type { HistoryPart } from "../../src/model/history.ts";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";
import { dayOf, DAY_MS } from "../../src/model/utc-day.ts";
import { redisFactory } from "../support/backend-factories.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { openSuiteDatabase, snapshotOf, type SuiteDatabase } from "./durability-fixtures.ts";

/**
 * Raw events in the PostgreSQL history archive (`history_raw_events`, migration 008): what the snapshot
 * job writes there with COPY, what a replayed write changes (nothing), what a backfill reads back, the
 * day partitions and their retention, and erasure. Real PostgreSQL and Redis.
 */

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const anyKill: MilestoneDefinitionInput[] = [{ code: "first_kill", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 1 } }];
const kill5Trolls: MilestoneDefinitionInput = { code: "trolls", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 5, where: { creature: "troll" } } };
const NOW = Date.parse("2026-03-15T12:00:00Z");
const TODAY = dayOf(NOW);
const clock = (): number => NOW;
const TROLL_DAY = TODAY - 5;
const trollKillAt = (n: number): number => TROLL_DAY * DAY_MS + 3_600_000 + n * 3_600_000 + n * 13;

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

async function freshStore(): Promise<PostgresStore> {
  const store = createPostgresStore({ pool: database.pool, schema: `raw_${randomBytes(4).toString("hex")}` });
  await store.migrate();
  return store;
}

function newDurability(store: PostgresStore, overrides: Partial<DurabilityOptions> = {}): Durability {
  const bullPrefix = randomPrefix("raw");
  bullPrefixes.push(bullPrefix);
  return createDurability({
    redis: testRedisUrl(),
    store,
    bullPrefix,
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

function withHistory(subject: string, history: readonly HistoryPart[]): SubjectSnapshot {
  return { ...snapshotOf(subject, {}), history };
}

/** Rows of `<schema>.history_raw_events`, with the physical row version (xmin changes when a row is rewritten). */
async function rawRows(store: PostgresStore): Promise<{ subject: string; day: number; part: string; at: string[]; amount: string[]; xmin: string }[]> {
  const result = await database.pool.query<{ subject: string; day: number; part: string; at: string[]; amount: string[]; xmin: string }>(
    `SELECT subject, day, part, at, amount, xmin::text FROM "${store.schema}".history_raw_events ORDER BY subject, day, type, tags, part`,
  );
  return result.rows;
}

describe("raw events in the PostgreSQL archive", () => {
  it("are archived with their rollups, dropped from Redis with the old days, and read back by a backfill exact to the event", async () => {
    const store = await freshStore();
    const durability = newDurability(store);
    const fixture = await redisFactory.create();
    const progression = createProgression({ definitions: anyKill, backend: fixture.backend, events: durability.bus, clock, historyRawEvents: { retentionDays: 30 }, onMissingTranslations: () => {} });
    try {
      await durability.start(progression);
      const kills = Array.from({ length: 10 }, (_, n) => ({ type: "kill", subject: "hero", tags: { creature: "troll" }, amount: n === 3 ? 2 : 1, at: trollKillAt(n) }));
      await progression.recordBatch([...kills, { type: "kill", subject: "hero", tags: { creature: "troll" }, at: NOW }]);
      await durability.snapshotNow();

      const rows = await rawRows(store);
      expect(rows.map((row) => [row.subject, row.day, row.at.map(Number), row.amount.map(Number)])).toEqual([
        ["hero", TROLL_DAY, kills.map((kill) => kill.at), kills.map((kill) => kill.amount)],
        ["hero", TODAY, [NOW], [1]],
      ]);
      // The backend kept only the hot days, raw events included.
      expect((await fixture.backend.readHistory("hero")).parts.map((p) => [p.day, p.rawEvents])).toEqual([[TODAY, [NOW, 1]]]);
      const partitions = await durability.historyArchive!.rawEventPartitions();
      expect(partitions.map((p) => [p.fromDay, p.toDay])).toEqual([
        [TROLL_DAY, TROLL_DAY + 1],
        [TODAY, TODAY + 1],
      ]);

      // The 4th kill counts 2: the 4th event takes the count to 5.
      progression.reload({ definitions: [...anyKill, kill5Trolls] });
      expect((await progression.catchUp("hero")).map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([["trolls", trollKillAt(3), true]]);
    } finally {
      await durability.close();
      await progression.close();
      await fixture.cleanup();
    }
  });

  it("reads raw events only of the days asked for, and none when not asked", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    const raw = (day: number) => [day * DAY_MS + 5, 1];
    await store.writer.write([withHistory("reader", [part({ day: TODAY - 9, rawEvents: raw(TODAY - 9) }), part({ day: TODAY - 1, rawEvents: raw(TODAY - 1) })])], NOW);
    const read = async (fromDay?: number) =>
      ((await archive.read(["reader"], undefined, fromDay)).get("reader") ?? []).map((p) => [p.day, p.rawEvents]).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(await read()).toEqual([
      [TODAY - 9, undefined],
      [TODAY - 1, undefined],
    ]);
    expect(await read(TODAY - 5)).toEqual([
      [TODAY - 9, undefined],
      [TODAY - 1, raw(TODAY - 1)],
    ]);
    expect(await read(TODAY - 9)).toEqual([
      [TODAY - 9, raw(TODAY - 9)],
      [TODAY - 1, raw(TODAY - 1)],
    ]);
  });

  it("are written idempotently: a replayed write rewrites no row, a longer copy replaces one, a shorter one changes nothing", async () => {
    const store = await freshStore();
    const day = TODAY - 2;
    const events = (n: number) => Array.from({ length: n }, (_, i) => [day * DAY_MS + i * 1000, i + 1]).flat();
    const grown = (n: number) => part({ day, count: n, sum: (n * (n + 1)) / 2, lastAt: day * DAY_MS + (n - 1) * 1000, maxAmount: n, rawEvents: events(n) });
    await store.writer.write([withHistory("twice", [grown(3)])], NOW);
    const first = await rawRows(store);
    expect(first.map((row) => [row.at.length, row.amount.map(Number)])).toEqual([[3, [1, 2, 3]]]);
    await store.writer.write([withHistory("twice", [grown(3)])], NOW + 1);
    expect(await rawRows(store)).toEqual(first);

    await store.writer.write([withHistory("twice", [grown(5)])], NOW + 2);
    const longer = await rawRows(store);
    expect(longer.map((row) => row.amount.map(Number))).toEqual([[1, 2, 3, 4, 5]]);
    expect(longer[0]?.xmin).not.toBe(first[0]?.xmin);
    // An older export arriving late lowers nothing.
    await store.writer.write([withHistory("twice", [grown(4)])], NOW + 3);
    expect(await rawRows(store)).toEqual(longer);

    // A part whose raw events are not all kept (fewer than it counts) writes none.
    await store.writer.write([withHistory("partial", [part({ day, count: 3, sum: 3, rawEvents: events(2) })])], NOW + 4);
    expect((await rawRows(store)).map((row) => row.subject)).toEqual(["twice"]);
    const archived = (await createPostgresHistoryArchive(store).read(["twice", "partial"], undefined, day)).get("twice");
    expect(archived?.[0]?.rawEvents).toEqual(events(5));
  });

  it("drops whole days before the retention: by dropRawEventsBefore, and on the scheduled run with the engine's retentionDays", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    const days = [TODAY - 40, TODAY - 8, TODAY - 7, TODAY - 1, TODAY];
    await store.writer.write([withHistory("old", days.map((day) => part({ day, rawEvents: [day * DAY_MS, 1] })))], NOW);
    expect((await archive.rawEventPartitions()).map((p) => p.fromDay)).toEqual(days);
    const dropped = await archive.dropRawEventsBefore(TODAY - 8);
    expect(dropped.map((p) => p.fromDay)).toEqual([TODAY - 40]);
    expect((await rawRows(store)).map((row) => row.day)).toEqual(days.slice(1));
    // The rollups stay: raw events have a retention of their own.
    expect(((await archive.read(["old"])).get("old") ?? []).map((p) => p.day).sort((a, b) => a - b)).toEqual(days);

    // The engine keeps raw events 7 days (today included): the scheduled run drops the days before.
    const durability = newDurability(store, { schedule: { minIntervalMs: 50, maxIntervalMs: 100 } });
    const progression = createProgression({ definitions: anyKill, backend: createMemoryBackend(), events: durability.bus, clock, historyRawEvents: { retentionDays: 7 }, onMissingTranslations: () => {} });
    try {
      await durability.start(progression);
      expect(durability.historyArchive!.rawEventRetentionDays()).toBe(7);
      await expect.poll(async () => (await rawRows(store)).map((row) => row.day), { timeout: 5_000, interval: 50 }).toEqual([TODAY - 1, TODAY]);
      expect(((await archive.read(["old"])).get("old") ?? []).map((p) => p.day).sort((a, b) => a - b)).toEqual(days);
    } finally {
      await durability.close();
      await progression.close();
    }
  });

  it("have a retention of their own: history retention leaves them, and an engine that keeps none drops none", async () => {
    const store = await freshStore();
    const archive = createPostgresHistoryArchive(store);
    await store.writer.write([withHistory("kept", [part({ day: TODAY - 200 }), part({ day: TODAY - 100, rawEvents: [(TODAY - 100) * DAY_MS, 1] })])], NOW);
    const durability = newDurability(store, { historyRetentionDays: 30, schedule: { minIntervalMs: 50, maxIntervalMs: 100 } });
    const progression = createProgression({ definitions: anyKill, backend: createMemoryBackend(), events: durability.bus, clock, onMissingTranslations: () => {} });
    try {
      await durability.start(progression);
      expect(durability.historyArchive!.rawEventRetentionDays()).toBeUndefined();
      // The scheduled run applied the history's retention...
      await expect.poll(async () => ((await archive.read(["kept"])).get("kept") ?? []).length, { timeout: 5_000, interval: 50 }).toBe(0);
      // ...and left the raw events alone.
      expect((await rawRows(store)).map((row) => row.day)).toEqual([TODAY - 100]);
    } finally {
      await durability.close();
      await progression.close();
    }
  });

  it("erases a player's raw events with the rest of their rows", async () => {
    const store = await freshStore();
    const rawPart = (day: number) => part({ day, rawEvents: [day * DAY_MS, 1] });
    await store.writer.write([withHistory("leaver", [rawPart(TODAY - 3), rawPart(TODAY)]), withHistory("stayer", [rawPart(TODAY)])], NOW);
    const erased = await eraseSubjectRows(database.pool, store.schema, "leaver");
    expect(erased).toMatchObject({ history: 2, history_raw_events: 2 });
    expect((await rawRows(store)).map((row) => row.subject)).toEqual(["stayer"]);
    expect((await createPostgresHistoryArchive(store).read(["leaver"], undefined, 0)).size).toBe(0);
  });
});
