import { setTimeout as sleep } from "node:timers/promises";
import { historyArchivedThroughKey, readArchivedThrough } from "../../src/durability/jobs/history-archive-lag.ts";
import { summarizeLatencies, type LatencySummary } from "./latency-summary.ts";
import { bullPrefixOn, redisClient, type RunRedis } from "./run-redis.ts";

/**
 * With PostgreSQL on (`--database-url`), how far the archive (snapshots and history rollups) is behind the
 * applies during the run: the runner reads the snapshot job's watermark from the server's Redis
 * (src/durability/jobs/history-archive-lag.ts; every event applied before it is in PostgreSQL) every
 * `SAMPLE_MS`, as the lag `now - watermark`. Server and runner share the machine's clock.
 */

const SAMPLE_MS = 200;

export interface HistoryLagReport {
  readonly measures: string;
  /** The lag while the bots were sending: every sample, in ms. */
  readonly lagMs: LatencySummary;
  /** Times the watermark moved while sending (written chunks whose take emptied the dirty set). */
  readonly watermarkMoves: number;
  /**
   * From the moment the store had counted every event to the watermark passing it (every applied event
   * in PostgreSQL); null when that did not happen within the wait.
   */
  readonly archivedAfterAppliedMs: number | null;
}

export interface HistoryLagSampler {
  /** Starts sampling (call when the bots start sending). */
  start(): void;
  /** Stops sampling the sending phase. */
  sendingEnded(): void;
  /** Waits (at most `timeoutMs`) for the watermark to reach `appliedAt` (a Date.now() time), then reports. */
  report(appliedAt: number, timeoutMs: number): Promise<HistoryLagReport>;
  close(): Promise<void>;
}

/** `queuePrefix` as the demo server passes it to createDurability (its REDIS_PREFIX), on its default BullMQ prefix. */
export function historyLagSampler(on: RunRedis, queuePrefix: string): HistoryLagSampler {
  const redis = redisClient(on);
  redis.on("error", () => undefined);
  const key = historyArchivedThroughKey(bullPrefixOn(on), `${queuePrefix}-snapshot`);
  const samples: number[] = [];
  let watermarks = new Set<number>();
  let sampling: Promise<void> | undefined;
  let sending = false;

  const read = (): Promise<number | null> => readArchivedThrough(redis, key).catch(() => null);

  return {
    start() {
      sending = true;
      watermarks = new Set();
      sampling = (async () => {
        while (sending) {
          const archivedThrough = await read();
          const now = Date.now();
          // Before the first pass there is no watermark: the lag is at least the run's age, not counted.
          if (archivedThrough !== null) {
            samples.push(Math.max(0, now - archivedThrough));
            watermarks.add(archivedThrough);
          }
          await sleep(SAMPLE_MS);
        }
      })();
    },
    sendingEnded() {
      sending = false;
    },
    async report(appliedAt, timeoutMs) {
      await sampling;
      const deadline = Date.now() + timeoutMs;
      let archivedAfterAppliedMs: number | null = null;
      while (Date.now() < deadline) {
        const archivedThrough = await read();
        if (archivedThrough !== null && archivedThrough >= appliedAt) {
          archivedAfterAppliedMs = Date.now() - appliedAt;
          break;
        }
        await sleep(SAMPLE_MS / 4);
      }
      return {
        measures: `now - the snapshot job's watermark (every event applied before it is in PostgreSQL), sampled every ${SAMPLE_MS} ms while sending`,
        lagMs: summarizeLatencies(samples),
        watermarkMoves: Math.max(0, watermarks.size - 1),
        archivedAfterAppliedMs,
      };
    },
    async close() {
      sending = false;
      await sampling?.catch(() => undefined);
      redis.disconnect();
    },
  };
}
