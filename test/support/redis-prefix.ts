import { randomBytes } from "node:crypto";
import type { Cluster } from "ioredis";
import { Redis } from "ioredis";
import { inject } from "vitest";

/** The URL of the run's redis-server (see global-setup.ts). */
export function testRedisUrl(): string {
  return inject("redisUrl");
}

/** A random key prefix, unique per test, e.g. `t:3f9a1c0d`. */
export function randomPrefix(label = "t"): string {
  return `${label}:${randomBytes(4).toString("hex")}`;
}

/** Deletes every key under `prefix` with SCAN + UNLINK (never FLUSHALL/FLUSHDB: the server may be shared). */
export async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}

/** Deletes every key under `prefix` on every master of a Cluster (SCAN + UNLINK per node). */
export async function deleteClusterKeysWithPrefix(cluster: Cluster, prefix: string): Promise<number> {
  const deleted = await Promise.all(
    cluster.nodes("master").map(async (node) => {
      let cursor = "0";
      let count = 0;
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        // One UNLINK per key: a node refuses a multi-key command across slots.
        for (const key of keys) count += await node.unlink(key);
      } while (cursor !== "0");
      return count;
    }),
  );
  return deleted.reduce((sum, count) => sum + count, 0);
}

/** A client plus a fresh prefix; `cleanup()` removes the prefix's keys and disconnects. */
export async function isolatedRedis(label = "t"): Promise<{ client: Redis; prefix: string; cleanup(): Promise<void> }> {
  const client = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  const prefix = randomPrefix(label);
  return {
    client,
    prefix,
    cleanup: async () => {
      await deleteKeysWithPrefix(client, prefix);
      client.disconnect();
    },
  };
}
