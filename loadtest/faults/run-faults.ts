import { execFileSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { crashAttack } from "./crash-attack.ts";
import { dependencyAttack } from "./dependency-attack.ts";
import { hostileAttack } from "./hostile-attack.ts";
import { ledgerAttack } from "./ledger-attack.ts";
import { startOwnedRedis } from "./owned-redis.ts";

/**
 * `npm run faults -- [--scale small|full] [--only ledger,crash,deps,hostile] [--seed N]`
 *
 * The fault suite: each attack runs against processes this runner starts itself (redis-servers with
 * AOF on free loopback ports, the demo server, TCP proxies), prints its figures (progress on stderr,
 * one JSON report on stdout) and stops everything it started, by pid. Exit code 0 only when no attack
 * found a break; 1 when one did; 2 when the suite itself could not run.
 * - small: what CI runs (a few minutes on 2 cores);
 * - full: the release run (1,000,000 ledger calls per backend, longer crash runs).
 */

const log = (line: string): void => void process.stderr.write(`[faults] ${line}\n`);

const scales = {
  small: {
    ledger: { operations: 20_000, episodeSize: 2_000, concurrency: 4 },
    crash: { bots: 6, seconds: 8, killsPerSecond: 15, lootPerSecond: 5 },
    deps: { bots: 4, seconds: 6, killsPerSecond: 10, lootPerSecond: 4 },
    hostile: { messages: 10_000 },
  },
  full: {
    ledger: { operations: 1_000_000, episodeSize: 20_000, concurrency: 4 },
    crash: { bots: 30, seconds: 30, killsPerSecond: 20, lootPerSecond: 5 },
    deps: { bots: 12, seconds: 20, killsPerSecond: 15, lootPerSecond: 4 },
    hostile: { messages: 50_000 },
  },
} as const;

const attacks = ["ledger", "crash", "deps", "hostile"] as const;
type Attack = (typeof attacks)[number];

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { scale: { type: "string", default: "small" }, only: { type: "string" }, seed: { type: "string" } },
  });
  const scaleName = values.scale;
  if (scaleName !== "small" && scaleName !== "full") throw new Error(`--scale must be small or full, got ${JSON.stringify(scaleName)}`);
  const scale = scales[scaleName];
  const only = values.only === undefined ? [...attacks] : values.only.split(",");
  for (const name of only) if (!(attacks as readonly string[]).includes(name)) throw new Error(`--only takes a comma-separated list of ${attacks.join(", ")}; got ${JSON.stringify(name)}`);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${JSON.stringify(values.seed)}`);

  const started = Date.now();
  const results: Partial<Record<Attack, { ok: boolean; seconds: number; [figures: string]: unknown }>> = {};
  const run = async (name: Attack, attack: () => Promise<{ ok: boolean }>): Promise<void> => {
    if (!only.includes(name)) return;
    const attackStarted = performance.now();
    log(`${name}: starting (${scaleName})`);
    try {
      const result = await attack();
      results[name] = { ...result, seconds: Math.round((performance.now() - attackStarted) / 100) / 10 };
    } catch (error) {
      log(`${name}: could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      results[name] = { ok: false, error: error instanceof Error ? error.message : String(error), seconds: Math.round((performance.now() - attackStarted) / 100) / 10 };
    }
    // Each break on stderr too: CI keeps stderr, and a break must say what broke without the JSON report.
    const breaks = results[name]?.["breaks"];
    if (Array.isArray(breaks)) for (const line of breaks) log(`${name}: break: ${String(line)}`);
    log(`${name}: ${results[name]?.ok === true ? "no break" : "BROKE"} in ${results[name]?.seconds} s`);
  };

  await run("ledger", async () => {
    const redis = await startOwnedRedis("everysec");
    try {
      return await ledgerAttack({ ...scale.ledger, seed, redisUrl: redis.url, log });
    } finally {
      await redis.stop();
    }
  });
  await run("crash", () => crashAttack(scale.crash, log));
  await run("deps", () => dependencyAttack(scale.deps, log));
  await run("hostile", () => hostileAttack(scale.hostile, log));

  const ok = Object.values(results).every((result) => result?.ok === true);
  const report = {
    ok,
    scale: scaleName,
    seed,
    commit: gitCommit(),
    date: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    machine: { cores: availableParallelism(), loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100, node: process.version },
    attacks: results,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return ok ? 0 : 1;
}

function gitCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

process.exitCode = await main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return 2;
});
// Anything still holding the event loop (a socket of a killed process) must not keep the run alive.
setTimeout(() => process.exit(), 5_000).unref();
