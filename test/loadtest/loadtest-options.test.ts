import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { loadtestDefaults, parseLoadtestOptions } from "../../loadtest/runner/loadtest-options.ts";
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

  it.each([
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
