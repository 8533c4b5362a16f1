/**
 * Store benchmark (`npm run bench:store`): gameplay events through the engine's batch path
 * (createBuffer -> add -> drain -> applyBatch) into the Redis backend, 10,000 subjects and 50
 * milestones, on a redis-server this script starts on a free port (and stops). In the same run:
 * raw pipelined HINCRBY on the same Redis as the reference, and Redis memory per subject.
 *
 * Options (env): BENCH_EVENTS (default 2,000,000), BENCH_BATCH_EVENTS (events per flush, 50,000),
 * BENCH_IN_FLIGHT (flushes applying at once, 2), BENCH_SUBJECTS_PER_CALL (subjects per script call, 64).
 */
import { cpus } from "node:os";
import { Redis } from "ioredis";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { GameplayEvent } from "../../src/engine/gameplay-event.ts";
import type { PendingBatch } from "../../src/engine/progression.ts";
import { createRedisBackend } from "../../src/store/redis/create-redis-backend.ts";
import { createRedisKeys } from "../../src/store/redis/redis-keys.ts";
import { startRedisServer } from "../../test/support/redis-server.ts";
import { subjectMemoryPlan, subjectMemoryUsage } from "../../test/redis/subject-memory.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const BATCH_EVENTS = Number(process.env.BENCH_BATCH_EVENTS ?? 50_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 2);
const SUBJECTS_PER_CALL = Number(process.env.BENCH_SUBJECTS_PER_CALL ?? 64);
const SUBJECTS = 10_000;
const HINCRBY_OPS = 2_000_000;

/** 50 milestones: count tiers sharing counters, window and daily rules, a return-after-gap. */
function definitions(): MilestoneDefinitionInput[] {
  const defs: MilestoneDefinitionInput[] = [];
  const m = (code: string, trigger: string, rule: MilestoneDefinitionInput["rule"]): void => {
    defs.push({ code, title: `${code}.title`, description: `${code}.description`, icon: `${code}.png`, trigger, rule });
  };
  for (const creature of ["skaven", "rat", "ogre", "troll"]) {
    for (const threshold of [10, 100, 1000, 10_000, 100_000]) m(`kill_${creature}_${threshold}`, "kill", { type: "count", threshold, where: { creature } });
  }
  for (const threshold of [1, 50, 500, 5000, 50_000, 500_000]) m(`kill_any_${threshold}`, "kill", { type: "count", threshold });
  for (const rarity of ["common", "rare", "epic"]) {
    for (const threshold of [10, 100, 1000, 10_000]) m(`loot_${rarity}_${threshold}`, "loot", { type: "count", threshold, where: { rarity } });
  }
  m("kill_50_in_1d", "kill", { type: "window", count: 50, days: 1 });
  m("kill_200_in_7d", "kill", { type: "window", count: 200, days: 7 });
  m("kill_1000_in_7d", "kill", { type: "window", count: 1000, days: 7 });
  m("loot_20_in_1d", "loot", { type: "window", count: 20, days: 1 });
  m("loot_100_in_7d", "loot", { type: "window", count: 100, days: 7 });
  m("login_3_days", "login", { type: "daily", days: 3 });
  m("login_7_days", "login", { type: "daily", days: 7 });
  m("login_30_days", "login", { type: "daily", days: 30 });
  m("play_10_days", "play", { type: "daily", days: 10 });
  m("back_after_7d", "login", { type: "returnAfterGap", days: 7 });
  m("back_after_30d", "login", { type: "returnAfterGap", days: 30 });
  m("quest_1", "quest", { type: "count", threshold: 1 });
  if (defs.length !== 50) throw new Error(`expected 50 milestones, built ${defs.length}`);
  return defs;
}

/** A deterministic event stream: 70% kills, 20% loot, 5% play, 4% quests, 1% logins. */
function* events(count: number): Generator<GameplayEvent> {
  const creatures = ["skaven", "rat", "ogre", "troll"];
  const rarities = ["common", "common", "common", "rare", "epic"];
  // mulberry32: 32-bit integer math only (a float LCG loses precision and cycles early).
  let seed = 42;
  const next = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  for (let i = 0; i < count; i += 1) {
    const subject = `player-${next() % SUBJECTS}`;
    const roll = next() % 100;
    if (roll < 70) yield { type: "kill", subject, tags: { creature: creatures[next() % 4] ?? "rat" } };
    else if (roll < 90) yield { type: "loot", subject, tags: { rarity: rarities[next() % 5] ?? "common" } };
    else if (roll < 95) yield { type: "play", subject };
    else if (roll < 99) yield { type: "quest", subject };
    else yield { type: "login", subject };
  }
}

async function deleteByPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 5000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== "0");
}

async function engineRun(url: string): Promise<{ events: number; seconds: number; flushes: number; subjectApplies: number; awards: number }> {
  const client = new Redis(url);
  const prefix = "bench";
  const backend = createRedisBackend({ redis: client, prefix, subjectsPerCall: SUBJECTS_PER_CALL });
  const progression = createProgression({ definitions: definitions(), backend, onMissingTranslations: () => undefined });
  let awards = 0;
  progression.events.on("milestone.reached", "bench-counter", () => {
    awards += 1;
  });
  const buffer = progression.createBuffer();
  const inFlight = new Set<Promise<void>>();
  let flushes = 0;
  let subjectApplies = 0;
  const flush = async (batch: PendingBatch): Promise<void> => {
    const outcomes = await progression.applyBatch(batch);
    flushes += 1;
    subjectApplies += outcomes.length;
  };
  const started = performance.now();
  let added = 0;
  for (const event of events(EVENTS)) {
    buffer.add(event);
    added += 1;
    if (buffer.pendingEvents >= BATCH_EVENTS) {
      const task = flush(buffer.drain()).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
  }
  if (buffer.pendingEvents > 0) inFlight.add(flush(buffer.drain()));
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  redisBusy = await scriptBusySeconds(client);
  await progression.close();
  await deleteByPrefix(client, prefix);
  client.disconnect();
  return { events: added, seconds, flushes, subjectApplies, awards };
}

/** Seconds Redis spent executing scripts (INFO commandstats), to split the time between Node and Redis. */
async function scriptBusySeconds(client: Redis): Promise<number> {
  const stats = await client.info("commandstats");
  let usec = 0;
  for (const match of stats.matchAll(/cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/g)) usec += Number(match[1]);
  return usec / 1e6;
}
let redisBusy = 0;

async function hincrbyReference(url: string): Promise<{ ops: number; seconds: number }> {
  const client = new Redis(url);
  const PIPELINE = 10_000;
  const started = performance.now();
  for (let done = 0; done < HINCRBY_OPS; done += PIPELINE) {
    const pipeline = client.pipeline();
    for (let i = 0; i < PIPELINE; i += 1) pipeline.hincrby(`ref:{player-${(done + i) % SUBJECTS}}`, `c${i % 14}`, 1);
    await pipeline.exec();
  }
  const seconds = (performance.now() - started) / 1000;
  await deleteByPrefix(client, "ref");
  client.disconnect();
  return { ops: HINCRBY_OPS, seconds };
}

async function memoryPerSubject(url: string): Promise<number> {
  const client = new Redis(url);
  const prefix = "progression";
  const backend = createRedisBackend({ redis: client, prefix, useServerTime: false });
  const { plan, counterIds } = subjectMemoryPlan();
  const subject = "player-123456";
  const t0 = Date.UTC(2026, 0, 1, 12);
  for (let batch = 0; batch < 16; batch += 1) {
    const at = t0 + batch * 86_400_000;
    await backend.apply({
      batchId: `flush-${batch}-0123456789abcdef`,
      now: at,
      plan,
      subjects: [{ subject, catchUp: false, increments: counterIds.map((counter) => ({ counter, amount: 3, at })) }],
    });
  }
  const state = await backend.readState(subject);
  if (state.counters.size !== 20 || state.awards.size !== 10) throw new Error(`memory subject has ${state.counters.size} counters, ${state.awards.size} awards`);
  const bytes = await subjectMemoryUsage(client, createRedisKeys(prefix), subject);
  await deleteByPrefix(client, prefix);
  client.disconnect();
  return bytes;
}

const server = await startRedisServer({ useEnv: false });
try {
  const redisVersion = ((await new Redis(server.url).info("server")).match(/redis_version:(\S+)/) ?? [])[1];
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, redis ${redisVersion} (private, ${server.url})`);
  console.log(`config: ${EVENTS} events, ${SUBJECTS} subjects, 50 milestones, ${BATCH_EVENTS} events per flush, ${IN_FLIGHT} flushes in flight, ${SUBJECTS_PER_CALL} subjects per script call`);
  const reference = await hincrbyReference(server.url);
  const referenceRate = reference.ops / reference.seconds;
  console.log(`raw pipelined HINCRBY: ${Math.round(referenceRate).toLocaleString("en")} ops/s`);
  const run = await engineRun(server.url);
  const rate = run.events / run.seconds;
  console.log(
    `engine batch path -> Redis Lua: ${Math.round(rate).toLocaleString("en")} events/s (${run.events} events in ${run.seconds.toFixed(2)} s, ${run.flushes} flushes, ${run.subjectApplies} subject applies, ${run.awards} awards)`,
  );
  console.log(`ratio to raw HINCRBY: ${(rate / referenceRate).toFixed(2)}`);
  console.log(`time split: Redis executing scripts ${redisBusy.toFixed(2)} s of ${run.seconds.toFixed(2)} s wall (${Math.round((100 * redisBusy) / run.seconds)}%); the rest is Node (buffer, packing, engine) and I/O`);
  console.log(`redis memory per subject (20 counters, 10 awards): ${await memoryPerSubject(server.url)} bytes`);
} finally {
  await server.stop();
}
process.exit(0);
