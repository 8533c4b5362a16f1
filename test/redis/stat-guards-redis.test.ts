import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { guardField } from "../../src/backends/redis/apply-request-codec.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { Progression } from "../../src/engine/progression.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { SuspiciousEvent } from "../../src/runtime/stat-guards.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { T0, check, counter, planOf } from "./plan-builders.ts";

const MINUTE = 60_000;
const opened: { progression: Progression; client: Redis }[] = [];
const prefixes: string[] = [];

afterEach(async () => {
  for (const { progression, client } of opened.splice(0)) {
    await progression.close();
    client.disconnect();
  }
  const redis = new Redis(testRedisUrl());
  for (const prefix of prefixes.splice(0)) await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
});

/** An engine on its own Redis connection (as another process would have), on the shared key prefix. */
function engineOn(prefix: string, trigger = "kill"): { progression: Progression; suspicious: SuspiciousEvent[] } {
  const client = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  const progression = createProgression({
    definitions: [{ code: "kills_100", title: "k.title", description: "k.description", icon: "k.png", trigger, rule: { type: "count", threshold: 100 } }],
    backend: createRedisBackend({ redis: client, prefix, useServerTime: false }),
    clock: () => T0,
    statGuards: { [trigger]: { maxPerWindow: { amount: 10, windowMs: MINUTE } } },
    onMissingTranslations: () => {},
  });
  opened.push({ progression, client });
  const suspicious: SuspiciousEvent[] = [];
  progression.onSuspicious((event) => suspicious.push(event));
  return { progression, suspicious };
}

describe("redis backend: stat guards", () => {
  it("keeps several processes on one Redis under one window limit together", async () => {
    const prefix = randomPrefix("guards");
    prefixes.push(prefix);
    const engines = Array.from({ length: 5 }, () => engineOn(prefix));
    // 5 processes x 4 flushes of 3 kills, all at once: whatever the order, 3 flushes fit (9 of 10), 17 do not.
    await Promise.all(
      engines.flatMap(({ progression }) =>
        Array.from({ length: 4 }, () => {
          const buffer = progression.createBuffer();
          buffer.add({ type: "kill", subject: "p1", amount: 3 });
          return progression.applyBatch(buffer.drain());
        }),
      ),
    );
    const [first] = engines;
    expect((await first?.progression.progress("p1"))?.[0]?.current).toBe(9);
    const breaches = engines.flatMap(({ suspicious }) => suspicious);
    expect(breaches).toHaveLength(17);
    expect(new Set(breaches.map((event) => event.value))).toEqual(new Set([12]));
  });

  it("keeps the window usage short, so the state hash stays a listpack, also for a long trigger name", async () => {
    const prefix = randomPrefix("guards");
    prefixes.push(prefix);
    const trigger = `quest.${"x".repeat(100)}`;
    const { progression } = engineOn(prefix, trigger);
    await progression.recordBatch([{ type: trigger, subject: "p1", amount: 7 }]);
    const client = new Redis(testRedisUrl());
    try {
      const stateKey = createRedisKeys(prefix).subject("p1").state;
      const fields = await client.hgetall(stateKey);
      expect(guardField(trigger)).toMatch(/^~G[A-Za-z0-9_-]{8}$/);
      expect(guardField("kill")).toBe("~gkill");
      expect(fields[guardField(trigger)]).toBe(`${Math.floor(T0 / MINUTE).toString(36)}:7`);
      expect(await client.object("ENCODING", stateKey)).toBe("listpack");
    } finally {
      client.disconnect();
    }
  });

  it("refuses malformed guards before any script runs", async () => {
    const prefix = randomPrefix("guards");
    prefixes.push(prefix);
    const client = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    const backend = createRedisBackend({ redis: client, prefix, useServerTime: false });
    try {
      const plan = planOf(counter("c1", "sum", [check("first", 1)]));
      const guards = [{ trigger: "kill", amount: 0, limit: 10, windowMs: MINUTE, counters: ["c1"] }];
      await expect(
        backend.apply({ batchId: "b1", now: T0, plan, subjects: [{ subject: "p1", catchUp: false, increments: [{ counter: "c1", amount: 1, at: T0 }], guards }] }),
      ).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity, message: expect.stringContaining("guard amount") });
      expect((await backend.readState("p1")).counters.size).toBe(0);
    } finally {
      await backend.close();
      client.disconnect();
    }
  });
});
