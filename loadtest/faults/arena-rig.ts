import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { Progression } from "../../src/engine/progression.ts";
import { freePort, startGameServer, type OwnedProcess } from "../runner/local-processes.ts";
import { summarizeLatencies, type LatencySummary } from "../runner/latency-summary.ts";
import { BOT_LOOT, FaultBot, type FaultBotReport } from "./fault-bot.ts";
import type { OwnedRedis } from "./owned-redis.ts";

/**
 * The demo server (rooms/demo-server.ts, Redis mode) under attack, started by the suite on a free
 * loopback port with a key prefix of its own, plus a reader of the same store (same Redis, same
 * prefix, through the engine) to check what the bots' traffic left there.
 */

const repoRoot = resolve(import.meta.dirname, "../..");

export interface ArenaRig {
  readonly prefix: string;
  readonly port: number;
  readonly endpoint: string;
  server(): OwnedProcess;
  /** Starts the server again on the same port (after a kill -9). */
  restartServer(): Promise<void>;
  /** The server's last output lines, for a report when it misbehaved. */
  serverTail(): string;
  /** Exits of the server that the attack did not cause. */
  unexpectedExits(): number;
  kill9Server(): Promise<void>;
  /** Starts the server again if it exited by itself (the exit stays counted in unexpectedExits). */
  ensureRunning(): Promise<void>;
  reader(): Progression;
  stop(): Promise<void>;
}

export async function startArenaRig(options: {
  redis: OwnedRedis;
  /** Where the server reaches Redis (default the Redis itself; a proxy for the network attacks). */
  serverRedisUrl?: string;
  databaseUrl?: string;
  /** Extra environment of the server. */
  env?: Record<string, string | undefined>;
}): Promise<ArenaRig> {
  const prefix = `faults-${randomBytes(4).toString("hex")}`;
  const port = await freePort();
  let killing = false;
  let unexpected = 0;
  const env = {
    REDIS_URL: options.serverRedisUrl ?? options.redis.url,
    REDIS_PREFIX: prefix,
    DATABASE_URL: options.databaseUrl,
    ...options.env,
  };
  const start = async (): Promise<OwnedProcess> => {
    const started = await startGameServer({ script: resolve(repoRoot, "rooms/demo-server.ts"), port, env, execArgv: [], name: "demo server" });
    started.child.once("exit", () => {
      if (!killing) unexpected += 1;
    });
    return started;
  };
  let server = await start();
  const backend = createRedisBackend({ url: options.redis.url, prefix, onConnectionError: () => undefined });
  const reader = createArenaProgression({ backend, onMissingTranslations: () => undefined });
  return {
    prefix,
    port,
    endpoint: `ws://127.0.0.1:${port}`,
    server: () => server,
    restartServer: async () => {
      server = await start();
      killing = false;
    },
    serverTail: () => server.tail(),
    unexpectedExits: () => unexpected,
    kill9Server: async () => {
      killing = true;
      const gone = new Promise<void>((resolveGone) => server.child.once("exit", () => resolveGone()));
      process.kill(server.pid, "SIGKILL");
      await gone;
    },
    ensureRunning: async () => {
      if (server.exited() !== null) server = await start();
    },
    reader: () => reader,
    stop: async () => {
      killing = true;
      await server.stop(15_000);
      await reader.close().catch(() => undefined);
    },
  };
}

/** Drives bots: kills at `killsPerSecond` each, loot requests back to back up to `lootPerSecond` each. */
export function driveBots(bots: readonly FaultBot[], rates: { killsPerSecond: number; lootPerSecond: number }): { stop(): void } {
  let last = performance.now();
  const credit = bots.map(() => ({ kills: 0, loot: 0 }));
  const timer = setInterval(() => {
    const now = performance.now();
    const seconds = Math.min((now - last) / 1000, 0.1);
    last = now;
    bots.forEach((bot, index) => {
      const own = credit[index] as { kills: number; loot: number };
      own.kills += seconds * rates.killsPerSecond;
      own.loot = Math.min(own.loot + seconds * rates.lootPerSecond, 1);
      while (own.kills >= 1) {
        own.kills -= 1;
        bot.kill();
      }
      if (own.loot >= 1) {
        own.loot -= 1;
        bot.loot();
      }
    });
  }, 10);
  return { stop: () => clearInterval(timer) };
}

const KILL_THRESHOLDS: Readonly<Record<string, number>> = { first_blood: 1, slayer_10: 10, slayer_100: 100, rampage: 50, slayer_1000: 1000 };

export interface StoreFigures {
  readonly kills: { readonly sent: number; readonly counted: number; readonly lost: number; readonly countedTwice: number };
  readonly loot: {
    readonly sent: number;
    readonly acknowledged: number;
    readonly failed: number;
    readonly stored: number;
    /** Acknowledged units the store does not have (per bot: its largest acknowledged balance minus the stored one). */
    readonly acknowledgedLost: number;
    /** Stored units more than were sent: applied twice. */
    readonly extra: number;
  };
  readonly unlocks: { readonly expected: number; readonly received: number; readonly duplicates: number; readonly missing: number };
  readonly latencyMs: LatencySummary;
  readonly settledMs: number;
  readonly errors: readonly string[];
}

/**
 * Waits until the store's kill counts stop moving (or match what was sent), then compares it with
 * what the bots sent and were told. The milestones a bot's counted kills cross must have been
 * pushed to it once each.
 */
export async function checkStore(reader: Progression, reports: readonly FaultBotReport[], timeoutMs: number): Promise<StoreFigures> {
  const started = performance.now();
  const read = async (report: FaultBotReport): Promise<{ kills: number; loot: number }> => {
    const progress = await reader.progress(report.subject);
    const kills = progress.find((entry) => entry.code === "slayer_1000")?.current ?? 0;
    const loot = (await reader.ledger.balance(report.subject, BOT_LOOT)).free;
    return { kills, loot };
  };
  let figures = await Promise.all(reports.map(read));
  let stableSince = performance.now();
  for (;;) {
    const done = figures.every((figure, index) => figure.kills >= (reports[index] as FaultBotReport).killsSent);
    if (done || performance.now() - stableSince > 3_000 || performance.now() - started > timeoutMs) break;
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    const next = await Promise.all(reports.map(read));
    if (JSON.stringify(next) !== JSON.stringify(figures)) stableSince = performance.now();
    figures = next;
  }
  let expected = 0;
  let received = 0;
  let duplicates = 0;
  let missing = 0;
  let acknowledgedLost = 0;
  let extra = 0;
  let lost = 0;
  let countedTwice = 0;
  reports.forEach((report, index) => {
    const store = figures[index] as { kills: number; loot: number };
    lost += Math.max(0, report.killsSent - store.kills);
    countedTwice += Math.max(0, store.kills - report.killsSent);
    acknowledgedLost += Math.max(0, report.lootAcknowledgedBalance - store.loot);
    extra += Math.max(0, store.loot - report.lootSent);
    for (const [code, threshold] of Object.entries(KILL_THRESHOLDS)) {
      if (store.kills < threshold) continue;
      expected += 1;
      const count = report.unlocks[code] ?? 0;
      if (count === 0) missing += 1;
      else received += 1;
    }
    for (const count of Object.values(report.unlocks)) duplicates += Math.max(0, count - 1);
  });
  const sum = (pick: (report: FaultBotReport) => number): number => reports.reduce((total, report) => total + pick(report), 0);
  return {
    kills: { sent: sum((r) => r.killsSent), counted: figures.reduce((total, figure) => total + figure.kills, 0), lost, countedTwice },
    loot: {
      sent: sum((r) => r.lootSent),
      acknowledged: sum((r) => r.lootAcknowledged),
      failed: sum((r) => r.lootFailed),
      stored: figures.reduce((total, figure) => total + figure.loot, 0),
      acknowledgedLost,
      extra,
    },
    unlocks: { expected, received, duplicates, missing },
    latencyMs: summarizeLatencies(reports.flatMap((report) => report.latenciesMs)),
    settledMs: Math.round(performance.now() - started),
    errors: reports.flatMap((report) => report.errors).slice(0, 5),
  };
}

export async function joinBots(endpoint: string, prefix: string, count: number): Promise<FaultBot[]> {
  const bots = Array.from({ length: count }, (_, index) => new FaultBot(endpoint, `${prefix}-p${index}`));
  await Promise.all(bots.map((bot) => bot.join()));
  return bots;
}
