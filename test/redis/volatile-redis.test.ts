import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedisBackend, createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { deleteKeysWithPrefix, randomPrefix } from "../support/redis-prefix.ts";
import { startRedisServer, type TestRedisServer } from "../support/redis-server.ts";
import { T0 } from "./plan-builders.ts";

/** No AOF, no ledger: a Redis that would lose acknowledged writes on a restart is refused unless the game opts in. */
describe("redis backend: a Redis without AOF", () => {
  let server: TestRedisServer;
  let client: Redis;
  let address: string;
  beforeAll(async () => {
    server = await startRedisServer({ useEnv: false, appendOnly: false });
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    address = server.url.replace("redis://", "");
  });
  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  const acquire = { idempotencyKey: "k", subject: "p", item: "gold", quantity: 1, now: T0 };

  it("connectRedisBackend fails at start with one line: which Redis, what can be lost, how to fix it", async () => {
    const failure = await connectRedisBackend({ url: server.url, prefix: randomPrefix("vol"), useServerTime: false }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: "ProgressionError", code: ErrorCode.VolatileStore });
    const message = (failure as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toContain(`Redis at ${address}`);
    expect(message).toContain("appendonly yes");
    expect(message).toContain("allowVolatileRedis: true");
  });

  it("createRedisBackend refuses its first call with VOLATILE_STORE and writes nothing", async () => {
    const prefix = randomPrefix("vol");
    const backend = createRedisBackend({ url: server.url, prefix, useServerTime: false });
    try {
      await expect(backend.acquire(acquire)).rejects.toMatchObject({ code: ErrorCode.VolatileStore, message: expect.stringContaining("appendonly yes") });
      await expect(backend.balance("p", "gold", T0)).rejects.toMatchObject({ code: ErrorCode.VolatileStore });
      expect(await client.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it("allowVolatileRedis: true runs on it", async () => {
    const prefix = randomPrefix("vol");
    const backend = await connectRedisBackend({ url: server.url, prefix, useServerTime: false, allowVolatileRedis: true });
    try {
      expect((await backend.acquire(acquire)).balances).toEqual([{ subject: "p", item: "gold", free: 1, held: 0 }]);
    } finally {
      await backend.close();
      await deleteKeysWithPrefix(client, prefix);
    }
  });

  it("an injected client is checked too, and a Redis switched to AOF is accepted from the next call", async () => {
    const prefix = randomPrefix("vol");
    const injected = new Redis(server.url, { maxRetriesPerRequest: 1 });
    const backend = createRedisBackend({ redis: injected, prefix, useServerTime: false });
    try {
      await expect(backend.acquire(acquire)).rejects.toMatchObject({ code: ErrorCode.VolatileStore });
      await client.config("SET", "appendonly", "yes");
      await expect.poll(async () => (await client.info("persistence")).includes("aof_enabled:1")).toBe(true);
      expect((await backend.acquire(acquire)).replayed).toBe(false);
    } finally {
      await client.config("SET", "appendonly", "no");
      await backend.close();
      injected.disconnect();
      await deleteKeysWithPrefix(client, prefix);
    }
  });
});
