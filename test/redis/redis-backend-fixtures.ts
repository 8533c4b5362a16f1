import { Redis } from "ioredis";
import type { CounterKind, CounterPlan, CounterSpec, ThresholdCheck } from "../../src/store/counter-plan-types.ts";
import type { ProgressionBackend } from "../../src/store/progression-backend.ts";
import { createRedisBackend } from "../../src/store/redis/create-redis-backend.ts";
import type { RedisBackendOptions } from "../../src/store/redis/redis-backend-options.ts";
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

export function check(code: string, target: number, extra: Partial<ThresholdCheck> = {}): ThresholdCheck {
  return { code, target, windowDays: 1, autoClaimRewards: null, ...extra };
}

export function counter(id: string, kind: CounterKind, checks: ThresholdCheck[], keepDays = 1): CounterSpec {
  return { id, kind, trigger: id, keepDays, checks };
}

export function planOf(...counters: CounterSpec[]): CounterPlan {
  return { version: counters.map((c) => `${c.id}:${c.checks.map((k) => `${k.code}@${k.target}`).join("|")}`).join(";"), counters: new Map(counters.map((c) => [c.id, c])) };
}

export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 0, 1, 12);
