import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type { ProgressionBackend, SubjectApply } from "../../src/backends/contract/progression-backend.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import type { HistoryEntry, RawEventsSettings } from "../../src/model/history.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { DAY, T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

/**
 * Raw events in the Redis history hash (lua/includes/history.lua): their fields, what they cost, and the
 * apply's checks of them at the boundary.
 */
describe("redis backend: raw events", () => {
  let backend: ProgressionBackend;
  let client: Redis;
  let prefix: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ backend, client, prefix, cleanup } = await redisBackendForTest());
  });
  afterEach(async () => cleanup());

  const plan = planOf(counter("kills001", "sum", [check("k1", 1_000_000)]));
  const kept: RawEventsSettings = { retentionDays: 7, maxPerRollup: 1000 };
  const day = Math.floor(T0 / DAY);
  /** One apply's rollup of `events` kills (a second apart from `from`) of one creature, raw events included. */
  const rollup = (creature: string, from: number, events: number, raw: Partial<HistoryEntry> = {}): HistoryEntry => {
    const at = Array.from({ length: events }, (_, i) => from + i * 1000);
    return {
      type: "kill",
      tags: `{"creature":"${creature}"}`,
      day: Math.floor(from / DAY),
      count: events,
      sum: events,
      firstAt: from,
      lastAt: from + (events - 1) * 1000,
      maxAmount: 1,
      rawEvents: at.flatMap((t) => [t, 1]),
      rawKept: kept,
      ...raw,
    };
  };
  const apply = (batchId: string, history: HistoryEntry[], subject = "p"): Promise<unknown> => {
    const entry: SubjectApply = { subject, catchUp: false, increments: [{ counter: "kills001", amount: 1, at: history[0]?.lastAt ?? T0 }], history };
    return backend.apply({ batchId, now: T0, plan, subjects: [entry] });
  };

  it("keeps a rollup's raw events in one field next to it, and the most a rollup keeps in ~x", async () => {
    await apply("b1", [rollup("troll", T0, 3)]);
    await apply("b2", [rollup("troll", T0 + 10_000, 2)]);
    await backend.readHistory("p");
    const fields = await client.hgetall(createRedisKeys(prefix).subject("p").history);
    const field = `${day.toString(36)}|kill|{"creature":"troll"}`;
    const offset = (T0 - day * DAY).toString(36);
    expect(fields[`*${field}`]).toBe([0, 1000, 2000, 10_000, 11_000].map((ms) => (T0 - day * DAY + ms).toString(36)).join(","));
    expect(fields[`*${field}`]?.startsWith(offset)).toBe(true);
    expect(fields["~x"]).toBe("1000");
    expect(Object.keys(fields).sort()).toEqual(["*" + field, field, "~e", "~h", "~q", "~x"].sort());
  });

  it("writes an amount other than 1 after a colon, and reads back what it wrote", async () => {
    const entry = rollup("ogre", T0, 2, { sum: 8, maxAmount: 7, rawEvents: [T0, 7, T0 + 1000, 1] });
    await apply("b1", [entry]);
    const [part] = (await backend.readHistory("p")).parts;
    expect(part?.rawEvents).toEqual([T0, 7, T0 + 1000, 1]);
    const fields = await client.hgetall(createRedisKeys(prefix).subject("p").history);
    expect(Object.entries(fields).find(([name]) => name.startsWith("*"))?.[1]).toBe(`${(T0 - day * DAY).toString(36)}:7,${(T0 + 1000 - day * DAY).toString(36)}`);
  });

  it("refuses raw events that are not [at, amount] pairs on their rollup's day, changing nothing", async () => {
    const bad: Partial<HistoryEntry>[] = [
      { rawEvents: [T0, 1, T0] },
      { rawEvents: [T0, 0, T0 + 1000, 1, T0 + 2000, 1] },
      { rawEvents: [T0 + DAY, 1, T0 + 1000, 1, T0 + 2000, 1] },
      { rawEvents: [-1, 1, T0 + 1000, 1, T0 + 2000, 1] },
      { rawEvents: [T0 + 0.5, 1, T0 + 1000, 1, T0 + 2000, 1] },
    ];
    for (const [i, raw] of bad.entries()) {
      await expect(apply(`bad${i}`, [rollup("troll", T0, 3, raw)], `bad${i}`), JSON.stringify(raw)).rejects.toMatchObject({ code: expect.stringMatching(new RegExp(`${ErrorCode.InvalidInput}|${ErrorCode.InvalidQuantity}`)) });
      expect(await client.exists(createRedisKeys(prefix).subject(`bad${i}`).history)).toBe(0);
    }
  });

  it("keeps no raw-events field for a rollup past maxPerRollup, nor for one stored without raw events", async () => {
    const small: RawEventsSettings = { retentionDays: 7, maxPerRollup: 3 };
    await apply("b1", [rollup("troll", T0, 2, { rawKept: small })]);
    await backend.readHistory("p");
    const key = createRedisKeys(prefix).subject("p").history;
    expect(Object.keys(await client.hgetall(key)).filter((field) => field.startsWith("*"))).toHaveLength(1);
    await apply("b2", [rollup("troll", T0 + 10_000, 2, { rawKept: small })]);
    await backend.readHistory("p");
    expect(Object.keys(await client.hgetall(key)).filter((field) => field.startsWith("*"))).toEqual([]);
    // Raw events turned on after the day's first events: that rollup's would never be complete.
    const { rawEvents: _raw, rawKept: _kept, ...plain } = rollup("ogre", T0, 2);
    await apply("b3", [plain]);
    await backend.readHistory("p");
    await apply("b4", [rollup("ogre", T0 + 10_000, 1)]);
    await backend.readHistory("p");
    expect(Object.keys(await client.hgetall(key)).filter((field) => field.startsWith("*"))).toEqual([]);
    expect((await backend.readHistory("p")).parts.map((part) => [part.count, part.rawEvents])).toEqual([
      [4, undefined],
      [3, undefined],
    ]);
  });

  it("takes no field and no ~x when off (the hash is as it always was)", async () => {
    const { rawEvents: _raw, rawKept: _kept, ...plain } = rollup("troll", T0, 3);
    await apply("b1", [plain]);
    await backend.readHistory("p");
    expect(Object.keys(await client.hgetall(createRedisKeys(prefix).subject("p").history)).sort()).toEqual([`${day.toString(36)}|kill|{"creature":"troll"}`, "~e", "~h", "~q"]);
  });

  // What raw events cost an active player in Redis: the two hot days durability leaves there.
  it("costs a few bytes per event: two hot days of 10 rollups of 100 events each", async () => {
    const creatures = ["skaven_warrior", "giant_rat", "goblin", "troll", "ogre"];
    const play = async (subject: string, withRaw: boolean) => {
      for (let batch = 0; batch < 40; batch += 1) {
        const from = T0 + Math.floor(batch / 20) * DAY + (batch % 20) * 60_000;
        const history = creatures.map((creature, c) => {
          const entry = rollup(creature, from + c * 7, 5);
          if (withRaw) return entry;
          const { rawEvents: _raw, rawKept: _kept, ...plain } = entry;
          return plain;
        });
        await apply(`${subject}-${batch}`, history, subject);
      }
      await backend.readHistory(subject);
      return (await client.call("MEMORY", "USAGE", createRedisKeys(prefix).subject(subject).history, "SAMPLES", "0")) as number;
    };
    const without = await play("plain", false);
    const withRaw = await play("raw", true);
    const events = 2 * creatures.length * 100;
    expect((await backend.readHistory("raw")).parts.every((part) => part.rawEvents?.length === 2 * part.count)).toBe(true);
    // Offsets within the day are 4-6 base-36 digits and a comma each; with the hash's own overhead (its
    // raw-event values pass the listpack's 64 bytes, so it is a hashtable) 7.7 bytes an event here.
    expect((withRaw - without) / events).toBeLessThanOrEqual(9);
  });
});
