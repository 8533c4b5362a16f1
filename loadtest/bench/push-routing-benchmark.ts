/**
 * Push-routing benchmark (`npm run bench:push-routing`): what crosses processes per gameplay push, with
 * N = 1, 2 and 4 "processes" (N fan-outs in this Node process, each with its own RedisPresence
 * connection) on a redis-server this script starts on a free port (and stops). For each N, in the same
 * run: the single cluster topic PushFanout used before (every push of a turn to every process), the
 * per-subject routing (a subject's pushes only to the processes with its clients), and the same routing
 * on a RedisPresence whose connection auto-pipelines (a turn's publishes in one write).
 *
 * Players are spread over the processes (one client each on its home process); a share of them has a
 * second client on another process; a share of the events are trades with a player homed on another
 * process (a push for each side). Each process records BENCH_EVENTS_PER_TURN events per event-loop turn
 * (one flush, sent before the next round); every client's pushes are counted at the end, so a lost or doubled push fails the run.
 *
 * Options (env): BENCH_EVENTS (gameplay events per run, default 100,000), BENCH_PLAYERS (1,000),
 * BENCH_EVENTS_PER_TURN (per process, 50), BENCH_SHARED (share of players with a second client, 0.1),
 * BENCH_TRADES (share of events that are trades across processes, 0.1), BENCH_PROCESSES ("1,2,4").
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { RedisPresence } from "@colyseus/redis-presence";
import { Redis } from "ioredis";
import { PushFanout, type PushTarget } from "../../plugins/push-fanout.ts";
import type { SubjectPush } from "../../plugins/subject-push.ts";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import type { Progression } from "../../src/engine/progression.ts";
import { countingPresence, type PresenceCounts } from "../../test/support/counting-presence.ts";
import { startRedisServer } from "../../test/support/redis-server.ts";
import { SingleTopicFanout } from "./single-topic-fanout.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PLAYERS = Number(process.env.BENCH_PLAYERS ?? 1_000);
const EVENTS_PER_TURN = Number(process.env.BENCH_EVENTS_PER_TURN ?? 50);
const SHARED = Number(process.env.BENCH_SHARED ?? 0.1);
const TRADES = Number(process.env.BENCH_TRADES ?? 0.1);
const PROCESSES = (process.env.BENCH_PROCESSES ?? "1,2,4").split(",").map(Number);

type Design = "single topic (before)" | "per subject (now)" | "per subject, pipelined";
/** "pipelined": the same routing on a RedisPresence built on an ioredis client with `enableAutoPipelining`. */
const DESIGNS: readonly Design[] = ["single topic (before)", "per subject (now)", "per subject, pipelined"];

interface Fanout {
  attach(subject: string, target: PushTarget): Promise<() => void>;
  publishAll(pushes: readonly SubjectPush[]): void;
  published(): Promise<void>;
  close(): Promise<void>;
}

/** A client that only counts the pushes it gets. */
class CountingTarget implements PushTarget {
  readonly locale = "en";
  received = 0;

  send(): void {
    this.received += 1;
  }
}

interface Result {
  readonly design: Design;
  readonly processes: number;
  readonly pushes: number;
  readonly publishes: number;
  readonly redisPublishes: number;
  readonly received: number;
  readonly publishedBytes: number;
  readonly receivedBytes: number;
  /** Registry reads and writes while pushing (the inbox reads; joins and leaves are counted apart). */
  readonly registryCommands: number;
  readonly joinCommands: number;
  readonly cpuMicros: number;
  readonly redisCpuMicros: number;
  readonly ms: number;
}

/** A deterministic pseudo-random sequence, so both designs see the same players and events. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const progressPush = (subject: string, current: number): SubjectPush => ({
  subject,
  reached: [],
  progress: [{ code: "slayer_100", current, target: 100 }],
  inventory: [],
  holds: [],
  expiredHolds: [],
});

const tradePush = (subject: string, free: number): SubjectPush => ({
  subject,
  reached: [],
  progress: [],
  inventory: [{ subject, item: "gold", free, held: 0 }],
  holds: [],
  expiredHolds: [],
});

async function redisCounters(admin: Redis): Promise<{ publishes: number; cpuMicros: number }> {
  const stats = await admin.info("commandstats");
  const cpu = await admin.info("cpu");
  const publishes = Number(/cmdstat_publish:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  const user = Number(/used_cpu_user:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(cpu)?.[1] ?? 0);
  return { publishes, cpuMicros: (user + sys) * 1e6 };
}

async function run(design: Design, processes: number, url: string, admin: Redis, engines: Progression[]): Promise<Result> {
  const topic = `bench:${randomBytes(4).toString("hex")}`;
  const presences: RedisPresence[] = [];
  const counts: PresenceCounts[] = [];
  const fanouts: Fanout[] = [];
  for (let index = 0; index < processes; index += 1) {
    const { hostname, port } = new URL(url);
    const redis = design === "per subject, pipelined" ? new RedisPresence({ host: hostname, port: Number(port), enableAutoPipelining: true }) : new RedisPresence(url);
    presences.push(redis);
    const counted = countingPresence(redis);
    counts.push(counted.counts);
    const engine = engines[index] as Progression;
    fanouts.push(
      design !== "single topic (before)"
        ? new PushFanout(engine, { presence: () => counted.presence, progressIntervalMs: 0, topic, onError: (report) => console.error(report) })
        : new SingleTopicFanout(engine, counted.presence, topic),
    );
  }
  const next = random(42);
  const home = (player: number): number => player % processes;
  const clients = new Map<string, CountingTarget[]>();
  const attach = async (player: number, process: number): Promise<void> => {
    const target = new CountingTarget();
    const subject = `player-${player}`;
    clients.set(subject, [...(clients.get(subject) ?? []), target]);
    await (fanouts[process] as Fanout).attach(subject, target);
  };
  for (let player = 0; player < PLAYERS; player += 1) {
    await attach(player, home(player));
    if (processes > 1 && next() < SHARED) await attach(player, (home(player) + 1) % processes);
  }
  const joinCommands = counts.reduce((sum, count) => sum + commandsOf(count), 0);
  const before = counts.map((count) => ({ ...count, commands: { ...count.commands } }));
  const redisBefore = await redisCounters(admin);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();

  // Players homed on each process, to pick who plays where.
  const homed = Array.from({ length: processes }, (_, process) => Array.from({ length: PLAYERS }, (_, player) => player).filter((player) => home(player) === process));
  const expected = new Map<string, number>();
  let pushes = 0;
  let events = 0;
  const pushFor = (subject: string, push: SubjectPush, into: SubjectPush[]): void => {
    into.push(push);
    expected.set(subject, (expected.get(subject) ?? 0) + 1);
    pushes += 1;
  };
  while (events < EVENTS) {
    for (let process = 0; process < processes && events < EVENTS; process += 1) {
      const local = homed[process] as number[];
      const turn: SubjectPush[] = [];
      for (let index = 0; index < EVENTS_PER_TURN && events < EVENTS; index += 1, events += 1) {
        const player = local[Math.floor(next() * local.length)] as number;
        const subject = `player-${player}`;
        if (next() < TRADES) {
          // A trade with a player homed on another process (this one when there is only one).
          const elsewhere = homed[(process + 1 + Math.floor(next() * Math.max(1, processes - 1))) % processes] as number[];
          const other = `player-${elsewhere[Math.floor(next() * elsewhere.length)] as number}`;
          pushFor(subject, tradePush(subject, events), turn);
          if (other !== subject) pushFor(other, tradePush(other, events), turn);
        } else {
          pushFor(subject, progressPush(subject, events % 100), turn);
        }
      }
      (fanouts[process] as Fanout).publishAll(turn);
    }
    // One flush per process and round, each sent on its own (no coalescing while Redis is slow): the
    // figures then depend on the players and events only, not on the machine's load.
    await Promise.all(fanouts.map((fanout) => fanout.published()));
  }
  await Promise.all(fanouts.map((fanout) => fanout.published()));
  const want = [...clients].reduce((sum, [subject, targets]) => sum + (expected.get(subject) ?? 0) * targets.length, 0);
  const got = (): number => [...clients.values()].flat().reduce((sum, target) => sum + target.received, 0);
  const deadline = Date.now() + 30_000;
  while (got() < want) {
    if (Date.now() > deadline) throw new Error(`${design}, ${processes} processes: ${got()} of ${want} pushes reached their clients`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await everythingArrived(presences, topic);
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const redisAfter = await redisCounters(admin);
  for (const [subject, targets] of clients) {
    for (const target of targets) {
      if (target.received !== (expected.get(subject) ?? 0)) throw new Error(`${design}, ${processes} processes: ${subject} got ${target.received} pushes, expected ${expected.get(subject) ?? 0}`);
    }
  }
  const sum = (pick: (count: PresenceCounts) => number): number => counts.reduce((total, count, index) => total + pick(count) - pick(before[index] as PresenceCounts), 0);
  const result: Result = {
    design,
    processes,
    pushes,
    publishes: sum((count) => count.publishes),
    redisPublishes: redisAfter.publishes - redisBefore.publishes,
    received: sum((count) => count.received),
    publishedBytes: sum((count) => count.publishedBytes),
    receivedBytes: sum((count) => count.receivedBytes),
    registryCommands: sum(commandsOf),
    joinCommands,
    cpuMicros: cpu.user + cpu.system,
    redisCpuMicros: redisAfter.cpuMicros - redisBefore.cpuMicros,
    ms,
  };
  for (const fanout of fanouts) await fanout.close();
  for (const presence of presences) presence.shutdown();
  return result;
}

/**
 * Resolves once every message published so far reached every process (the copies nobody needed too):
 * each process publishes a marker, and Redis delivers one connection's publishes in order.
 */
async function everythingArrived(presences: readonly RedisPresence[], topic: string): Promise<void> {
  const channel = `${topic}:arrived`;
  let markers = 0;
  let arrived = (): void => {};
  const all = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const onMarker = (): void => {
    markers += 1;
    if (markers === presences.length * presences.length) arrived();
  };
  await Promise.all(presences.map((presence) => presence.subscribe(channel, onMarker)));
  await Promise.all(presences.map((presence) => presence.publish(channel, 1)));
  await all;
  await Promise.all(presences.map((presence) => presence.unsubscribe(channel, onMarker)));
}

/** Registry commands (not publishes, not the subscriptions themselves). */
function commandsOf(count: PresenceCounts): number {
  return Object.entries(count.commands)
    .filter(([name]) => name !== "subscribe" && name !== "unsubscribe")
    .reduce((sum, [, calls]) => sum + calls, 0);
}

function commitHash(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

const fixed = (value: number, digits = 3): string => value.toFixed(digits);

async function main(): Promise<void> {
  const server = await startRedisServer({ useEnv: false, appendOnly: false });
  const admin = new Redis(server.url);
  const engines = Array.from({ length: Math.max(...PROCESSES) }, () => createArenaProgression({ onMissingTranslations: () => {} }));
  console.log(
    `push routing: ${EVENTS} gameplay events, ${PLAYERS} players, ${EVENTS_PER_TURN} events per process and turn, ${SHARED * 100}% of players with a client on a second process, ${TRADES * 100}% trades across processes`,
  );
  console.log(`commit ${commitHash()}, node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((load) => load.toFixed(2)).join(" ")}`);
  const results: Result[] = [];
  try {
    for (const processes of PROCESSES) {
      for (const design of DESIGNS) results.push(await run(design, processes, server.url, admin, engines));
    }
  } finally {
    for (const engine of engines) await engine.close();
    admin.disconnect();
    await server.stop();
  }
  console.log("\nper gameplay push (a trade is two pushes):");
  console.log(
    ["N", "design".padEnd(22), "pushes", "PUBLISH", "(redis)", "received", "bytes out", "bytes in", "registry", "node CPU µs", "redis CPU µs", "joins: registry cmds"].join("\t"),
  );
  for (const result of results) {
    const per = (value: number): string => fixed(value / result.pushes);
    console.log(
      [
        result.processes,
        result.design.padEnd(22),
        result.pushes,
        per(result.publishes),
        per(result.redisPublishes),
        per(result.received),
        fixed(result.publishedBytes / result.pushes, 1),
        fixed(result.receivedBytes / result.pushes, 1),
        per(result.registryCommands),
        fixed(result.cpuMicros / result.pushes, 2),
        fixed(result.redisCpuMicros / result.pushes, 2),
        result.joinCommands,
      ].join("\t"),
    );
  }
  for (const design of DESIGNS) {
    const of = (processes: number): Result | undefined => results.find((result) => result.design === design && result.processes === processes);
    const [two, four] = [of(2), of(4)];
    if (two === undefined || four === undefined) continue;
    const messages = (result: Result): number => result.received / result.pushes;
    const bytes = (result: Result): number => result.receivedBytes / result.pushes;
    console.log(
      `${design}: messages received per push ${fixed(messages(two))} -> ${fixed(messages(four))} from 2 to 4 processes (x${fixed(messages(four) / messages(two), 2)}), bytes ${fixed(bytes(two), 1)} -> ${fixed(bytes(four), 1)} (x${fixed(bytes(four) / bytes(two), 2)})`,
    );
  }
  console.log(`load average after: ${loadavg().map((load) => load.toFixed(2)).join(" ")}`);
}

await main();
