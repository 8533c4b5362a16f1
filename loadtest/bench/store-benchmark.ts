/**
 * Store benchmark (`npm run bench:store`): gameplay events through the engine's batch path
 * (createBuffer -> add -> drain -> applyBatch) into the Redis backend, 10,000 subjects and 50
 * milestones, on a redis-server this script starts on a free port (and stops). In the same run:
 * raw pipelined HINCRBY on the same Redis as the reference, and Redis memory per subject.
 *
 * Options (env): BENCH_EVENTS (default 2,000,000), BENCH_BATCH_EVENTS (events per flush, a comma
 * list, one engine run each; default "50000,500000"),
 * BENCH_IN_FLIGHT (flushes applying at once, 2), BENCH_SUBJECTS_PER_CALL (subjects per script call, 64),
 * BENCH_ENGINE_ONLY=1 (skip the references and the memory probe, e.g. under `node --cpu-prof`),
 * BENCH_ARRIVAL_RATE (events/s the event timestamps simulate, 500,000; 0 = the real clock),
 * BENCH_HISTORY_REFERENCE=0 (skip the run with the event history off that each run is compared with),
 * BENCH_COMMANDSTATS=1 (after each engine run, Redis' per-command calls and time: where the Lua time goes).
 *
 * Event times: by default the engine's clock advances 1/BENCH_ARRIVAL_RATE s per event, as if the
 * events arrived at the target rate. Coalescing (per subject, counter and 1 s slot) then sees the
 * time spread of a real stream at that rate instead of the benchmark's own, slower, pace.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { Redis } from "ioredis";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { GameplayEvent } from "../../src/model/gameplay-event.ts";
import type { PendingBatch } from "../../src/runtime/event-buffer.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { startRedisServer } from "../../test/support/redis-server.ts";
import { subjectMemoryPlan, subjectMemoryUsage } from "../../test/redis/subject-memory.ts";
import { measureRarityCost } from "./rarity-cost.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
/** Events per flush, one engine run each: 100 ms and 1 s of traffic at the simulated 500k events/s. */
const BATCH_SIZES = (process.env.BENCH_BATCH_EVENTS ?? "50000,500000").split(",").map(Number);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 2);
const SUBJECTS_PER_CALL = Number(process.env.BENCH_SUBJECTS_PER_CALL ?? 64);
const ARRIVAL_RATE = Number(process.env.BENCH_ARRIVAL_RATE ?? 500_000);
const SUBJECTS = 10_000;
const HINCRBY_OPS = 2_000_000;
/** BENCH_HISTORY_REFERENCE=0 skips the history-off run measured next to each history-on run. */
const HISTORY_REFERENCE = process.env.BENCH_HISTORY_REFERENCE !== "0" && process.env.BENCH_ENGINE_ONLY !== "1";
const COMMANDSTATS = process.env.BENCH_COMMANDSTATS === "1";

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

async function engineRun(url: string, batchEvents: number, history: boolean): Promise<Measured & { flushes: number; subjectApplies: number; increments: number; awards: number }> {
  const client = new Redis(url);
  const prefix = "bench";
  const backend = createRedisBackend({ redis: client, prefix, subjectsPerCall: SUBJECTS_PER_CALL, allowVolatileRedis: true });
  // Half way through a second: the 1 s coalescing slots then start at the same events in every run (a run
  // otherwise coalesces differently depending on when it started: a 1 s flush that falls inside one slot
  // makes half the increments of one that spans two, which this offset makes every flush of 1 s do).
  const epoch = Math.ceil(Date.now() / 1000) * 1000 + 500;
  let simulatedEvents = 0;
  const clock = ARRIVAL_RATE > 0 ? (): number => epoch + Math.floor((simulatedEvents * 1000) / ARRIVAL_RATE) : Date.now;
  const progression = createProgression({ definitions: definitions(), backend, clock, history, onMissingTranslations: () => undefined });
  let awards = 0;
  progression.events.on("milestone.reached", "bench-counter", () => {
    awards += 1;
  });
  const buffer = progression.createBuffer();
  const inFlight = new Set<Promise<void>>();
  let flushes = 0;
  let subjectApplies = 0;
  let increments = 0;
  const flush = async (batch: PendingBatch): Promise<void> => {
    for (const subject of batch.subjects) increments += subject.increments.length;
    const outcomes = await progression.applyBatch(batch);
    flushes += 1;
    subjectApplies += outcomes.length;
  };
  if (COMMANDSTATS) await client.config("RESETSTAT");
  const redisCpuBefore = await redisCpuSeconds(client);
  const nodeCpuBefore = nodeCpuSeconds();
  const started = performance.now();
  let added = 0;
  for (const event of events(EVENTS)) {
    buffer.add(event);
    added += 1;
    simulatedEvents = added;
    if (buffer.pendingEvents >= batchEvents) {
      const task = flush(buffer.drain()).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
  }
  if (buffer.pendingEvents > 0) inFlight.add(flush(buffer.drain()));
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  const nodeCpu = nodeCpuSeconds() - nodeCpuBefore;
  const redisCpu = (await redisCpuSeconds(client)) - redisCpuBefore;
  if (COMMANDSTATS) console.log(`  commands, history ${history ? "on" : "off"}, ${batchEvents} events per flush:\n${await commandStats(client, added)}`);
  await progression.close();
  await deleteByPrefix(client, prefix);
  client.disconnect();
  return { count: added, seconds, redisCpu, nodeCpu, flushes, subjectApplies, increments, awards };
}

/**
 * CPU seconds the redis-server process has used (INFO cpu). CPU time, unlike wall time, does not
 * count the time the process waited for a core: the machine is shared, so this is the honest cost.
 */
async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info("cpu");
  const field = (name: string): number => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}
/** INFO commandstats, busiest first: calls and microseconds per event (commands called by Lua count too). */
async function commandStats(client: Redis, events: number): Promise<string> {
  const info = await client.info("commandstats");
  const rows = [...info.matchAll(/cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/g)].map(([, name, calls, usec]) => ({ name, calls: Number(calls), usec: Number(usec) }));
  return rows
    .sort((a, b) => b.usec - a.usec)
    .slice(0, 14)
    .map((row) => `    ${row.name}: ${row.calls} calls (${(row.calls / events).toFixed(3)}/event), ${(row.usec / events).toFixed(3)} us/event, ${(row.usec / Math.max(1, row.calls)).toFixed(2)} us/call`)
    .join("\n");
}
const nodeCpuSeconds = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

interface Measured {
  readonly count: number;
  readonly seconds: number;
  readonly redisCpu: number;
  readonly nodeCpu: number;
}

async function hincrbyReference(url: string): Promise<Measured> {
  const client = new Redis(url);
  const PIPELINE = 10_000;
  const redisCpuBefore = await redisCpuSeconds(client);
  const nodeCpuBefore = nodeCpuSeconds();
  const started = performance.now();
  for (let done = 0; done < HINCRBY_OPS; done += PIPELINE) {
    const pipeline = client.pipeline();
    for (let i = 0; i < PIPELINE; i += 1) pipeline.hincrby(`ref:{player-${(done + i) % SUBJECTS}}`, `c${i % 14}`, 1);
    await pipeline.exec();
  }
  const seconds = (performance.now() - started) / 1000;
  const nodeCpu = nodeCpuSeconds() - nodeCpuBefore;
  const redisCpu = (await redisCpuSeconds(client)) - redisCpuBefore;
  await deleteByPrefix(client, "ref");
  client.disconnect();
  return { count: HINCRBY_OPS, seconds, redisCpu, nodeCpu };
}

/** redis-benchmark's pipelined HINCRBY (C client, 2 connections, 64 deep): what Redis itself can do. */
async function redisBenchmarkReference(url: string): Promise<Measured | null> {
  const { port } = new URL(url);
  const client = new Redis(url);
  const redisCpuBefore = await redisCpuSeconds(client);
  const started = performance.now();
  const result = spawnSync("redis-benchmark", ["-p", port, "-c", "2", "-P", "64", "-n", String(HINCRBY_OPS), "-r", String(SUBJECTS), "-q", "HINCRBY", "rb:{player-__rand_int__}", "c", "1"], { encoding: "utf8" });
  const seconds = (performance.now() - started) / 1000;
  const redisCpu = (await redisCpuSeconds(client)) - redisCpuBefore;
  await deleteByPrefix(client, "rb");
  client.disconnect();
  if (result.status !== 0) return null;
  return { count: HINCRBY_OPS, seconds, redisCpu, nodeCpu: 0 };
}

async function memoryPerSubject(url: string): Promise<number> {
  const client = new Redis(url);
  const prefix = "progression";
  const backend = createRedisBackend({ redis: client, prefix, useServerTime: false, allowVolatileRedis: true });
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

// No AOF: the figures measure the scripts and the engine, not the disk (and stay comparable across runs).
const server = await startRedisServer({ useEnv: false, appendOnly: false });
try {
  const redisVersion = ((await new Redis(server.url).info("server")).match(/redis_version:(\S+)/) ?? [])[1];
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, redis ${redisVersion} (private, ${server.url})`);
  console.log(
    `config: ${EVENTS} events, ${SUBJECTS} subjects, 50 milestones, ${IN_FLIGHT} flushes in flight, ${SUBJECTS_PER_CALL} subjects per script call, event times ${ARRIVAL_RATE > 0 ? `simulating ${ARRIVAL_RATE} events/s` : "from the real clock"}`,
  );
  const perSecond = (m: Measured): string => Math.round(m.count / m.seconds).toLocaleString("en");
  const micros = (seconds: number, count: number): string => ((seconds * 1e6) / count).toFixed(2);
  const engineOnly = process.env.BENCH_ENGINE_ONLY === "1";
  const reference = engineOnly ? { count: 1, seconds: 1, redisCpu: 0, nodeCpu: 0 } : await hincrbyReference(server.url);
  if (!engineOnly) {
    console.log(
      `raw pipelined HINCRBY via ioredis: ${perSecond(reference)} ops/s wall; Redis CPU ${micros(reference.redisCpu, reference.count)} us/op, Node CPU ${micros(reference.nodeCpu, reference.count)} us/op`,
    );
  }
  const native = engineOnly ? null : await redisBenchmarkReference(server.url);
  if (native) console.log(`raw pipelined HINCRBY via redis-benchmark: ${perSecond(native)} ops/s wall; Redis CPU ${micros(native.redisCpu, native.count)} us/op`);
  const best = native ?? reference;
  for (const batchEvents of BATCH_SIZES) {
    // History off first, as the reference of the history's cost, then on (the default).
    const withoutHistory = HISTORY_REFERENCE ? await engineRun(server.url, batchEvents, false) : null;
    const run = await engineRun(server.url, batchEvents, true);
    if (withoutHistory !== null) {
      console.log(
        `engine batch path, history off, ${batchEvents} events per flush: ${perSecond(withoutHistory)} events/s wall; Redis CPU ${micros(withoutHistory.redisCpu, withoutHistory.count)} us/event, Node CPU ${micros(withoutHistory.nodeCpu, withoutHistory.count)} us/event`,
      );
    }
    console.log(
      `engine batch path -> Redis Lua (history on), ${batchEvents} events per flush: ${perSecond(run)} events/s wall (${run.count} events in ${run.seconds.toFixed(2)} s; ${run.flushes} flushes, ${run.subjectApplies} subject applies, ${run.increments} increments, ${run.awards} awards)`,
    );
    if (withoutHistory !== null) {
      const ratio = run.count / run.seconds / (withoutHistory.count / withoutHistory.seconds);
      const cpuRatio = Math.max(run.redisCpu, run.nodeCpu) / Math.max(withoutHistory.redisCpu, withoutHistory.nodeCpu);
      console.log(`  history on / off, wall events/s: ${ratio.toFixed(3)} (cost ${((1 - ratio) * 100).toFixed(1)}%); busier-core CPU per event: ${cpuRatio.toFixed(3)}`);
    }
    console.log(`  Redis CPU ${micros(run.redisCpu, run.count)} us/event (${micros(run.redisCpu, run.increments)} us/increment), Node CPU ${micros(run.nodeCpu, run.count)} us/event`);
    if (!engineOnly) console.log(`  ratio to raw HINCRBY (${native ? "redis-benchmark" : "ioredis"}), wall: ${(run.count / run.seconds / (best.count / best.seconds)).toFixed(3)}`);
    // With one core each for Node and Redis (the 2-core target), throughput is bounded by the busier one.
    const bound = run.count / Math.max(run.redisCpu, run.nodeCpu);
    console.log(`  CPU-bound estimate on 2 dedicated cores (events / max(Redis CPU, Node CPU)): ${Math.round(bound).toLocaleString("en")} events/s`);
  }
  if (!engineOnly) console.log(`redis memory per subject (20 counters, 10 awards): ${await memoryPerSubject(server.url)} bytes`);
  if (!engineOnly) {
    const probe = new Redis(server.url);
    const rarity = await measureRarityCost(probe, redisCpuSeconds);
    probe.disconnect();
    const hincrby = (reference.redisCpu * 1e6) / reference.count;
    console.log(
      `rarity (Redis CPU): ${rarity.perAwardUs.toFixed(2)} us per award counted (${(rarity.perAwardUs / hincrby).toFixed(1)}x a raw HINCRBY's ${hincrby.toFixed(2)} us); ` +
        `${rarity.perActiveUpdateUs.toFixed(2)} us per active-player update (a player's first apply of a day, ${rarity.awardsPerSubject} awards held), ` +
        `${rarity.perSameDayCheckUs.toFixed(2)} us for each later apply that day`,
    );
  }
} finally {
  await server.stop();
}
process.exit(0);
