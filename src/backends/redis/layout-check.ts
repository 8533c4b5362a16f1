import type { Redis } from "ioredis";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import type { RedisKeys } from "./redis-keys.ts";
import { backendUnavailable } from "./script-errors.ts";

/**
 * A prefix's data has one key layout for good (redis-keys.ts): a Cluster backend records its shard count
 * under the prefix on first use and refuses to run on data written with another count, and a single-Redis
 * backend refuses data laid out for a Cluster; either would read nothing it wrote and write beside it.
 */
export interface LayoutCheck {
  require(operation?: string): Promise<void>;
}

export function createLayoutCheck(client: Pick<Redis, "get" | "set">, keys: RedisKeys): LayoutCheck {
  const expected = `shards=${keys.shardCount}`;
  let confirmed = false;
  let asking: Promise<string | null> | undefined;

  /** The layout recorded under the prefix (the Cluster layout records its own first). */
  async function recorded(): Promise<string | null> {
    if (keys.shardCount > 1) await client.set(keys.layout, expected, "NX");
    return client.get(keys.layout);
  }

  return {
    async require(operation) {
      if (confirmed) return;
      asking ??= recorded().finally(() => {
        asking = undefined;
      });
      let found: string | null;
      try {
        found = await asking;
      } catch (error) {
        throw backendUnavailable(operation ?? "checking the key layout", error);
      }
      if (found === expected || (found === null && keys.shardCount === 1)) {
        confirmed = true;
        return;
      }
      const shards = Number(/^shards=(\d+)$/.exec(found ?? "")?.[1]);
      const fix =
        keys.shardCount === 1
          ? "connect to that Redis Cluster (clusterNodes, or an ioredis Cluster as `redis`), or use another prefix"
          : shards === 1
            ? "this prefix holds single-Redis data: use another prefix on the Cluster"
            : `set clusterShards: ${shards} (a prefix's shard count never changes), or use another prefix`;
      throw new ProgressionError(
        ErrorCode.InvalidInput,
        `${operation === undefined ? "" : `${operation}: `}the data under prefix ${JSON.stringify(keys.prefix)} was written with ${shards > 1 ? `the Redis Cluster layout of ${shards} shards` : "the single-Redis layout"}, ` +
          `this backend uses ${keys.shardCount > 1 ? `${keys.shardCount} shards` : "the single-Redis layout"}: ${fix}; nothing was changed`,
        { prefix: keys.prefix, recorded: found, expected },
      );
    },
  };
}
