import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { loadtestDefaults, loadtestLimits, parseLoadtestOptions } from "../../loadtest/runner/loadtest-options.ts";
import { summarizeLatencies } from "../../loadtest/runner/latency-summary.ts";

describe("parseLoadtestOptions", () => {
  it("applies the documented defaults", () => {
    const options = parseLoadtestOptions([]);
    expect(options).toMatchObject({ clients: loadtestDefaults.clients, rate: loadtestDefaults.rate, room: "arena", endpoint: undefined });
  });

  it("reads every option", () => {
    const options = parseLoadtestOptions(["--clients", "7", "--rate", "2.5", "--seconds", "3", "--room", "bare", "--endpoint", "ws://127.0.0.1:2567", "--workers", "1"]);
    expect(options).toMatchObject({ clients: 7, rate: 2.5, seconds: 3, room: "bare", endpoint: "ws://127.0.0.1:2567", workers: 1 });
    expect(parseLoadtestOptions(["--mix", "kill=3,loot=1"]).mix).toEqual({ kill: 3, loot: 1, trade: 0, buy: 0 });
    expect([parseLoadtestOptions(["--pin"]).pin, parseLoadtestOptions([]).pin]).toEqual([true, false]);
    expect([parseLoadtestOptions(["--arrivals", "burst"]).arrivals, parseLoadtestOptions([]).arrivals]).toEqual(["burst", "steady"]);
  });

  // --database-url: the started arena snapshots into PostgreSQL and the report gives the archive's lag.
  it("reads a loopback PostgreSQL URL for --database-url, off by default", () => {
    expect(parseLoadtestOptions([]).databaseUrl).toBeUndefined();
    expect(parseLoadtestOptions(["--database-url", "postgres://postgres@127.0.0.1:5432/loadtest"]).databaseUrl).toBe("postgres://postgres@127.0.0.1:5432/loadtest");
    expect(parseLoadtestOptions(["--database-url", "postgresql://localhost/lt_1"]).databaseUrl).toBe("postgresql://localhost/lt_1");
  });

  // Scale-out: several arena processes, on one redis-server or a Redis Cluster of the run's own.
  it("reads --processes, --redis-cluster and --compare-single; one process on one redis-server by default", () => {
    expect(parseLoadtestOptions([])).toMatchObject({ processes: 1, redisCluster: undefined, compareSingle: false });
    expect(parseLoadtestOptions(["--processes", "2", "--redis-cluster", "3", "--compare-single"])).toMatchObject({ processes: 2, redisCluster: 3, compareSingle: true });
    expect(parseLoadtestOptions(["--processes", String(loadtestLimits.maxProcesses)]).processes).toBe(8);
    expect(parseLoadtestOptions(["--redis-cluster", String(loadtestLimits.maxClusterMasters)]).redisCluster).toBe(9);
    // One process on a Cluster, compared with one process on one redis-server.
    expect(parseLoadtestOptions(["--redis-cluster", "3", "--compare-single"])).toMatchObject({ processes: 1, redisCluster: 3, compareSingle: true });
    expect(parseLoadtestOptions(["--processes", "3", "--database-url", "postgres://127.0.0.1/lt"])).toMatchObject({ processes: 3, databaseUrl: "postgres://127.0.0.1/lt" });
  });

  it.each([
    [["--processes", "0"], /--processes must be a number from 1 to 8/],
    [["--processes", "9"], /--processes must be a number from 1 to 8/],
    [["--processes", "1.5"], /--processes must be a whole number/],
    [["--redis-cluster", "2"], /--redis-cluster must be a number from 3 to 9/],
    [["--redis-cluster", "10"], /--redis-cluster must be a number from 3 to 9/],
    [["--redis-cluster", "three"], /--redis-cluster must be a number from 3 to 9/],
    [["--redis-cluster", "3", "--redis-url", "redis://127.0.0.1:6379"], /leave out --redis-url/],
    [["--processes", "2", "--redis-url", "redis://127.0.0.1:6379"], /RedisDriver.*leave out --redis-url/],
    [["--processes", "2", "--endpoint", "ws://127.0.0.1:2567"], /leave out --endpoint and --room bare/],
    [["--redis-cluster", "3", "--room", "bare"], /leave out --endpoint and --room bare/],
    [["--compare-single"], /--compare-single compares a scaled-out run.*--processes N/],
    [["--clients", "0"], /--clients must be a number from 1/],
    [["--clients", "2.5"], /--clients must be a whole number/],
    [["--rate", "fast"], /--rate must be a number/],
    [["--room", "lobby"], /--room must be "arena" or "bare"/],
    [["--arrivals", "random"], /--arrivals must be "steady" or "burst"/],
    [["--endpoint", "ws://example.com:2567"], /--endpoint must be a loopback WebSocket URL/],
    [["--redis-url", "redis://10.0.0.1:6379"], /--redis-url must be a loopback Redis URL/],
    [["--unknown", "1"], /Unknown option/],
    [["--mix", "kill=1,dance=2"], /--mix must list weights/],
    [["--mix", "kill=0"], /--mix needs at least one positive weight/],
    [["--database-url", "postgres://postgres@10.0.0.5:5432/prod"], /--database-url must be a loopback PostgreSQL URL/],
    [["--database-url", "postgres://127.0.0.1:5432"], /--database-url must be a loopback PostgreSQL URL/],
    [["--database-url", "postgres://127.0.0.1/lt", "--endpoint", "ws://127.0.0.1:2567"], /leave out --endpoint and --room bare/],
    [["--database-url", "postgres://127.0.0.1/lt", "--room", "bare"], /leave out --endpoint and --room bare/],
  ])("rejects %j with a message naming the option", (argv, message) => {
    let caught: unknown;
    try {
      parseLoadtestOptions(argv);
    } catch (error) {
      caught = error;
    }
    expect(isProgressionError(caught, ErrorCode.InvalidInput)).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});

describe("summarizeLatencies", () => {
  it("gives nearest-rank percentiles", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(summarizeLatencies(samples)).toEqual({ samples: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(summarizeLatencies([])).toEqual({ samples: 0, p50: null, p95: null, p99: null, max: null });
  });
});
