import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import { Redis } from "ioredis";
import { z } from "zod";
import { creatures, lootItems, shopItems, shopPrices } from "../rooms/arena/arena-catalog.ts";
import { milestoneDefinitionSchema } from "../src/definitions/milestone-schema.ts";
import { type ArenaBotSettings } from "./bots/arena-bot-session.ts";
import type { BotReport } from "./bots/bot-report.ts";
import { predictableThresholds, type PredictableThreshold } from "./bots/expected-unlocks.ts";
import { arenaStoreCheck } from "./runner/arena-store-check.ts";
import { bareRoomCheck } from "./runner/bare-room-check.ts";
import { BotFleet } from "./runner/bot-fleet.ts";
import { summarizeLatencies } from "./runner/latency-summary.ts";
import { freePort, processCpuMs, processRssMb, startGameServer, startRedisServer, type OwnedProcess } from "./runner/local-processes.ts";
import { parseLoadtestOptions, type LoadtestOptions } from "./runner/loadtest-options.ts";
import { startRedisCluster } from "./runner/redis-cluster.ts";
import { describeRedis, serverRedisEnv, type RunRedis } from "./runner/run-redis.ts";
import { botsCpu, checkPinning, cpusOf, pinProcess, serverCpu } from "./runner/cpu-pinning.ts";
import type { StoreCheck, StoreCheckResult } from "./runner/store-check.ts";
import { historyLagSampler, type HistoryLagReport, type HistoryLagSampler } from "./runner/history-lag-sampler.ts";
import { serverNodeFlags } from "./runner/server-node-flags.ts";

/**
 * `npm run loadtest -- --clients N --rate R --seconds S [--room arena|bare] [--endpoint URL] [--database-url URL]
 *                      [--processes P] [--redis-cluster MASTERS] [--compare-single]`
 *
 * Starts a private redis-server (or, with `--redis-cluster`, a Redis Cluster of that many masters on
 * loopback ports) and the server under test (the demo server's arena, or the bare reference room) unless
 * `--endpoint` names a running one; with `--processes P`, P arena processes sharing matchmaking
 * (RedisDriver, each with its PUBLIC_ADDRESS) and presence, the bots dealt round-robin over them. It
 * spreads the bots over worker threads (with `--database-url`, the arena snapshots into PostgreSQL and the
 * report gives the archive's lag), sends for S seconds, waits for the pushes, checks the counts through
 * the same Redis or Cluster, and prints one JSON report on stdout (progress goes to stderr). With
 * `--compare-single`, the same bots then run against 1 process on one redis-server, and the report holds
 * that `reference` and the ratios. Exit code 0 only when nothing was lost, duplicated or failed.
 */

const repoRoot = resolve(import.meta.dirname, "..");
const log = (message: string): void => void process.stderr.write(`[loadtest] ${message}\n`);

/** The gameplay messages every bot sends most; the throughput figures are about them. */
const hotPathMessages = ["kill", "loot"];

/** What the bots kill, loot and buy: the arena's own catalog, so they only send valid messages. */
const arenaWorld = {
  creatures,
  lootItems,
  // The cheapest item: most purchases can be paid from looted gold.
  shopItems: [shopItems.reduce((cheapest, item) => (shopPrices[item] < shopPrices[cheapest] ? item : cheapest))],
};

/** Where a measurement runs: how many server processes, on one redis-server or a Cluster, and the room size. */
interface Topology {
  readonly processes: number;
  /** Masters of the run's own Redis Cluster, or undefined for one redis-server. */
  readonly clusterMasters: number | undefined;
  /** Seats per arena room (ARENA_MAX_CLIENTS), or undefined for one room for everybody. */
  readonly roomSize: number | undefined;
}

async function main(): Promise<number> {
  const options = parseLoadtestOptions(process.argv.slice(2));
  // The bare room is measured on the same predicted events: its bots get an ack where the arena's get an unlock.
  const thresholds = loadThresholds(options.definitions);
  if (options.pin) checkPinning();
  // Several processes: rooms of a size that gives each process about two, so the bots spread over them.
  const roomSize = options.processes > 1 ? Math.ceil(options.clients / (options.processes * 2)) : undefined;
  const topology: Topology = { processes: options.processes, clusterMasters: options.redisCluster, roomSize };
  const run = await measure(options, topology, thresholds);
  let output: Record<string, unknown> = run;
  let ok = run.ok;
  if (options.compareSingle) {
    // Right after, on the same machine: the reference shares the run's conditions as far as one invocation can.
    log("reference: the same bots against 1 process on one redis-server");
    const reference = await measure({ ...options, redisUrl: undefined }, { processes: 1, clusterMasters: undefined, roomSize }, thresholds);
    ok = ok && reference.ok;
    const { machine: _machine, ...referenceReport } = reference;
    output = { ...run, ok, reference: referenceReport, comparison: compareRuns(run, reference) };
  }
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  return ok ? 0 : 1;
}

type Report = ReturnType<typeof buildReport> & { serverLogTail?: string[] };

/** One measurement on its own Redis (or Cluster) and servers, stopped when it ends. */
async function measure(options: LoadtestOptions, topology: Topology, thresholds: readonly PredictableThreshold[]): Promise<Report> {
  const runId = randomBytes(4).toString("hex");
  const owned: OwnedProcess[] = [];
  let fleet: BotFleet | undefined;
  let check: StoreCheck | undefined;
  let historyLag: HistoryLagSampler | undefined;
  try {
    const target = await startTarget(options, topology, owned, runId, thresholds);
    check = target.check;
    historyLag = target.historyLag;
    // Before the bot workers start: they inherit this process's CPU.
    const pinning = options.pin ? pinAll(target) : "none";
    if (options.pin) log(`pinned: ${pinning}`);
    const subjects = Array.from({ length: options.clients }, (_, index) => `lt-${runId}-${index}`);
    const bots: ArenaBotSettings[] = subjects.map((subject, index) => ({
      // Dealt round-robin over the processes; with shared matchmaking a bot may be seated on another one.
      endpoint: target.endpoints[index % target.endpoints.length] as string,
      roomName: options.room,
      subject,
      ratePerSecond: options.rate,
      arrivals: options.arrivals,
      mix: options.mix,
      ...arenaWorld,
      // Trade partners: the neighbours, so trades stay between running bots (and cross processes).
      peers: subjects.length > 1 ? [subjects[(index + 1) % subjects.length] as string] : [],
      thresholds,
    }));

    log(`${options.clients} bots -> ${target.endpoints.join(", ")} (${options.room}), ${options.rate} events/s each, ${options.seconds} s, ${options.workers} workers`);
    fleet = new BotFleet(bots, options.workers);
    const joinStarted = performance.now();
    const joined = await fleet.joined(60_000 + options.clients * 100);
    log(`joined ${joined.joined}/${options.clients} in ${Math.round(performance.now() - joinStarted)} ms`);

    const cpuBefore = sampleCpu(target.servers, target.redis);
    const memory = trackMemory(target.servers);
    fleet.start(options.seconds, options.drainSeconds);
    historyLag?.start();
    const sent = await fleet.sent(options.seconds * 1000 + 30_000);
    historyLag?.sendingEnded();
    const cpuAfter = sampleCpu(target.servers, target.redis);
    let cpuApplied: CpuSample | undefined;
    let appliedAt = Date.now();
    log(`sending done in ${Math.round(sent.sendingMs)} ms; checking counts`);

    // Kills and loot (fire-and-forget) are final when sending stops: the time until they are all
    // counted is the server's backlog. Ledger requests are final once their replies are in.
    const [applied, drained] = await Promise.all([
      check?.verify(sent.reports, options.drainSeconds * 1000, hotPathMessages).then((result) => {
        cpuApplied = sampleCpu(target.servers, target.redis);
        appliedAt = Date.now();
        return result;
      }),
      fleet.reports(options.drainSeconds * 1000 + 30_000),
    ]);
    const store = await check?.verify(drained.reports, 5_000);
    // The archive catches up within a snapshot interval or two of the last apply (30 s at most idle).
    const archive = await historyLag?.report(appliedAt, 45_000);
    memory.stop();
    const report = buildReport(options, target.topology, pinning, joined, sent.sendingMs, drained.reports, applied, store, archive, {
      // Sums over the server processes (and over the Cluster's redis-servers); 100 means one core fully busy.
      serverCpuPercent: percent(cpuBefore.server, cpuAfter.server, sent.sendingMs),
      redisCpuPercent: percent(cpuBefore.redis, cpuAfter.redis, sent.sendingMs),
      botsCpuPercent: percent(cpuBefore.bots, cpuAfter.bots, sent.sendingMs),
      // CPU time per gameplay event, from the start of sending until the last one was counted: unlike
      // rates, it barely moves when other work shares the machine.
      serverCpuUsPerEvent: perEvent(cpuBefore.server, cpuApplied?.server, applied?.countedEvents),
      redisCpuUsPerEvent: perEvent(cpuBefore.redis, cpuApplied?.redis, applied?.countedEvents),
      botsCpuUsPerEvent: perEvent(cpuBefore.bots, cpuAfter.bots, sent.reports.reduce((sum, r) => sum + Object.values(r.sent).reduce((a, b) => a + b, 0), 0)),
      serverRssMbPeak: memory.peak(),
      // How the work spread over the server processes (and what each held at most).
      serverCpuPercentByProcess: cpuBefore.perServer.map((before, index) => percent(before, cpuAfter.perServer[index], sent.sendingMs)),
      serverRssMbPeakByProcess: memory.peaks(),
    });
    return report.ok ? report : { ...report, serverLogTail: target.serverLog() };
  } finally {
    await fleet?.close(10_000);
    await check?.close();
    await historyLag?.close();
    for (const process of owned.reverse()) await process.stop();
    // A private redis-server is gone with its data; on a shared one (--redis-url) remove this run's keys.
    if (options.redisUrl !== undefined && options.endpoint === undefined) await removeKeys(options.redisUrl, `loadtest-${runId}`);
  }
}

/** This run's figures over the reference's (1 process on one redis-server, same bots, run right after). */
function compareRuns(run: Report, reference: Report): Record<string, unknown> {
  const pair = (ours: number | null | undefined, theirs: number | null | undefined) => ({
    run: ours ?? null,
    reference: theirs ?? null,
    ratio: ours === null || ours === undefined || theirs === null || theirs === undefined || theirs === 0 ? null : Math.round((ours / theirs) * 100) / 100,
  });
  return {
    measures: "this run / the reference (1 process on one redis-server, the same bots, started right after this run on the same machine)",
    appliedPerSecond: pair(run.events.appliedPerSecond, reference.events.appliedPerSecond),
    serverCpuUsPerEvent: pair(run.resources.serverCpuUsPerEvent, reference.resources.serverCpuUsPerEvent),
    redisCpuUsPerEvent: pair(run.resources.redisCpuUsPerEvent, reference.resources.redisCpuUsPerEvent),
    pushLatencyP50Ms: pair(run.latencyMs.p50, reference.latencyMs.p50),
    pushLatencyP99Ms: pair(run.latencyMs.p99, reference.latencyMs.p99),
  };
}

async function removeKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    let removed = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== "0");
    log(`removed ${removed} keys under ${prefix} from ${url}`);
  } catch (error) {
    log(`could not remove the keys under ${prefix} from ${url}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    redis.disconnect();
  }
}

function loadThresholds(path: string): PredictableThreshold[] {
  const file = resolve(repoRoot, path);
  const definitions = z.array(milestoneDefinitionSchema).parse(JSON.parse(readFileSync(file, "utf8")));
  return predictableThresholds(definitions);
}

interface Target {
  /** Where the bots connect, one per server process. */
  readonly endpoints: readonly string[];
  /** Last lines the started servers printed (for the report when something went wrong). */
  readonly serverLog: () => string[];
  /** Pids of the server processes this run started (empty with --endpoint). */
  readonly servers: readonly number[];
  /** Pids of the redis-servers this run started (empty with --redis-url or --endpoint). */
  readonly redis: readonly number[];
  readonly check: StoreCheck | undefined;
  /** With `--database-url`: the PostgreSQL archive's lag. */
  readonly historyLag: HistoryLagSampler | undefined;
  readonly topology: Record<string, unknown>;
}

async function startTarget(options: LoadtestOptions, topology: Topology, owned: OwnedProcess[], runId: string, thresholds: readonly PredictableThreshold[]): Promise<Target> {
  if (options.endpoint !== undefined) {
    return { endpoints: [options.endpoint], serverLog: () => [], servers: [], redis: [], check: undefined, historyLag: undefined, topology: { processes: "not started by this run (--endpoint)" } };
  }
  let redis: RunRedis;
  const redisPids: number[] = [];
  if (topology.clusterMasters !== undefined) {
    const cluster = await startRedisCluster({ masters: topology.clusterMasters });
    owned.push(...cluster.processes);
    redisPids.push(...cluster.processes.map((node) => node.pid));
    redis = { kind: "cluster", nodes: cluster.nodes };
  } else if (options.redisUrl !== undefined) {
    redis = { kind: "single", url: options.redisUrl };
  } else {
    const server = await startRedisServer();
    owned.push(server.process);
    redisPids.push(server.process.pid);
    redis = { kind: "single", url: server.url };
  }
  const execArgv: string[] = serverNodeFlags(repoRoot);
  if (options.cpuProfileDir !== undefined) {
    mkdirSync(options.cpuProfileDir, { recursive: true });
    execArgv.push("--cpu-prof", `--cpu-prof-dir=${resolve(options.cpuProfileDir)}`);
  }
  const script = options.room === "bare" ? "loadtest/reference/bare-server.ts" : "rooms/demo-server.ts";
  // A key prefix of its own, so a shared Redis (--redis-url) keeps runs apart.
  const prefix = `loadtest-${runId}`;
  const shared = topology.processes > 1;
  const ports: number[] = [];
  while (ports.length < topology.processes) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  // Started side by side; each is owned as soon as it runs, so a failed start stops the others too.
  const started = await Promise.allSettled(
    ports.map(async (port) => {
      // Redis mode, with PostgreSQL snapshots only when asked (--database-url; the demo adds them when
      // DATABASE_URL is set), so runs measure the same thing whatever the caller's environment holds.
      const env = {
        ...serverRedisEnv(redis),
        REDIS_PREFIX: prefix,
        DATABASE_URL: options.databaseUrl,
        REDIS_CLUSTER_SHARDS: undefined,
        // Several processes: shared matchmaking (RedisDriver), new rooms on the processes in turn.
        PUBLIC_ADDRESS: shared ? `127.0.0.1:${port}` : undefined,
        ROOM_PLACEMENT: shared ? "round-robin" : undefined,
        ARENA_MAX_CLIENTS: topology.roomSize === undefined ? undefined : String(topology.roomSize),
      };
      return await startGameServer({ script: resolve(repoRoot, script), port, env, execArgv, name: `${script} :${port}`, onStart: (child) => owned.push(child) });
    }),
  );
  const failed = started.find((result) => result.status === "rejected");
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  const servers = started.map((result) => (result as PromiseFulfilledResult<OwnedProcess>).value);
  log(
    `started ${servers.length} x ${script} on port${servers.length > 1 ? "s" : ""} ${ports.join(", ")} (pid ${servers.map((server) => server.pid).join(", ")}), ` +
      `${describeRedis(redis)}${redisPids.length === 0 ? "" : ` (redis-server pid ${redisPids.join(", ")})`}${options.databaseUrl === undefined ? "" : `, PostgreSQL ${options.databaseUrl}`}`,
  );
  const check = options.room === "bare" ? bareRoomCheck((servers[0] as OwnedProcess).child) : arenaStoreCheck({ redis, prefix, thresholds });
  const serverLog = (): string[] => servers.flatMap((server, index) => server.tail().split("\n").slice(-15).map((line) => (servers.length > 1 ? `[${index + 1}] ${line}` : line)));
  const historyLag = options.databaseUrl === undefined ? undefined : historyLagSampler(redis, prefix);
  return {
    endpoints: ports.map((port) => `ws://127.0.0.1:${port}`),
    serverLog,
    servers: servers.map((server) => server.pid),
    redis: redisPids,
    check,
    historyLag,
    topology: {
      processes: topology.processes,
      redis: redis.kind === "single" ? (options.redisUrl === undefined ? "one redis-server of its own" : "one redis-server (--redis-url)") : `a Redis Cluster of its own, ${topology.clusterMasters} masters`,
      matchmaking: shared ? "shared (RedisDriver), new rooms on the processes in turn (ROOM_PLACEMENT=round-robin)" : "one process",
      roomSize: topology.roomSize ?? "unlimited (one room)",
    },
  };
}

/** Pins the bots (this process) and what this run started; returns what runs where. */
function pinAll(target: Target): string {
  pinProcess(process.pid, botsCpu);
  const placed = [`bots: cpu ${cpusOf(process.pid)}`];
  const groups = [["server", target.servers], ["redis-server", target.redis]] as const;
  for (const [name, pids] of groups) {
    if (pids.length === 0) {
      placed.push(`${name}: not started by this run, not pinned`);
      continue;
    }
    pids.forEach((pid, index) => {
      pinProcess(pid, serverCpu);
      placed.push(`${pids.length > 1 ? `${name} ${index + 1}` : name}: cpu ${cpusOf(pid)}`);
    });
  }
  return placed.join("; ");
}

/** CPU and memory of what the run started; null where it started nothing to measure. */
interface ResourceFigures {
  readonly serverCpuPercent: number | null;
  readonly redisCpuPercent: number | null;
  readonly botsCpuPercent: number | null;
  readonly serverCpuUsPerEvent: number | null;
  readonly redisCpuUsPerEvent: number | null;
  readonly botsCpuUsPerEvent: number | null;
  readonly serverRssMbPeak: number | null;
  readonly serverCpuPercentByProcess: readonly (number | null)[];
  readonly serverRssMbPeakByProcess: readonly (number | null)[];
}

interface CpuSample {
  readonly at: number;
  /** Sums over the processes (undefined when this run started none). */
  readonly server: number | undefined;
  readonly redis: number | undefined;
  readonly perServer: readonly number[];
  readonly bots: number;
}

function sampleCpu(servers: readonly number[], redis: readonly number[]): CpuSample {
  const usage = process.cpuUsage();
  const perServer = servers.map((pid) => processCpuMs(pid));
  const sum = (values: readonly number[]): number | undefined => (values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0));
  return {
    at: performance.now(),
    server: sum(perServer),
    redis: sum(redis.map((pid) => processCpuMs(pid))),
    perServer,
    bots: (usage.user + usage.system) / 1000,
  };
}

function perEvent(beforeMs: number | undefined, afterMs: number | undefined, events: number | undefined): number | null {
  if (beforeMs === undefined || afterMs === undefined || events === undefined || events === 0) return null;
  return Math.round(((afterMs - beforeMs) * 1000) / events);
}

/** CPU over the sending phase; 100 means one core fully busy. */
function percent(before: number | undefined, after: number | undefined, elapsedMs: number): number | null {
  if (before === undefined || after === undefined || elapsedMs <= 0) return null;
  return Math.round(((after - before) / elapsedMs) * 1000) / 10;
}

/** Peak resident memory of each server process: the largest (`peak`) and each one's (`peaks`). */
function trackMemory(pids: readonly number[]): { stop(): void; peak(): number | null; peaks(): (number | null)[] } {
  const peaks: (number | null)[] = pids.map(() => null);
  const sample = (): void => {
    pids.forEach((pid, index) => {
      try {
        peaks[index] = Math.max(peaks[index] ?? 0, Math.round(processRssMb(pid)));
      } catch {
        // The process is gone; keep the last peak.
      }
    });
  };
  sample();
  const timer = setInterval(sample, 250);
  return {
    stop: () => clearInterval(timer),
    peak: () => (pids.length === 0 ? null : Math.max(...peaks.map((value) => value ?? 0))),
    peaks: () => [...peaks],
  };
}

function buildReport(
  options: LoadtestOptions,
  topology: Record<string, unknown>,
  pinning: string,
  joined: { joined: number; failed: number; errors: string[] },
  sendingMs: number,
  reports: readonly BotReport[],
  applied: StoreCheckResult | undefined,
  store: StoreCheckResult | undefined,
  archive: HistoryLagReport | undefined,
  resources: ResourceFigures,
) {
  const byType: Record<string, number> = {};
  let expected = 0;
  let received = 0;
  let duplicated = 0;
  let unpredicted = 0;
  const missingSamples: string[] = [];
  const errors: string[] = [...joined.errors];
  const rejected: Record<string, number> = {};
  const latencies: number[] = [];
  const requestLatencies: number[] = [];
  const pushes = { unlocked: 0, progress: 0, inventory: 0, snapshot: 0 };
  for (const report of reports) {
    pushes.unlocked += Object.values(report.received).reduce((a, b) => a + b, 0);
    pushes.progress += report.pushes.progress;
    pushes.inventory += report.pushes.inventory;
    pushes.snapshot += report.pushes.snapshot;
    for (const [type, count] of Object.entries(report.sent)) byType[type] = (byType[type] ?? 0) + count;
    for (const [type, count] of Object.entries(report.rejected)) rejected[type] = (rejected[type] ?? 0) + count;
    const expectedCodes = new Set(report.expected);
    expected += expectedCodes.size;
    for (const code of expectedCodes) {
      if ((report.received[code] ?? 0) > 0) received += 1;
      else if (missingSamples.length < 10) missingSamples.push(`${report.subject}:${code}`);
    }
    for (const [code, count] of Object.entries(report.received)) {
      duplicated += Math.max(0, count - 1);
      if (!expectedCodes.has(code)) unpredicted += 1;
    }
    errors.push(...report.errors);
    latencies.push(...report.latenciesMs);
    requestLatencies.push(...report.requestLatenciesMs);
  }
  const sentEvents = Object.values(byType).reduce((a, b) => a + b, 0);
  const hotPathSent = hotPathMessages.reduce((sum, type) => sum + (byType[type] ?? 0), 0);
  const seconds = sendingMs / 1000;
  const ok =
    joined.failed === 0 && errors.length === 0 && received === expected && duplicated === 0 && (store === undefined || store.ok);
  return {
    ok,
    room: options.room,
    /** Server processes, the Redis they share, matchmaking and room size. */
    topology,
    clients: { requested: options.clients, joined: joined.joined, failed: joined.failed },
    ratePerBot: options.rate,
    /** "steady": bots at random phases; "burst": every bot in step. */
    arrivals: options.arrivals,
    mix: options.mix,
    seconds: Math.round(seconds * 100) / 100,
    workers: options.workers,
    events: {
      /** Every message the bots sent (kill, loot, trade, buy, confirm, cancel). */
      sent: sentEvents,
      sentPerSecond: Math.round(sentEvents / seconds),
      byType,
      /** Kill and loot events, and how many of them the store counted. */
      gameplaySent: hotPathSent,
      gameplayCounted: applied?.countedEvents ?? null,
      /** Counted gameplay events over (sending time + time until the last one was counted). */
      appliedPerSecond: applied === undefined ? null : Math.round(applied.countedEvents / ((sendingMs + applied.settledMs) / 1000)),
      backlogSettledMs: applied?.settledMs ?? null,
    },
    /** From the send of the event that crosses a threshold to its unlock push (arena) or the room's ack (bare). */
    latencyMs: summarizeLatencies(latencies),
    latencyMeasures: options.room === "bare" ? "send -> ack (the reference: Colyseus alone)" : "send -> unlock",
    /** From sending a ledger request (trade, buy, confirm, cancel) to its answer or rejection. */
    requestLatencyMs: summarizeLatencies(requestLatencies),
    /** Server -> client messages the bots received, by kind: the push traffic each gameplay event causes. */
    pushes: {
      ...pushes,
      perGameplayEvent: hotPathSent === 0 ? null : Math.round(((pushes.unlocked + pushes.progress + pushes.inventory) / hotPathSent) * 100) / 100,
    },
    unlocks: { expected, received, duplicated, missing: expected - received, missingSamples, unpredicted },
    store: store ?? { method: "skipped: --endpoint targets a server this runner did not start" },
    /** With --database-url: how far the PostgreSQL archive (snapshots, history rollups) was behind the applies. */
    historyArchive: archive ?? { measures: "skipped: no --database-url (Redis only)" },
    rejected,
    errors: { count: errors.length, samples: errors.slice(0, 10) },
    resources,
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? "unknown",
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      /** Which CPUs the bots, the server(s) and redis-server(s) ran on (`--pin`), or "none". */
      pinning,
      /** Other work on the machine skews every figure: the 1-minute load average when the run ended. */
      loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    },
  };
}

process.exitCode = await main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return 2;
});
