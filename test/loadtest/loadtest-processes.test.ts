import { describe, expect, it } from "vitest";
import { isRunning, runLoadtest, startedPids } from "./run-loadtest-command.ts";

/**
 * The load test across processes, for real and small: two arena processes sharing matchmaking and
 * presence, on one redis-server and on a 3-master Redis Cluster of the run's own; the same exact-count
 * and exactly-once checks as one process, and every process the run started is gone when it ends.
 */

type Figure = { run: number | null; reference: number | null; ratio: number | null };
interface Report {
  ok: boolean;
  topology: { processes: number; redis: string; matchmaking: string; roomSize: number | string };
  clients: { joined: number; failed: number };
  events: { gameplaySent: number; gameplayCounted: number | null; appliedPerSecond: number | null };
  unlocks: { expected: number; received: number; duplicated: number; missing: number };
  store: { ok?: boolean; method?: string; mismatches?: string[] };
  errors: { count: number; samples: string[] };
  latencyMs: { samples: number };
  resources: { serverCpuUsPerEvent: number | null; redisCpuUsPerEvent: number | null; serverCpuPercentByProcess: (number | null)[] };
  reference?: Omit<Report, "reference" | "comparison">;
  comparison?: { appliedPerSecond: Figure; serverCpuUsPerEvent: Figure; redisCpuUsPerEvent: Figure; pushLatencyP50Ms: Figure; pushLatencyP99Ms: Figure };
  serverLogTail?: string[];
}

/** What every exact run shows: all joined, every event counted once, every expected unlock pushed once. */
function expectExact(report: Omit<Report, "reference" | "comparison">, clients: number): void {
  expect(report.errors, (report.serverLogTail ?? []).join("\n")).toEqual({ count: 0, samples: [] });
  expect(report.clients).toMatchObject({ joined: clients, failed: 0 });
  expect(report.store).toMatchObject({ ok: true, mismatches: [] });
  expect(report.events.gameplayCounted).toBe(report.events.gameplaySent);
  expect(report.unlocks.expected).toBeGreaterThanOrEqual(clients);
  expect(report.unlocks).toMatchObject({ received: report.unlocks.expected, duplicated: 0, missing: 0 });
  expect(report.latencyMs.samples).toBe(report.unlocks.expected);
}

const bots = ["--clients", "6", "--rate", "40", "--seconds", "2", "--drain-seconds", "8"];

describe("npm run loadtest across processes", () => {
  it("--processes 2 on one redis-server, --compare-single: exact on both processes, and the reference from the same run", async () => {
    const { exitCode, report, stderr } = await runLoadtest<Report>(["--processes", "2", "--compare-single", ...bots], 55_000);
    expectExact(report, 6);
    expect(report.topology).toMatchObject({ processes: 2, redis: "one redis-server of its own", roomSize: 2 });
    expect(report.topology.matchmaking).toContain("RedisDriver");
    // Both processes did work: the rooms (3 of 2 seats) went to the processes in turn.
    expect(report.resources.serverCpuPercentByProcess).toHaveLength(2);
    expect(report.resources.serverCpuPercentByProcess.every((percent) => (percent ?? 0) > 0)).toBe(true);
    const reference = report.reference as NonNullable<Report["reference"]>;
    expectExact(reference, 6);
    expect(reference.topology).toMatchObject({ processes: 1, redis: "one redis-server of its own", roomSize: 2 });
    expect(report.comparison?.serverCpuUsPerEvent).toMatchObject({ run: report.resources.serverCpuUsPerEvent, reference: reference.resources.serverCpuUsPerEvent });
    expect(report.comparison?.appliedPerSecond.ratio).toBeGreaterThan(0);
    expect(report.ok).toBe(true);
    expect(exitCode).toBe(0);
    // Two servers and a redis-server, then the reference's server and redis-server: all stopped.
    const pids = startedPids(stderr);
    expect(pids).toHaveLength(5);
    expect(pids.filter(isRunning)).toEqual([]);
  }, 60_000);

  it("--processes 2 --redis-cluster 3: the servers, the checks and the Cluster of the run's own", async () => {
    const { exitCode, report, stderr } = await runLoadtest<Report>(["--processes", "2", "--redis-cluster", "3", ...bots], 55_000);
    expectExact(report, 6);
    expect(report.topology).toMatchObject({ processes: 2, redis: "a Redis Cluster of its own, 3 masters" });
    expect(report.store.method).toContain("Redis Cluster");
    // Redis CPU summed over the Cluster's three redis-servers.
    expect(report.resources.redisCpuUsPerEvent).toBeGreaterThan(0);
    expect(report.ok).toBe(true);
    expect(exitCode).toBe(0);
    // Two servers and the Cluster's three redis-servers: all stopped.
    const pids = startedPids(stderr);
    expect(pids).toHaveLength(5);
    expect(pids.filter(isRunning)).toEqual([]);
  }, 60_000);
});
