import { Redis } from "ioredis";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { RedisBackendOptions } from "../../src/backends/redis/redis-backend-options.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";

/** A Redis backend on a random prefix of the run's redis-server, and its cleanup. */
export async function redisBackendForTest(
  options: Omit<RedisBackendOptions, "redis" | "prefix"> = {},
  url = testRedisUrl(),
): Promise<{ backend: ProgressionBackend; client: Redis; prefix: string; cleanup(): Promise<void> }> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  const prefix = randomPrefix("rb");
  const backend = createRedisBackend({ useServerTime: false, ...options, redis: client, prefix });
  return {
    backend,
    client,
    prefix,
    cleanup: async () => {
      await backend.close();
      await deleteKeysWithPrefix(client, prefix);
      client.disconnect();
    },
  };
}

export { DAY, T0, check, counter, planOf } from "./plan-builders.ts";
