import { setTimeout as sleep } from "node:timers/promises";
import { checkStore, driveBots, joinBots, startArenaRig, type StoreFigures } from "./arena-rig.ts";
import { startOwnedRedis } from "./owned-redis.ts";

/**
 * Attack 2: `kill -9` under load, through real SDK clients sending kills (fire-and-forget) and loot
 * (requests). Three scenarios on one rig: Redis killed with AOF `always`, Redis killed with AOF
 * `everysec` (each restarted on the same directory), and the game server killed (restarted on the
 * same port, the bots rejoin). What docs/durability.md promises:
 * - AOF always: nothing lost (every applied batch is on disk before its reply): kills counted
 *   exactly, acknowledged loot all there, every unlock pushed once;
 * - AOF everysec: loss bounded by about 1 s: reported, not a break;
 * - game server crash: nothing applied is lost (acknowledged loot all there); buffered kills not
 *   flushed yet are lost: reported as unacknowledged loss.
 * Everywhere: nothing counted twice, no unlock pushed twice.
 */

export interface CrashScale {
  readonly bots: number;
  readonly seconds: number;
  readonly killsPerSecond: number;
  readonly lootPerSecond: number;
}

export interface CrashScenario {
  readonly scenario: string;
  readonly outageMs: number;
  readonly figures: StoreFigures;
  readonly breaks: readonly string[];
}

export async function crashAttack(scale: CrashScale, log: (line: string) => void): Promise<{ ok: boolean; scenarios: CrashScenario[] }> {
  const redis = await startOwnedRedis("always");
  const rig = await startArenaRig({ redis }).catch(async (error: unknown) => {
    await redis.stop();
    throw error;
  });
  const scenarios: CrashScenario[] = [];
  try {
    for (const scenario of ["redis-kill9-aof-always", "redis-kill9-aof-everysec", "server-kill9"] as const) {
      if (scenario === "redis-kill9-aof-everysec") await redis.setFsync("everysec");
      await rig.ensureRunning();
      const exitsBefore = rig.unexpectedExits();
      const bots = await joinBots(rig.endpoint, `${rig.prefix}-${scenario.split("-")[0]}${scenarios.length}`, scale.bots);
      const drive = driveBots(bots, scale);
      await sleep((scale.seconds * 1000) / 2);
      const outageStarted = performance.now();
      if (scenario === "server-kill9") {
        await rig.kill9Server();
        await rig.restartServer();
        await Promise.all(bots.map((bot) => bot.join(30_000)));
      } else {
        await redis.kill9();
        await redis.restart();
      }
      const outageMs = Math.round(performance.now() - outageStarted);
      log(`crash ${scenario}: back after ${outageMs} ms`);
      await sleep((scale.seconds * 1000) / 2);
      drive.stop();
      await Promise.all(bots.map((bot) => bot.waitIdle(15_000)));
      const figures = await checkStore(rig.reader(), bots.map((bot) => bot.report()), 30_000);
      await Promise.all(bots.map((bot) => bot.leave()));
      const breaks: string[] = [];
      const exactAll = scenario === "redis-kill9-aof-always";
      if (figures.kills.countedTwice > 0) breaks.push(`${figures.kills.countedTwice} kills counted more often than sent`);
      if (figures.loot.extra > 0) breaks.push(`${figures.loot.extra} loot units stored beyond what was sent (applied twice)`);
      if (figures.unlocks.duplicates > 0) breaks.push(`${figures.unlocks.duplicates} duplicate unlock pushes`);
      if (scenario !== "redis-kill9-aof-everysec" && figures.loot.acknowledgedLost > 0) breaks.push(`${figures.loot.acknowledgedLost} acknowledged loot units lost`);
      if (exactAll && figures.kills.lost > 0) breaks.push(`${figures.kills.lost} kills lost with AOF always`);
      if (exactAll && figures.unlocks.missing > 0) breaks.push(`${figures.unlocks.missing} unlock pushes missing with AOF always`);
      // A crash loses only what was buffered and not flushed yet: a flush interval's worth, not seconds of play.
      const flushWindow = scale.bots * scale.killsPerSecond * 2;
      if (scenario === "server-kill9" && figures.kills.lost > flushWindow) {
        breaks.push(`${figures.kills.lost} kills lost by a server crash, more than 2 s of traffic (${flushWindow}); server log: ${rig.serverTail().slice(-800)}`);
      }
      if (rig.unexpectedExits() > exitsBefore) breaks.push(`the game server exited by itself ${rig.unexpectedExits() - exitsBefore} time(s): ${rig.serverTail().slice(-800)}`);
      scenarios.push({ scenario, outageMs, figures, breaks });
      log(`crash ${scenario}: kills ${figures.kills.counted}/${figures.kills.sent} counted (lost ${figures.kills.lost}), loot acknowledged ${figures.loot.acknowledged}, acknowledged lost ${figures.loot.acknowledgedLost}, unlocks ${figures.unlocks.received}/${figures.unlocks.expected} (duplicates ${figures.unlocks.duplicates}), ${breaks.length} break(s)`);
    }
  } finally {
    await rig.stop();
    await redis.stop();
  }
  return { ok: scenarios.every((scenario) => scenario.breaks.length === 0), scenarios };
}
