import type { RedisClient } from "bullmq";

/**
 * How far the PostgreSQL archive (snapshots and history rollups) is behind the applies.
 *
 * An apply marks its subject dirty in the same step, and a snapshot pass takes dirty subjects chunk by
 * chunk. When a take empties the dirty set (it returns fewer subjects than asked), that chunk and the
 * pass's earlier ones hold every subject changed before the take: once the chunk is written, "every
 * event applied before the take is in PostgreSQL". That time is the archive's watermark,
 * `archivedThrough` (snapshot-dirty-subjects.ts). Under steady load every chunk of a pass usually
 * empties the set, so the watermark moves once per chunk. The snapshot job keeps it in Redis next to its
 * queue, so every process (and a load test reading the same Redis) sees the last one, whichever process
 * ran the pass. The lag is the age of the oldest event that may not be archived yet, `now -
 * archivedThrough`: it climbs until the next chunk is written, to about a snapshot interval plus a
 * chunk's write.
 *
 * A failed write, or takes that always fill their chunk (more dirty subjects than the writer keeps up
 * with), leave the watermark where it was: the lag keeps growing, which is what a PostgreSQL outage or a
 * writer falling behind looks like. Passes of two processes that overlap (a shutdown's final snapshot
 * during another process's scheduled run) can move it while the other still writes: the figure is then
 * early by that run's time.
 */

export interface HistoryArchiveLag {
  /** Every event applied before this time (ms) is in PostgreSQL; null before the first pass that emptied the dirty set. */
  readonly archivedThrough: number | null;
  /**
   * Age in ms of the oldest applied event that may not be in PostgreSQL yet: `now - archivedThrough`, or
   * 0 when nothing waits (no dirty subject, no pass of this process running); null with `archivedThrough`.
   */
  readonly lagMs: number | null;
}

/** The Redis key of the watermark: `<bull prefix>:<snapshot queue>:history-archived-through`. */
export function historyArchivedThroughKey(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:history-archived-through`;
}

/**
 * Stores a pass's watermark. A plain SET: passes of one scheduler run one after another, and a late
 * write of an older watermark only states less than what is true (the lag reads higher until the next
 * pass), never more.
 */
export async function recordArchivedThrough(redis: Pick<RedisClient, "set">, key: string, archivedThrough: number): Promise<void> {
  await redis.set(key, String(archivedThrough));
}

/** The stored watermark, or null when no pass has stored one (or the value is not a time). */
export async function readArchivedThrough(redis: Pick<RedisClient, "get">, key: string): Promise<number | null> {
  const text = await redis.get(key);
  if (text === null) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}
