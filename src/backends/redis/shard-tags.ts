import calculateSlot from "cluster-key-slot";

/** Redis Cluster's hash slots (CRC16 of the hash tag, mod 16384). */
export const CLUSTER_SLOTS = 16_384;
/** At most this many shards: each needs a tag found by trying names, about `CLUSTER_SLOTS / shards` each. */
export const MAX_SHARDS = 1_024;

/** The shard whose slot range `[i * 16384 / n, (i + 1) * 16384 / n)` holds `slot`. */
export function shardOfSlot(slot: number, shardCount: number): number {
  return Math.floor((slot * shardCount) / CLUSTER_SLOTS);
}

const cache = new Map<number, readonly string[]>();

/**
 * One hash tag per shard, each hashing into its shard's slot range: shard `i`'s keys sit on a slot of the
 * range its subjects' own slots fall in, so the shards spread over the masters exactly as the slots do
 * (an evenly resharded cluster holds an even share of shards per master). The tags are the first names
 * `<i36>.<n36>` (n = 0, 1, ...) that land in the range: the same on every process, for every version.
 */
export function shardTags(shardCount: number): readonly string[] {
  if (!Number.isSafeInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARDS) {
    throw new RangeError(`shard count must be an integer from 1 to ${MAX_SHARDS}, got ${String(shardCount)}`);
  }
  const known = cache.get(shardCount);
  if (known) return known;
  const tags: string[] = [];
  for (let shard = 0; shard < shardCount; shard += 1) {
    for (let n = 0; ; n += 1) {
      const tag = `${shard.toString(36)}.${n.toString(36)}`;
      if (shardOfSlot(calculateSlot(tag), shardCount) === shard) {
        tags.push(tag);
        break;
      }
    }
  }
  cache.set(shardCount, tags);
  return tags;
}
