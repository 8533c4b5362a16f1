import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { selects, type HistoryEntry, type HistoryPart, type HistorySelector } from "../../src/model/history.ts";
import { DAY, T0, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

/**
 * readHistory-2.lua selects rollups inside Redis (before they cross the wire): it must return
 * exactly the rollups the engine's own filter (`selects`) keeps of the whole history, whatever the
 * hash's encoding (a listpack or, past its size, a hashtable) and with late parts among them.
 */
describe("redis backend: history read with selectors", () => {
  let backend: ProgressionBackend;
  let client: Redis;
  let prefix: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ backend, client, prefix, cleanup } = await redisBackendForTest());
  });
  afterEach(async () => cleanup());

  const plan = planOf(counter("kills001", "sum", []));
  const day0 = Math.floor(T0 / DAY);
  const tagSets = ["", '{"creature":"troll"}', '{"creature":"goblin"}', '{"creature":"troll","zone":"north"}', '{"creature":"trollish","zone":"south"}', '{"zone":"north"}', '{"creature":"a*b?[c]\\\\d"}'];
  const types = ["kill", "loot", "login", "kill_streak"];

  function rollups(days: number, from = day0): HistoryEntry[] {
    const rows: HistoryEntry[] = [];
    for (let d = 0; d < days; d += 1) {
      for (const [t, type] of types.entries()) {
        for (const [k, tags] of tagSets.entries()) {
          if ((d + t + k) % 3 === 0) continue;
          const at = (from + d) * DAY + 1000 * (t + 1) + k;
          rows.push({ type, tags, day: from + d, count: 1 + k, sum: 2 + k + t, firstAt: at, lastAt: at + 500, maxAmount: 1 + t });
        }
      }
    }
    return rows;
  }

  async function write(subject: string, history: HistoryEntry[], batchId: string): Promise<void> {
    await backend.apply({ batchId, now: T0, plan, subjects: [{ subject, catchUp: false, increments: [], history }] });
  }

  const selections: readonly (readonly HistorySelector[])[] = [
    [{ type: "kill", fragments: ['"creature":"troll"'] }],
    [{ type: "kill", fragments: [] }],
    [{ type: "kill", fragments: ['"zone":"north"', '"creature":"troll"'] }], // not in key order
    [{ type: "kill", fragments: ['"creature":"troll"', '"creature":"troll"'] }], // a repeated fragment
    [{ type: "kill", fragments: ['"creature":"troll"'] }, { type: "kill", fragments: [] }, { type: "login", fragments: [] }],
    [{ type: "loot", fragments: ['"zone":"north"'] }, { type: "kill_streak", fragments: ['"creature":"goblin"'] }],
    [{ type: "kill", fragments: ['"creature":"a*b?[c]\\\\d"'] }], // glob characters are matched as they are
    [{ type: "quest", fragments: [] }], // a type with no rollup
    [],
  ];

  const sorted = (parts: readonly HistoryPart[]): HistoryPart[] => [...parts].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  async function expectSameAsEngineFilter(subject: string): Promise<void> {
    const all = await backend.readHistory(subject);
    expect(all.parts.length).toBeGreaterThan(0);
    for (const selection of selections) {
      const read = await backend.readHistory(subject, selection);
      expect(read.status).toEqual(all.status);
      expect(sorted(read.parts)).toEqual(sorted(all.parts.filter((part) => selects(selection, part.type, part.tags))));
    }
  }

  it("returns exactly the rollups the engine's filter keeps, from a listpack hash", async () => {
    await write("p", rollups(3), "b1");
    await backend.readHistory("p");
    expect(await client.object("ENCODING", createRedisKeys(prefix).subject("p").history)).toBe("listpack");
    await expectSameAsEngineFilter("p");
  });

  it("returns exactly those from a large hash, late parts among them", async () => {
    // Over 1,000 rollups: a hashtable (an HSCAN of it takes several pages).
    const many = rollups(60);
    await write("p", many, "b1");
    // The first 40 days archived: a later event on one of them goes to a late part.
    const exported = await backend.readHistory("p");
    expect(await client.object("ENCODING", createRedisKeys(prefix).subject("p").history)).toBe("hashtable");
    expect((await client.hscan(createRedisKeys(prefix).subject("p").history, "0", "COUNT", 1000))[0]).not.toBe("0");
    await expectSameAsEngineFilter("p");
    await backend.dropArchivedHistory([{ subject: "p", parts: exported.parts.filter((part) => part.day < day0 + 40) }], day0 + 40);
    await write("p", rollups(2, day0 + 10), "b2");
    const parts = (await backend.readHistory("p")).parts;
    expect(parts.some((part) => part.part.includes("+"))).toBe(true);
    expect(parts.length).toBeGreaterThan(1000 - 40 * 18);
    await expectSameAsEngineFilter("p");
  });

  it("reads nothing but the status of a subject none of whose rollups is selected, and nothing of an unknown one", async () => {
    await write("p", rollups(1), "b1");
    const read = await backend.readHistory("p", [{ type: "quest", fragments: [] }]);
    expect(read.parts).toEqual([]);
    expect(read.status).toEqual((await backend.readHistory("p")).status);
    expect(await backend.readHistory("nobody", [{ type: "kill", fragments: [] }])).toEqual({ status: { completeFor: null, version: 0 }, parts: [] });
  });
});
