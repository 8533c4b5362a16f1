/**
 * Backfill benchmark (`npm run bench:backfill`): SUBJECTS players x DAYS days of event history (three
 * rollups a day: two creatures and a login), then a deploy adds one milestone whose filter no counter
 * had ("kill 40 trolls"), and `progression.backfill()` walks every player: counter replayed from history,
 * the award for those who qualify. Once on the embedded backend and once on Redis (a redis-server this
 * script starts on a free port and stops). Reference in the same run: one pass that only reads every
 * player's history (the walk and the reads, no replay and no writes), and the ratio.
 *
 * Options (env): BENCH_SUBJECTS (default 100,000), BENCH_DAYS (30), BENCH_CHUNK (subjects per page, 1,000),
 * BENCH_BACKENDS ("memory,redis").
 */
import { cpus, loadavg } from "node:os";
import { Redis } from "ioredis";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { ProgressionBackend, SubjectApply } from "../../src/backends/contract/progression-backend.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { HistoryEntry } from "../../src/model/history.ts";
import { DAY_MS } from "../../src/model/utc-day.ts";
import { startRedisServer } from "../../test/support/redis-server.ts";

const SUBJECTS = Number(process.env.BENCH_SUBJECTS ?? 100_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 1_000);
const BACKENDS = (process.env.BENCH_BACKENDS ?? "memory,redis").split(",");
const NOW = Date.UTC(2026, 11, 1, 12);

/** The engines here place no holds; the loading one is not closed (that would close the backend). */
const noHoldExpiry = { attach: () => {}, holdPlaced: () => {}, close: async () => {} };

const milestone = (code: string, rule: MilestoneDefinitionInput["rule"], trigger = "kill"): MilestoneDefinitionInput => ({
  code,
  title: code,
  description: code,
  icon: `${code}.png`,
  trigger,
  rule,
});
const before = [milestone("kills_100", { type: "count", threshold: 100 }), milestone("regular", { type: "daily", days: 7 }, "login")];
const after = [...before, milestone("troll_hunter", { type: "count", threshold: 40, where: { creature: "troll" } })];

/** Player i kills (i % 3) trolls and 2 goblins a day and logs in: a third never qualifies. */
function historyOf(index: number): HistoryEntry[] {
  const rows: HistoryEntry[] = [];
  const trolls = index % 3;
  for (let d = DAYS; d >= 1; d -= 1) {
    const start = NOW - d * DAY_MS;
    const day = Math.floor(start / DAY_MS);
    if (trolls > 0) rows.push({ type: "kill", tags: '{"creature":"troll"}', day, count: trolls, sum: trolls, firstAt: start + 1000, lastAt: start + 2000, maxAmount: 1 });
    rows.push({ type: "kill", tags: '{"creature":"goblin"}', day, count: 2, sum: 2, firstAt: start + 3000, lastAt: start + 4000, maxAmount: 1 });
    rows.push({ type: "login", tags: "", day, count: 1, sum: 1, firstAt: start, lastAt: start, maxAmount: 1 });
  }
  return rows;
}

/** Loads the history straight through `apply` (no increments): what months of play would have written. */
async function loadHistory(backend: ProgressionBackend): Promise<void> {
  // One real event first: the engine registers the "before" counter set and player-0 is complete for it.
  const progression = createProgression({ definitions: before, backend, clock: () => NOW, holdExpiry: noHoldExpiry, onMissingTranslations: () => undefined });
  await progression.recordBatch([{ type: "login", subject: "player-0", at: NOW - DAY_MS }]);
  const counterSet = (await backend.historyStatus("player-0")).completeFor ?? "";
  const plan = { version: "load", counterSet, counters: new Map() };
  const page = 500;
  for (let start = 0; start < SUBJECTS; start += page) {
    const subjects: SubjectApply[] = [];
    for (let i = start; i < Math.min(SUBJECTS, start + page); i += 1) subjects.push({ subject: `player-${i}`, catchUp: false, increments: [], history: historyOf(i) });
    await backend.apply({ batchId: `load-${start}`, now: NOW, plan, subjects });
  }
}

async function run(name: string, backend: ProgressionBackend): Promise<void> {
  const loadStarted = performance.now();
  await loadHistory(backend);
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  // Reference: walk every subject and read its history, nothing else.
  const readStarted = performance.now();
  let read = 0;
  let cursor = "0";
  do {
    const pageResult = await backend.historySubjects(cursor, CHUNK);
    const histories = await Promise.all(pageResult.subjects.map((subject) => backend.readHistory(subject)));
    read += histories.length;
    cursor = pageResult.cursor;
  } while (cursor !== "0");
  const readSeconds = (performance.now() - readStarted) / 1000;

  // What-if first (reads everything, writes nothing), then the backfill itself.
  const current = createProgression({ definitions: before, backend, clock: () => NOW, holdExpiry: noHoldExpiry, onMissingTranslations: () => undefined });
  const simulateStarted = performance.now();
  const report = await current.simulate(after);
  const simulateSeconds = (performance.now() - simulateStarted) / 1000;
  const simulated = report.milestones.find((milestone) => milestone.code === "troll_hunter");

  const progression = createProgression({ definitions: after, backend, clock: () => NOW, onMissingTranslations: () => undefined });
  const started = performance.now();
  const result = await progression.backfill({ chunk: CHUNK });
  const seconds = (performance.now() - started) / 1000;
  // Players with r trolls a day (i % 3 = r) qualify when r x DAYS >= 40.
  let expected = 0;
  let rollups = 0;
  for (const r of [0, 1, 2]) {
    const players = Math.floor((SUBJECTS - r + 2) / 3);
    if (r > 0 && r * DAYS >= 40) expected += players;
    rollups += players * DAYS * (r > 0 ? 3 : 2);
  }
  console.log(`${name}: history of ${SUBJECTS.toLocaleString("en")} players x ${DAYS} days (${rollups.toLocaleString("en")} rollups) loaded in ${loadSeconds.toFixed(1)} s`);
  console.log(`  reference, walk + read every history: ${read.toLocaleString("en")} players in ${readSeconds.toFixed(2)} s`);
  console.log(
    `  simulate(after): ${report.subjects.toLocaleString("en")} players, "troll_hunter" would award ${simulated?.wouldAward.toLocaleString("en")} in ${simulateSeconds.toFixed(2)} s; ratio to the reference ${(simulateSeconds / readSeconds).toFixed(2)}`,
  );
  console.log(
    `  backfill of "troll_hunter": ${result.visited.toLocaleString("en")} players visited, ${result.seeded.toLocaleString("en")} seeded, ${result.awarded.toLocaleString("en")} awarded (expected ${expected.toLocaleString("en")}) in ${seconds.toFixed(2)} s (${Math.round(result.visited / seconds).toLocaleString("en")} players/s); ratio to the reference ${(seconds / readSeconds).toFixed(2)}`,
  );
  await progression.close();
}

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
for (const name of BACKENDS) {
  if (name === "memory") {
    await run("memory", createMemoryBackend());
  } else {
    // No AOF: the figures measure the scripts and the engine, not the disk (and stay comparable across runs).
    const server = await startRedisServer({ useEnv: false, appendOnly: false });
    const client = new Redis(server.url);
    try {
      await run("redis", createRedisBackend({ redis: client, prefix: "bench-backfill", useServerTime: false, allowVolatileRedis: true }));
    } finally {
      client.disconnect();
      await server.stop();
    }
  }
}
process.exit(0);
