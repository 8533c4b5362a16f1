import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { DAY, T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";
import { subjectMemoryPlan, subjectMemoryUsage } from "./subject-memory.ts";

describe("redis backend: memory per subject", () => {
  let backend: ProgressionBackend;
  let client: Redis;
  let prefix: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ backend, client, prefix, cleanup } = await redisBackendForTest());
  });
  afterEach(async () => cleanup());

  it("stays <= 1 KB with 20 counters and 10 awards (and a full ring of 16 batch ids)", async () => {
    const { plan, counterIds } = subjectMemoryPlan();
    for (let batch = 0; batch < 16; batch += 1) {
      const at = T0 + batch * DAY;
      await backend.apply({
        batchId: `batch-${batch}-${"x".repeat(30)}`,
        now: at,
        plan,
        subjects: [{ subject: "player:123456", catchUp: false, increments: counterIds.map((id) => ({ counter: id, amount: 3, at })) }],
      });
    }
    const state = await backend.readState("player:123456");
    expect(state.counters.size).toBe(20);
    expect(state.awards.size).toBe(10);
    const bytes = await subjectMemoryUsage(client, createRedisKeys(prefix), "player:123456");
    expect(bytes).toBeLessThanOrEqual(1024);
    // The state hash stays a listpack (the compact encoding this budget relies on).
    expect(await client.object("ENCODING", createRedisKeys(prefix).subject("player:123456").state)).toBe("listpack");
  });

  // Durability moves older days to PostgreSQL, so this is what history costs an active player in Redis.
  it("keeps two hot days of history (10 rollups) in <= 1 KB, a listpack", async () => {
    const { plan, counterIds } = subjectMemoryPlan();
    const creatures = ["skaven_warrior", "giant_rat", "goblin", "troll", "ogre"];
    for (let batch = 0; batch < 32; batch += 1) {
      const at = T0 + Math.floor(batch / 16) * DAY + batch * 1000;
      const history = creatures.map((creature) => ({ type: "kill", tags: `{"creature":"${creature}"}`, day: Math.floor(at / DAY), count: 3, sum: 3, firstAt: at, lastAt: at, maxAmount: 1 }));
      await backend.apply({ batchId: `batch-${batch}`, now: at, plan, subjects: [{ subject: "player:123456", catchUp: false, increments: [{ counter: counterIds[0] ?? "", amount: 3, at }], history }] });
    }
    const { history: key, historyLog } = createRedisKeys(prefix).subject("player:123456");
    // The log of recent applies is folded into the hash every 8 entries (and on every read).
    expect(await client.llen(historyLog)).toBeLessThan(8);
    await backend.readHistory("player:123456");
    expect(await client.exists(historyLog)).toBe(0);
    expect(await client.hlen(key)).toBe(3 + 10); // ~q ~h ~e and the rollups
    const bytes = (await client.call("MEMORY", "USAGE", key, "SAMPLES", "0")) as number;
    expect(bytes).toBeLessThanOrEqual(1024);
    expect(await client.object("ENCODING", key)).toBe("listpack");
  });

  it("counts what it measures: a subject with nothing stored uses 0 bytes", async () => {
    expect(await subjectMemoryUsage(client, createRedisKeys(prefix), "nobody")).toBe(0);
    const small = planOf(counter("kills001", "sum", [check("k1", 1)]));
    await backend.apply({ batchId: "b", now: T0, plan: small, subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] }] });
    expect(await subjectMemoryUsage(client, createRedisKeys(prefix), "p")).toBeGreaterThan(0);
  });
});

describe("redis backend: history bound", () => {
  it("refuses an apply, changing nothing, once a player holds historyMaxRollups rollups not archived yet", async () => {
    const { backend, client, prefix, cleanup } = await redisBackendForTest({ historyMaxRollups: 5 });
    try {
      const plan = planOf(counter("kills001", "sum", [check("k1", 1)]));
      const apply = (batchId: string, day: number) =>
        backend.apply({
          batchId,
          now: T0,
          plan,
          subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }], history: [{ type: "kill", tags: "", day, count: 1, sum: 1, firstAt: T0, lastAt: T0, maxAmount: 1 }] }],
        });
      // Three status fields (~q ~h ~e) and one rollup a day: the second day fills the five fields once folded.
      for (let day = 0; day < 2; day += 1) await apply(`b${day}`, 20_000 + day);
      await backend.readHistory("p");
      const before = await backend.readState("p");
      const error = await apply("b-full", 20_010).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BACKEND_UNAVAILABLE", details: { subjects: ["p"] } });
      expect((error as Error).message).toMatch(/historyMaxRollups/);
      expect(await backend.readState("p")).toEqual(before);
      expect((await backend.readHistory("p")).parts).toHaveLength(2);
      expect(await client.exists(createRedisKeys(prefix).subject("p").historyLog)).toBe(0);
    } finally {
      await cleanup();
    }
  });
});
