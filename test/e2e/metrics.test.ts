import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDurability, type Durability } from "../../src/durability/create-durability.ts";
import { checkHealth } from "../../src/metrics/health.ts";
import { createProgressionMetrics, type ProgressionMetrics } from "../../src/metrics/progression-metrics.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { newPlayerId, settle, startArena, type ArenaServer } from "./support/arena-server.ts";

/** The Prometheus series under real play: a Redis arena with BullMQ durability, scraped as a monitoring system would. */
let arena: ArenaServer;
let metrics: ProgressionMetrics;
let durability: Durability;
const bullPrefix = randomPrefix("metrics");

beforeAll(async () => {
  metrics = createProgressionMetrics();
  durability = createDurability({ redis: testRedisUrl(), bullPrefix, queuePrefix: "metrics", logger: { info: () => {}, warn: () => {}, error: () => {} } });
  arena = await startArena("redis", {
    progression: { instruments: metrics.instruments, events: durability.bus, holdExpiry: durability.holdExpiry },
  });
  await durability.start(arena.progression);
  metrics.watch({ stats: () => arena.host.stats, queues: () => durability.jobCounts() });
});

afterAll(async () => {
  await arena?.close();
  const redis = new Redis(testRedisUrl());
  await deleteKeysWithPrefix(redis, bullPrefix);
  redis.disconnect();
});

/** The value of one sample line, e.g. `progression_events_applied_total 12`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics and health under play", () => {
  it("counts what was recorded, applied, refused and spent, with flush and push timings and queue depths", async () => {
    const player = await arena.join(newPlayerId("metrics"));
    await player.waitFor("progression:snapshot");
    for (let i = 0; i < 12; i += 1) player.send("kill", { creature: "goblin" });
    await player.request("loot", { item: "gold", qty: 30 });
    await player.request("buy", { item: "potion", qty: 1 });
    await player.request("buy", { item: "sword", qty: 9 }).catch(() => undefined); // INSUFFICIENT
    await settle(arena.host, player);
    // Room code passing a bad event: refused by record() and counted by its error code.
    expect(() => arena.host.record("someone", "kill", { creature: 7 as unknown as string })).toThrow(/tags/);

    const text = await metrics.text();
    expect(metrics.contentType).toContain("text/plain");
    // 12 kills and the loot (the join's catch-up is applied directly, not recorded).
    expect(sample(text, "progression_events_recorded_total")).toBe(13);
    expect(sample(text, "progression_events_applied_total")).toBe(13);
    expect(sample(text, 'progression_events_rejected_total{code="INVALID_INPUT"}')).toBe(1);
    expect(sample(text, "progression_buffer_events")).toBe(0);
    expect(sample(text, "progression_buffer_increments")).toBe(0);
    expect(sample(text, "progression_grants_pending")).toBe(0);
    expect(sample(text, "progression_flush_failed_attempts")).toBe(0);
    for (const histogram of ["progression_apply_duration_seconds", "progression_flush_lag_seconds", "progression_push_latency_seconds"]) {
      expect(sample(text, `${histogram}_count`)).toBeGreaterThan(0);
      expect(sample(text, `${histogram}_sum`)).toBeGreaterThanOrEqual(0);
    }
    expect(sample(text, 'progression_ledger_operations_total{operation="acquire",result="ok"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'progression_ledger_operations_total{operation="hold",result="ok"}')).toBe(1);
    expect(sample(text, 'progression_ledger_operations_total{operation="hold",result="INSUFFICIENT"}')).toBe(1);
    expect(text).toMatch(/progression_queue_jobs\{queue="metrics-hold-expiry",state="waiting"\} \d+/);
    expect(text).toMatch(/progression_queue_jobs\{queue="metrics-events",state="failed"\} 0/);
  }, 20_000);

  it("reports healthy dependencies and the recorder's state", async () => {
    const report = await checkHealth({ backend: arena.progression.backend, durability, stats: () => arena.host.stats });
    expect(report.ok).toBe(true);
    expect(report.checks["redis"]).toMatchObject({ ok: true, detail: expect.stringContaining("PONG") });
    expect(report.checks["bullmq"]).toMatchObject({ ok: true });
    expect(report.buffer).toMatchObject({ failedAttempts: 0 });
  });
});
