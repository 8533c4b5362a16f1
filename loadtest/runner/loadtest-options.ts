import { parseArgs } from "node:util";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { ProgressionError } from "../../src/errors/progression-error.ts";
import { defaultEventMix, type EventMix } from "../bots/arena-bot-session.ts";

/** Command-line options of `npm run loadtest`, with every default in one place. */

export type RoomUnderTest = "arena" | "bare";

export interface LoadtestOptions {
  /** Bots (WebSocket clients), each its own subject. Default 100. */
  readonly clients: number;
  /** Events per second each bot sends. Default 50. */
  readonly rate: number;
  /** Length of the timed sending phase. Default 10. */
  readonly seconds: number;
  /** Target a running server (ws://127.0.0.1:PORT) instead of starting one. Default: start one. */
  readonly endpoint: string | undefined;
  /** Redis for the started server; default: a private redis-server on a free port. */
  readonly redisUrl: string | undefined;
  /** "arena" (the example room with the plugin) or "bare" (the reference room). Default "arena". */
  readonly room: RoomUnderTest;
  /** Worker threads the bots are spread over. Default 2. */
  readonly workers: number;
  /** Milestone definitions the arena loads (to predict unlocks). Default: the demo's. */
  readonly definitions: string;
  /** Max wait after sending for pushes, replies and the store to settle. Default 15. */
  readonly drainSeconds: number;
  /** Relative weights of kill, loot, trade and buy. Default kill=0.6,loot=0.38,trade=0.01,buy=0.01. */
  readonly mix: EventMix;
  /** Write a V8 CPU profile of the started server into this directory. */
  readonly cpuProfileDir: string | undefined;
  /**
   * Pin the bots (this process and its workers) to CPU 0 and the started server and redis-server to CPU 1
   * (`taskset`), so figures stop depending on who got the CPU. Default false.
   */
  readonly pin: boolean;
  /** "steady" (default: bots start at random phases) or "burst" (every bot in step). */
  readonly arrivals: "steady" | "burst";
  /**
   * PostgreSQL for the started arena server (its DATABASE_URL: snapshots and the history archive on), and
   * the report's `historyArchive` lag. Use a throwaway database: the run's players stay in its
   * "progression" schema. Default: none (Redis only, whatever the environment's DATABASE_URL).
   */
  readonly databaseUrl: string | undefined;
  /**
   * Demo server processes the bots are spread over (round-robin by bot), sharing matchmaking (RedisDriver,
   * each with its PUBLIC_ADDRESS) and presence on the run's Redis or Cluster. 1..8. Default 1.
   */
  readonly processes: number;
  /** Masters of a Redis Cluster of the run's own (3..9) instead of one redis-server. Default: none (one redis-server). */
  readonly redisCluster: number | undefined;
  /**
   * After the run, the same bots against 1 process on one redis-server of its own, reported as `reference`
   * with this run's figures divided by it (`comparison`). Default false.
   */
  readonly compareSingle: boolean;
}

export const loadtestDefaults = {
  clients: 100,
  rate: 50,
  seconds: 10,
  room: "arena",
  workers: 2,
  definitions: "rooms/arena/milestones.json",
  drainSeconds: 15,
  processes: 1,
} as const;

/** What one machine runs at most for one load test (each process is a Node server or a redis-server). */
export const loadtestLimits = { maxProcesses: 8, minClusterMasters: 3, maxClusterMasters: 9 } as const;

const usage = `usage: npm run loadtest -- [--clients N] [--rate EVENTS_PER_BOT_PER_S] [--seconds S]
       [--room arena|bare] [--endpoint ws://127.0.0.1:PORT] [--redis-url redis://127.0.0.1:PORT]
       [--workers W] [--definitions FILE] [--drain-seconds S] [--cpu-prof DIR]
       [--mix kill=0.6,loot=0.38,trade=0.01,buy=0.01] [--pin] [--arrivals steady|burst]
       [--database-url postgres://USER@127.0.0.1:5432/DATABASE]
       [--processes N] [--redis-cluster MASTERS] [--compare-single]`;

export function parseLoadtestOptions(argv: readonly string[]): LoadtestOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        clients: { type: "string" },
        rate: { type: "string" },
        seconds: { type: "string" },
        endpoint: { type: "string" },
        "redis-url": { type: "string" },
        room: { type: "string" },
        workers: { type: "string" },
        definitions: { type: "string" },
        "drain-seconds": { type: "string" },
        "cpu-prof": { type: "string" },
        mix: { type: "string" },
        pin: { type: "boolean" },
        arrivals: { type: "string" },
        "database-url": { type: "string" },
        processes: { type: "string" },
        "redis-cluster": { type: "string" },
        "compare-single": { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    throw invalid(`${(error as Error).message}\n${usage}`, {});
  }
  const room = values["room"] ?? loadtestDefaults.room;
  if (room !== "arena" && room !== "bare") throw invalid(`--room must be "arena" or "bare", got ${JSON.stringify(room)}\n${usage}`, { room });
  const arrivals = values["arrivals"] ?? "steady";
  if (arrivals !== "steady" && arrivals !== "burst") throw invalid(`--arrivals must be "steady" or "burst", got ${JSON.stringify(arrivals)}\n${usage}`, { arrivals });
  const endpoint = values["endpoint"];
  if (endpoint !== undefined && !/^wss?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(endpoint)) {
    throw invalid(`--endpoint must be a loopback WebSocket URL such as ws://127.0.0.1:2567, got ${JSON.stringify(endpoint)}`, { endpoint });
  }
  const redisUrl = values["redis-url"];
  if (redisUrl !== undefined && !/^redis:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/\d+)?$/.test(redisUrl)) {
    throw invalid(`--redis-url must be a loopback Redis URL such as redis://127.0.0.1:6379, got ${JSON.stringify(redisUrl)}`, { redisUrl });
  }
  const databaseUrl = values["database-url"];
  if (databaseUrl !== undefined) {
    if (!/^postgres(ql)?:\/\/([A-Za-z0-9_.-]+@)?(127\.0\.0\.1|localhost)(:\d+)?\/[A-Za-z0-9_-]+$/.test(databaseUrl)) {
      throw invalid(`--database-url must be a loopback PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/loadtest, got ${JSON.stringify(databaseUrl)}`, { databaseUrl });
    }
    if (endpoint !== undefined || room !== "arena") {
      throw invalid("--database-url is for the arena server this runner starts: leave out --endpoint and --room bare", { databaseUrl, endpoint, room });
    }
  }
  const processes = integer(values, "processes", loadtestDefaults.processes, 1, loadtestLimits.maxProcesses);
  const redisCluster = values["redis-cluster"] === undefined ? undefined : integer(values, "redis-cluster", 0, loadtestLimits.minClusterMasters, loadtestLimits.maxClusterMasters);
  const compareSingle = (values["compare-single"] as unknown) === true;
  const scaledOut = processes > 1 || redisCluster !== undefined;
  if (scaledOut && (endpoint !== undefined || room !== "arena")) {
    throw invalid("--processes and --redis-cluster start arena servers of this runner's own: leave out --endpoint and --room bare", { processes, redisCluster, endpoint, room });
  }
  if (redisCluster !== undefined && redisUrl !== undefined) {
    throw invalid("--redis-cluster starts a Redis Cluster of the run's own: leave out --redis-url (or --redis-cluster, to use that Redis)", { redisCluster, redisUrl });
  }
  if (processes > 1 && redisUrl !== undefined) {
    // RedisDriver keeps its room list under one global key ("roomcaches"): other users of that Redis would share it.
    throw invalid("--processes above 1 shares matchmaking through RedisDriver, whose room list is one global key: it needs a Redis of its own, so leave out --redis-url", { processes, redisUrl });
  }
  if (compareSingle && !scaledOut) {
    throw invalid("--compare-single compares a scaled-out run with 1 process on one Redis: add --processes N (N > 1) or --redis-cluster MASTERS", { compareSingle });
  }
  return {
    clients: integer(values, "clients", loadtestDefaults.clients, 1, 10_000),
    rate: number(values, "rate", loadtestDefaults.rate, 0.1, 100_000),
    seconds: number(values, "seconds", loadtestDefaults.seconds, 0.5, 600),
    endpoint,
    redisUrl,
    room,
    workers: integer(values, "workers", loadtestDefaults.workers, 1, 16),
    definitions: values["definitions"] ?? loadtestDefaults.definitions,
    drainSeconds: number(values, "drain-seconds", loadtestDefaults.drainSeconds, 0, 300),
    mix: parseMix(values["mix"]),
    cpuProfileDir: values["cpu-prof"],
    pin: (values["pin"] as unknown) === true,
    arrivals,
    databaseUrl,
    processes,
    redisCluster,
    compareSingle,
  };
}

function parseMix(raw: string | undefined): EventMix {
  if (raw === undefined) return defaultEventMix;
  const mix: Record<string, number> = { kill: 0, loot: 0, trade: 0, buy: 0 };
  for (const part of raw.split(",")) {
    const [name, weight] = part.split("=");
    const value = Number(weight);
    if (name === undefined || !(name in mix) || !Number.isFinite(value) || value < 0) {
      throw invalid(`--mix must list weights such as kill=0.6,loot=0.38,trade=0.01,buy=0.01 (names: kill, loot, trade, buy), got ${JSON.stringify(raw)}`, { mix: raw });
    }
    mix[name] = value;
  }
  const result = { kill: mix["kill"] ?? 0, loot: mix["loot"] ?? 0, trade: mix["trade"] ?? 0, buy: mix["buy"] ?? 0 };
  if (result.kill + result.loot + result.trade + result.buy <= 0) throw invalid(`--mix needs at least one positive weight, got ${JSON.stringify(raw)}`, { mix: raw });
  return result;
}

function number(values: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw invalid(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`, { [name]: raw });
  }
  return value;
}

function integer(values: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const value = number(values, name, fallback, min, max);
  if (!Number.isInteger(value)) throw invalid(`--${name} must be a whole number, got ${value}`, { [name]: value });
  return value;
}

function invalid(message: string, details: Record<string, unknown>): ProgressionError {
  return new ProgressionError(ErrorCode.InvalidInput, message, details);
}
