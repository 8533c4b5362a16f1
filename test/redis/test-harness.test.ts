import { afterEach, describe, expect, it } from "vitest";
import { deleteKeysWithPrefix, isolatedRedis } from "../support/redis-prefix.ts";

describe("test harness: isolated Redis prefixes", () => {
  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.map((cleanup) => cleanup()));
    cleanups = [];
  });

  it("deletes only the keys of its own prefix", async () => {
    const mine = await isolatedRedis();
    const other = await isolatedRedis();
    cleanups.push(mine.cleanup, other.cleanup);
    await mine.client.set(`${mine.prefix}:a`, "1");
    await mine.client.hset(`${mine.prefix}:{s}:b`, "f", "1");
    await other.client.set(`${other.prefix}:a`, "1");

    expect(await deleteKeysWithPrefix(mine.client, mine.prefix)).toBe(2);
    expect(await mine.client.exists(`${mine.prefix}:a`)).toBe(0);
    expect(await other.client.get(`${other.prefix}:a`)).toBe("1");
  });
});
