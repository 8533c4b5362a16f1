import { setTimeout as sleep } from "node:timers/promises";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { BotReport } from "../bots/bot-report.ts";
import type { PredictableThreshold } from "../bots/expected-unlocks.ts";
import type { StoreCheck, StoreCheckResult } from "./store-check.ts";
import { backendRedisOptions, type RunRedis } from "./run-redis.ts";

/**
 * Reads the store the demo server wrote (same Redis or Cluster, same key prefix) through the engine, for every
 * bot's subject: each predictable milestone's `current` must equal the sum the bot's own events add
 * up to (so every kill and loot was counted once), and the awarded milestones must be exactly the
 * ones the bot's events crossed (none missing, none extra).
 */
export function arenaStoreCheck(options: { redis: RunRedis; prefix: string; thresholds: readonly PredictableThreshold[] }): StoreCheck {
  // Only reads: whether that Redis keeps its data durably is the game server's concern.
  const backend = createRedisBackend({ ...backendRedisOptions(options.redis), prefix: options.prefix, allowVolatileRedis: true });
  const progression = createArenaProgression({ backend });
  // A Cluster client learns its masters when it connects: the first read waits for that.
  let ready: Promise<void> | undefined;
  const predictable = new Set(options.thresholds.map((threshold) => threshold.code));
  // The unfiltered kill counter counts kill events one by one: a count of what was applied even when
  // a subject's figures do not match yet.
  const countedTypes = new Set(options.thresholds.map((threshold) => threshold.trigger));
  const killCounter = options.thresholds.find((t) => t.trigger === "kill" && Object.keys(t.where).length === 0)?.code;

  /** Differences for one subject (empty when the store matches), and the kills it counted. */
  const compare = async (report: BotReport, only: readonly string[] | undefined): Promise<{ diffs: string[]; kills: number }> => {
    const progress = await progression.progress(report.subject);
    const diffs: string[] = [];
    let kills = 0;
    const expectedAwards = new Set(report.expected);
    for (const entry of progress) {
      if (!predictable.has(entry.code) || entry.masked) continue;
      const threshold = options.thresholds.find((t) => t.code === entry.code);
      if (only !== undefined && threshold !== undefined && !only.includes(threshold.trigger)) continue;
      const sent = report.sums[entry.code] ?? 0;
      if (entry.code === killCounter) kills = entry.current;
      if (entry.current !== sent) diffs.push(`${report.subject} ${entry.code}: sent ${sent}, stored ${entry.current}`);
      const awarded = entry.status !== "in_progress";
      if (awarded !== expectedAwards.has(entry.code)) {
        diffs.push(`${report.subject} ${entry.code}: ${awarded ? "awarded but not crossed by its events" : "crossed but not awarded"}`);
      }
    }
    return { diffs, kills };
  };

  return {
    async verify(reports: readonly BotReport[], timeoutMs: number, only?: readonly string[]): Promise<StoreCheckResult> {
      ready ??= backend.ready();
      await ready;
      // The store counts gameplay events (kill, loot); trades and purchases only move ledger balances.
      const eventsOf = (report: BotReport): number =>
        Object.entries(report.sent).reduce(
          (sum, [type, count]) => sum + (countedTypes.has(type) && (only === undefined || only.includes(type)) ? count : 0),
          0,
        );
      const expectedEvents = reports.reduce((sum, report) => sum + eventsOf(report), 0);
      const started = performance.now();
      let pending = [...reports];
      let settledEvents = 0;
      let mismatches: string[] = [];
      let partialKills = 0;
      for (;;) {
        const stillPending: BotReport[] = [];
        mismatches = [];
        partialKills = 0;
        for (let index = 0; index < pending.length; index += 100) {
          const chunk = pending.slice(index, index + 100);
          const results = await Promise.all(chunk.map((report) => compare(report, only)));
          results.forEach((result, offset) => {
            const report = chunk[offset] as BotReport;
            if (result.diffs.length === 0) {
              settledEvents += eventsOf(report);
            } else {
              stillPending.push(report);
              partialKills += result.kills;
              if (mismatches.length < 10) mismatches.push(...result.diffs.slice(0, 10 - mismatches.length));
            }
          });
        }
        pending = stillPending;
        const elapsed = performance.now() - started;
        if (pending.length === 0 || elapsed >= timeoutMs) {
          return {
            method: `engine progress read from the demo server's ${options.redis.kind === "single" ? "Redis" : "Redis Cluster"} (same prefix)`,
            ok: pending.length === 0,
            expectedEvents,
            countedEvents: settledEvents + partialKills,
            mismatches,
            settledMs: Math.round(elapsed),
          };
        }
        await sleep(100);
      }
    },
    async close(): Promise<void> {
      await progression.close();
    },
  };
}
