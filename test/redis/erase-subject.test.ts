import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { T0, redisBackendForTest } from "./redis-backend-fixtures.ts";

describe("redis backend: erase", () => {
  let backend: ProgressionBackend;
  let client: Redis;
  let prefix: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ backend, client, prefix, cleanup } = await redisBackendForTest());
  });
  afterEach(async () => cleanup());

  it("leaves no key of the subject behind, nor its entries in the shared dirty set and hold expiry index", async () => {
    const progression = createProgression({
      definitions: [{ code: "k", title: "k", description: "k", icon: "k.png", trigger: "kill", rule: { type: "count", threshold: 1 } }],
      backend,
      clock: () => T0,
      onMissingTranslations: () => {},
    });
    const subject = "player:odd.1@x-y";
    await progression.record({ type: "kill", subject, id: "e1" });
    await progression.ledger.acquire({ subject, item: "gold", quantity: 9, idempotencyKey: "k1" });
    await progression.ledger.hold({ subject, item: "gold", quantity: 2, ttlMs: 60_000, idempotencyKey: "k2" });
    await progression.record({ type: "kill", subject: "other" });
    const keys = createRedisKeys(prefix);
    const ofSubject = async () => (await client.keys(`${prefix}:*`)).filter((key) => key.includes(`{${subject}}`));
    expect((await ofSubject()).length).toBeGreaterThanOrEqual(6);
    await progression.erase(subject);
    expect(await ofSubject()).toEqual([]);
    expect(await client.sismember(keys.shardOf(subject).dirty, subject)).toBe(0);
    expect(await client.zcard(keys.shardOf(subject).holdExpiryIndex)).toBe(0);
    expect(await client.exists(keys.subject("other").state)).toBe(1);
    // Only the other player's award is still counted in the (global) milestone stats.
    expect(await client.hgetall(keys.shardOf(subject).milestoneStats)).toEqual({ "r:k": "1" });
    await progression.close();
  });
});
