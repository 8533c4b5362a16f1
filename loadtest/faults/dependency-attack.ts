import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";
import { BOT_LOOT } from "./fault-bot.ts";
import { checkStore, driveBots, joinBots, startArenaRig, type ArenaRig, type StoreFigures } from "./arena-rig.ts";
import { startOwnedRedis, type OwnedRedis } from "./owned-redis.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

/**
 * Attack 3: the server's dependencies fail under load, each behind a TCP proxy (tcp-proxy.ts):
 * - PostgreSQL cut during snapshots and history writes, then back: every player's PostgreSQL balance
 *   converges to the Redis one (the failed chunks went back to the dirty set and were retried);
 * - the BullMQ worker killed mid-job: PostgreSQL slowed so snapshot jobs are in flight, the game
 *   server (which runs the workers) killed -9 and restarted: the stalled job is taken over and the
 *   snapshots still converge;
 * - Redis slowed (latency), its connections reset and cut between the game server and Redis during
 *   flushes and ledger calls: kills counted exactly once, acknowledged loot kept, no duplicate pushes.
 * A fresh PostgreSQL database per run (DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/test),
 * dropped at the end.
 */

export interface DependencyScale {
  readonly bots: number;
  readonly seconds: number;
  readonly killsPerSecond: number;
  readonly lootPerSecond: number;
}

export interface DependencyScenario {
  readonly scenario: string;
  readonly figures: StoreFigures;
  readonly snapshots?: { readonly converged: boolean; readonly convergedMs: number; readonly differing: number };
  /** Snapshot jobs BullMQ had active when the worker's process was killed. */
  readonly activeSnapshotJobsAtKill?: number;
  readonly proxy: { connections: number; resets: number; refused: number };
  readonly breaks: readonly string[];
}

const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

export async function dependencyAttack(scale: DependencyScale, log: (line: string) => void): Promise<{ ok: boolean; scenarios: DependencyScenario[] }> {
  const scenarios: DependencyScenario[] = [];
  scenarios.push(...(await postgresScenarios(scale, log)));
  scenarios.push(await redisProxyScenario(scale, log));
  for (const scenario of scenarios) log(`deps ${scenario.scenario}: kills ${scenario.figures.kills.counted}/${scenario.figures.kills.sent}, acknowledged loot lost ${scenario.figures.loot.acknowledgedLost}${scenario.snapshots === undefined ? "" : `, snapshots converged ${scenario.snapshots.converged} in ${scenario.snapshots.convergedMs} ms`}, ${scenario.breaks.length} break(s)`);
  return { ok: scenarios.every((scenario) => scenario.breaks.length === 0), scenarios };
}

/** `exitsBefore`: the server's unexpected exits before the scenario began (each is reported once, where it happened). */
function commonBreaks(figures: StoreFigures, rig: ArenaRig, exitsBefore: number, lostKillsAllowed = 0): string[] {
  const breaks: string[] = [];
  if (figures.kills.lost > lostKillsAllowed) breaks.push(`${figures.kills.lost} kills lost${lostKillsAllowed > 0 ? ` (more than the ${lostKillsAllowed} of a flush window a crash may lose)` : ""}`);
  if (figures.kills.countedTwice > 0) breaks.push(`${figures.kills.countedTwice} kills counted twice`);
  if (figures.loot.acknowledgedLost > 0) breaks.push(`${figures.loot.acknowledgedLost} acknowledged loot units lost`);
  if (figures.loot.extra > 0) breaks.push(`${figures.loot.extra} loot units applied twice`);
  if (figures.unlocks.duplicates > 0) breaks.push(`${figures.unlocks.duplicates} duplicate unlock pushes`);
  const exits = rig.unexpectedExits() - exitsBefore;
  if (exits > 0) breaks.push(`the game server exited by itself ${exits} time(s): ${rig.serverTail().slice(-800)}`);
  return breaks;
}

async function postgresScenarios(scale: DependencyScale, log: (line: string) => void): Promise<DependencyScenario[]> {
  const baseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const name = `faults_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const base = new URL(baseUrl);
  const direct = new URL(baseUrl);
  direct.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: direct.toString(), max: 2 });
  pool.on("error", () => undefined);
  let proxy: TcpProxy | undefined;
  let redis: OwnedRedis | undefined;
  let rig: ArenaRig | undefined;
  const scenarios: DependencyScenario[] = [];
  try {
    proxy = await startTcpProxy({ targetPort: Number(base.port || 5432) });
    const viaProxy = new URL(baseUrl);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    viaProxy.pathname = `/${name}`;
    redis = await startOwnedRedis("everysec");
    rig = await startArenaRig({ redis, databaseUrl: viaProxy.toString() });
    for (const scenario of ["postgres-cut", "worker-kill9-mid-job"] as const) {
      // A server that died in the previous scenario (its break is reported there) is started again.
      await rig.ensureRunning();
      const exitsBefore = rig.unexpectedExits();
      const bots = await joinBots(rig.endpoint, `${rig.prefix}-${scenario === "postgres-cut" ? "pg" : "wk"}`, scale.bots);
      let activeAtKill: number | undefined;
      const drive = driveBots(bots, scale);
      await sleep((scale.seconds * 1000) / 3);
      if (scenario === "postgres-cut") {
        proxy.cut();
        log("deps: PostgreSQL cut");
        await sleep((scale.seconds * 1000) / 3);
        proxy.restore();
      } else {
        // Slow PostgreSQL so a snapshot job is running, then kill the process that runs the workers.
        proxy.delay(300);
        activeAtKill = await waitForActiveSnapshot(redis.url, `bull:${rig.prefix}-snapshot:active`, 5_000);
        await rig.kill9Server();
        proxy.restore();
        await rig.restartServer();
        await Promise.all(bots.map((bot) => bot.join(30_000)));
        log("deps: worker killed -9 mid-job and restarted");
      }
      await sleep((scale.seconds * 1000) / 3);
      drive.stop();
      await Promise.all(bots.map((bot) => bot.waitIdle(15_000)));
      const reports = bots.map((bot) => bot.report());
      const figures = await checkStore(rig.reader(), reports, 30_000);
      // Snapshots converge: PostgreSQL's balance of every bot equals Redis's, within the schedule's bound.
      const started = performance.now();
      let differing = reports.length;
      // A dead server snapshots nothing: its exit is the break, no need to wait for convergence.
      while (performance.now() - started < 45_000 && rig.unexpectedExits() === exitsBefore) {
        differing = 0;
        const stored = await pool
          .query<{ subject: string; free: string }>(`SELECT subject, free::text FROM progression.balances WHERE item = $1 AND subject = ANY($2)`, [BOT_LOOT, reports.map((r) => r.subject)])
          .then((result) => new Map(result.rows.map((row) => [row.subject, Number(row.free)])))
          .catch(() => new Map<string, number>());
        for (const report of reports) {
          const live = (await rig.reader().ledger.balance(report.subject, BOT_LOOT)).free;
          if (stored.get(report.subject) !== live) differing += 1;
        }
        if (differing === 0) break;
        await sleep(500);
      }
      // Killing the worker kills the game server too: its buffered, unflushed kills may go (2 s of traffic at most).
      const breaks = commonBreaks(figures, rig, exitsBefore, scenario === "worker-kill9-mid-job" ? scale.bots * scale.killsPerSecond * 2 : 0);
      if (scenario === "postgres-cut" && figures.unlocks.missing > 0) breaks.push(`${figures.unlocks.missing} unlock pushes missing`);
      if (activeAtKill === 0) breaks.push("no snapshot job was active when the worker was killed: the attack did not hit a job mid-way");
      if (differing > 0) breaks.push(`${differing} players' PostgreSQL balances never converged to Redis's`);
      scenarios.push({ scenario, figures, ...(activeAtKill === undefined ? {} : { activeSnapshotJobsAtKill: activeAtKill }), snapshots: { converged: differing === 0, convergedMs: Math.round(performance.now() - started), differing }, proxy: proxy.stats(), breaks });
      await Promise.all(bots.map((bot) => bot.leave()));
    }
  } finally {
    await rig?.stop();
    await redis?.stop();
    await pool.end().catch(() => undefined);
    await proxy?.close();
    const drop = new pg.Client({ connectionString: baseUrl });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((error: unknown) => log(`could not drop database ${name}: ${String(error)}`));
    await drop.end();
  }
  return scenarios;
}

/** Waits until BullMQ lists a snapshot job as active (the job the kill interrupts); returns how many. */
async function waitForActiveSnapshot(redisUrl: string, activeKey: string, timeoutMs: number): Promise<number> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const active = await client.llen(activeKey);
      if (active > 0 || Date.now() > deadline) return active;
      await sleep(20);
    }
  } finally {
    client.disconnect();
  }
}

async function redisProxyScenario(scale: DependencyScale, log: (line: string) => void): Promise<DependencyScenario> {
  const redis = await startOwnedRedis("always");
  const proxy: TcpProxy = await startTcpProxy({ targetPort: redis.port });
  const rig = await startArenaRig({ redis, serverRedisUrl: proxy.url("redis") }).catch(async (error: unknown) => {
    await proxy.close();
    await redis.stop();
    throw error;
  });
  try {
    const bots = await joinBots(rig.endpoint, `${rig.prefix}-rp`, scale.bots);
    const drive = driveBots(bots, scale);
    const phase = (scale.seconds * 1000) / 5;
    await sleep(phase);
    proxy.delay(50);
    log("deps: Redis slowed by 50 ms per chunk");
    await sleep(phase);
    proxy.restore();
    for (let reset = 0; reset < 3; reset += 1) {
      proxy.reset();
      await sleep(phase / 3);
    }
    log("deps: Redis connections reset 3 times");
    proxy.cut();
    await sleep(phase);
    proxy.restore();
    log("deps: Redis cut and restored");
    await sleep(phase);
    drive.stop();
    await Promise.all(bots.map((bot) => bot.waitIdle(15_000)));
    const figures = await checkStore(rig.reader(), bots.map((bot) => bot.report()), 45_000);
    await Promise.all(bots.map((bot) => bot.leave()));
    return { scenario: "redis-latency-resets-cut", figures, proxy: proxy.stats(), breaks: commonBreaks(figures, rig, 0) };
  } finally {
    await rig.stop();
    await proxy.close();
    await redis.stop();
  }
}
