import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { T0 } from "./redis-backend-fixtures.ts";
import { isolatedRedis } from "../support/redis-prefix.ts";

// The run's redis-server has no replica: with replicaAcks a write is made but never acknowledged.
describe("redis backend: replicaAcks", () => {
  it("fails a write its replicas did not confirm in time with BACKEND_UNAVAILABLE, and a retry once they do applies it once", async () => {
    const { client, prefix, cleanup } = await isolatedRedis("acks");
    const waiting = createRedisBackend({ redis: client, prefix, useServerTime: false, replicaAcks: 1, replicaAckTimeoutMs: 50 });
    const plain = createRedisBackend({ redis: client, prefix, useServerTime: false });
    try {
      await expect(waiting.acquire({ idempotencyKey: "a", subject: "p", item: "gold", quantity: 3, now: T0 })).rejects.toMatchObject({
        code: ErrorCode.BackendUnavailable,
        message: expect.stringContaining("confirmed by 0 of 1 replicas within 50 ms (replicaAcks)"),
      });
      // It was written on the master: the retry with its key replays it rather than adding 3 more.
      expect(await plain.acquire({ idempotencyKey: "a", subject: "p", item: "gold", quantity: 3, now: T0 })).toMatchObject({ replayed: true });
      expect((await plain.balance("p", "gold", T0)).balance.free).toBe(3);
    } finally {
      await cleanup();
    }
  });

  it("refuses a replica count outside 0-16, naming the option", () => {
    expect(() => createRedisBackend({ replicaAcks: -1 })).toThrow(/replicaAcks must be a whole number of replicas from 0 to 16, got -1/);
  });
});
