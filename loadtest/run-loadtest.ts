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
import { botsCpu, checkPinning, cpusOf, pinProcess, serverCpu } from "./runner/cpu-pinning.ts";
import type { StoreCheck, StoreCheckResult } from "./runner/store-check.ts";
import { historyLagSampler, type HistoryLagReport, type HistoryLagSampler } from "./runner/history-lag-sampler.ts";
import { serverNodeFlags } from "./runner/server-node-flags.ts";

/**
 * `npm run loadtest -- --clients N --rate R --seconds S [--room arena|bare] [--endpoint URL] [--database-url URL]`
 *
 * Starts a private redis-server and the server under test (the demo server's arena, or the bare
 * reference room) unless `--endpoint` names a running one, spreads the bots over worker threads,
 * (with `--database-url`, the arena snapshots into PostgreSQL and the report gives the archive's lag),
 * sends for S seconds, waits for the pushes, checks the counts, and prints one JSON report on
 * stdout (progress goes to stderr). Exit code 0 only when nothing was lost, duplicated or failed.
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

async function main(): Promise<number> {
  const options = parseLoadtestOptions(process.argv.slice(2));
  // The bare room is measured on the same predicted events: its bots get an ack where the arena's get an unlock.
  const thresholds = loadThresholds(options.definitions);
  const runId = randomBytes(4).toString("hex");
  const owned: OwnedProcess[] = [];
  let fleet: BotFleet | undefined;
  let check: StoreCheck | undefined;
  let historyLag: HistoryLagSampler | undefined;
  try {
    if (options.pin) checkPinning();
    const target = await startTarget(options, owned, runId, thresholds);
    check = target.check;
    historyLag = target.historyLag;
    // Before the bot workers start: they inherit this process's CPU.
    const pinning = options.pin ? pinAll(target) : "none";
    if (options.pin) log(`pinned: ${pinning}`);
    const subjects = Array.from({ length: options.clients }, (_, index) => `lt-${runId}-${index}`);
    const bots: ArenaBotSettings[] = subjects.map((subject, index) => ({
      endpoint: target.endpoint,
      roomName: options.room,
      subject,
      ratePerSecond: options.rate,
      arrivals: options.arrivals,
      mix: options.mix,
      ...arenaWorld,
      // Trade partners: the neighbours, so trades stay between running bots.
      peers: subjects.length > 1 ? [subjects[(index + 1) % subjects.length] as string] : [],
      thresholds,
    }));

    log(`${options.clients} bots -> ${target.endpoint} (${options.room}), ${options.rate} events/s each, ${options.seconds} s, ${options.workers} workers`);
    fleet = new BotFleet(bots, options.workers);
    const joinStarted = performance.now();
    const joined = await fleet.joined(60_000 + options.clients * 100);
    log(`joined ${joined.joined}/${options.clients} in ${Math.round(performance.now() - joinStarted)} ms`);

    const cpuBefore = sampleCpu(target.server, target.redis);
    const memory = trackMemory(target.server);
    fleet.start(options.seconds, options.drainSeconds);
    historyLag?.start();
    const sent = await fleet.sent(options.seconds * 1000 + 30_000);
    historyLag?.sendingEnded();
    const cpuAfter = sampleCpu(target.server, target.redis);
    let cpuApplied: CpuSample | undefined;
    let appliedAt = Date.now();
    log(`sending done in ${Math.round(sent.sendingMs)} ms; checking counts`);

    // Kills and loot (fire-and-forget) are final when sending stops: the time until they are all
    // counted is the server's backlog. Ledger requests are final once their replies are in.
    const [applied, drained] = await Promise.all([
      check?.verify(sent.reports, options.drainSeconds * 1000, hotPathMessages).then((result) => {
        cpuApplied = sampleCpu(target.server, target.redis);
        appliedAt = Date.now();
        return result;
      }),
      fleet.reports(options.drainSeconds * 1000 + 30_000),
    ]);
    const store = await check?.verify(drained.reports, 5_000);
    // The archive catches up within a snapshot interval or two of the last apply (30 s at most idle).
    const archive = await historyLag?.report(appliedAt, 45_000);
    memory.stop();
    const report = buildReport(options, pinning, joined, sent.sendingMs, drained.reports, applied, store, archive, {
      serverCpuPercent: percent(cpuBefore.server, cpuAfter.server, sent.sendingMs),
      redisCpuPercent: percent(cpuBefore.redis, cpuAfter.redis, sent.sendingMs),
      botsCpuPercent: percent(cpuBefore.bots, cpuAfter.bots, sent.sendingMs),
      // CPU time per gameplay event, from the start of sending until the last one was counted: unlike
      // rates, it barely moves when other work shares the machine.
      serverCpuUsPerEvent: perEvent(cpuBefore.server, cpuApplied?.server, applied?.countedEvents),
      redisCpuUsPerEvent: perEvent(cpuBefore.redis, cpuApplied?.redis, applied?.countedEvents),
      botsCpuUsPerEvent: perEvent(cpuBefore.bots, cpuAfter.bots, sent.reports.reduce((sum, r) => sum + Object.values(r.sent).reduce((a, b) => a + b, 0), 0)),
      serverRssMbPeak: memory.peak(),
    });
    const output = report.ok ? report : { ...report, serverLogTail: target.serverLog() };
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await fleet?.close(10_000);
    await check?.close();
    await historyLag?.close();
    for (const process of owned.reverse()) await process.stop();
    // A private redis-server is gone with its data; on a shared one (--redis-url) remove this run's keys.
    if (options.redisUrl !== undefined && options.endpoint === undefined) await removeKeys(options.redisUrl, `loadtest-${runId}`);
  }
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
  readonly endpoint: string;
  /** Last lines the started server printed (for the report when something went wrong). */
  readonly serverLog: () => string[];
  readonly server: number | undefined;
  readonly redis: number | undefined;
  readonly check: StoreCheck | undefined;
  /** With `--database-url`: the PostgreSQL archive's lag. */
  readonly historyLag: HistoryLagSampler | undefined;
}

async function startTarget(options: LoadtestOptions, owned: OwnedProcess[], runId: string, thresholds: readonly PredictableThreshold[]): Promise<Target> {
  if (options.endpoint !== undefined) {
    return { endpoint: options.endpoint, serverLog: () => [], server: undefined, redis: undefined, check: undefined, historyLag: undefined };
  }
  let redisUrl = options.redisUrl;
  let redisPid: number | undefined;
  if (redisUrl === undefined) {
    const redis = await startRedisServer();
    owned.push(redis.process);
    redisUrl = redis.url;
    redisPid = redis.process.pid;
  }
  const port = await freePort();
  const execArgv: string[] = serverNodeFlags(repoRoot);
  if (options.cpuProfileDir !== undefined) {
    mkdirSync(options.cpuProfileDir, { recursive: true });
    execArgv.push("--cpu-prof", `--cpu-prof-dir=${resolve(options.cpuProfileDir)}`);
  }
  const script = options.room === "bare" ? "loadtest/reference/bare-server.ts" : "rooms/demo-server.ts";
  // A key prefix of its own, so a shared Redis (--redis-url) keeps runs apart.
  const prefix = `loadtest-${runId}`;
  // Redis mode, with PostgreSQL snapshots only when asked (--database-url; the demo adds them when
  // DATABASE_URL is set), so runs measure the same thing whatever the caller's environment holds.
  const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, DATABASE_URL: options.databaseUrl };
  const server = await startGameServer({ script: resolve(repoRoot, script), port, env, execArgv, name: script });
  owned.push(server);
  log(`started ${script} on port ${port} (pid ${server.pid}), redis ${redisUrl}${options.databaseUrl === undefined ? "" : `, PostgreSQL ${options.databaseUrl}`}`);
  const check = options.room === "bare" ? bareRoomCheck(server.child) : arenaStoreCheck({ redisUrl, prefix, thresholds });
  const serverLog = (): string[] => server.tail().split("\n").slice(-15);
  const historyLag = options.databaseUrl === undefined ? undefined : historyLagSampler(redisUrl, prefix);
  return { endpoint: `ws://127.0.0.1:${port}`, serverLog, server: server.pid, redis: redisPid, check, historyLag };
}

/** Pins the bots (this process) and what this run started; returns what runs where. */
function pinAll(target: Target): string {
  pinProcess(process.pid, botsCpu);
  const placed = [`bots: cpu ${cpusOf(process.pid)}`];
  for (const [name, pid] of [["server", target.server], ["redis-server", target.redis]] as const) {
    if (pid === undefined) {
      placed.push(`${name}: not started by this run, not pinned`);
      continue;
    }
    pinProcess(pid, serverCpu);
    placed.push(`${name}: cpu ${cpusOf(pid)}`);
  }
  return placed.join("; ");
}

interface CpuSample {
  readonly at: number;
  readonly server: number | undefined;
  readonly redis: number | undefined;
  readonly bots: number;
}

function sampleCpu(server: number | undefined, redis: number | undefined): CpuSample {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    server: server === undefined ? undefined : processCpuMs(server),
    redis: redis === undefined ? undefined : processCpuMs(redis),
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

function trackMemory(pid: number | undefined): { stop(): void; peak(): number | null } {
  let peak: number | null = null;
  const sample = (): void => {
    if (pid === undefined) return;
    try {
      peak = Math.max(peak ?? 0, Math.round(processRssMb(pid)));
    } catch {
      // The process is gone; keep the last peak.
    }
  };
  sample();
  const timer = setInterval(sample, 250);
  return { stop: () => clearInterval(timer), peak: () => peak };
}

function buildReport(
  options: LoadtestOptions,
  pinning: string,
  joined: { joined: number; failed: number; errors: string[] },
  sendingMs: number,
  reports: readonly BotReport[],
  applied: StoreCheckResult | undefined,
  store: StoreCheckResult | undefined,
  archive: HistoryLagReport | undefined,
  resources: Record<string, number | null>,
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
      /** Which CPUs the bots, the server and redis-server ran on (`--pin`), or "none". */
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
