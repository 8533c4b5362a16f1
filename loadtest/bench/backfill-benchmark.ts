/**
 * Backfill benchmark (`npm run bench:backfill`): SUBJECTS players x DAYS days of event history (three
 * rollups a day: two creatures and a login), then a deploy adds one milestone whose filter no counter
 * had ("kill 40 trolls"), and `progression.backfill()` walks every player: counter replayed from history,
 * the award for those who qualify. Once on the embedded backend and once on Redis (a redis-server this
 * script starts on a free port and stops). Reference in the same run: one pass that only reads every
 * player's history (the walk and the reads, no replay and no writes), and the ratio.
 *
 * Options (env): BENCH_SUBJECTS (default 100,000), BENCH_DAYS (30), BENCH_CHUNK (subjects per page, 1,000),
 * BENCH_BACKENDS ("memory,redis"; "redis-durable" is the durability layout: only today and yesterday in
 * Redis, the older days in the PostgreSQL archive at DATABASE_URL, read per page as the engine does).
 *
 * BENCH_COMMANDSTATS=1 prints Redis' per-command calls and time after each phase.
 *
 * Each phase reports its wall time and, on Redis, the CPU seconds of Node and of redis-server, and in the
 * durable layout of the PostgreSQL server processes of the archive's connections (when the server runs on
 * this machine: read from /proc). The machine may be shared: CPU time is what the phase cost, wall time
 * also counts waiting for a core.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { Redis } from "ioredis";
import pg from "pg";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import type { ProgressionBackend, SubjectApply } from "../../src/backends/contract/progression-backend.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { copyInteger, copyRowsInto, copyText } from "../../src/durability/postgres/copy-text-format.ts";
import { createHistoryPartWriter, createPostgresHistoryArchive } from "../../src/durability/postgres/history-archive.ts";
import { runMigrations } from "../../src/durability/postgres/run-migrations.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { HistoryArchive } from "../../src/history/history-archive.ts";
import type { HistoryEntry } from "../../src/model/history.ts";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";
import { DAY_MS } from "../../src/model/utc-day.ts";
import { createTestDatabase } from "../../test/support/postgres.ts";
import { startRedisServer } from "../../test/support/redis-server.ts";

const SUBJECTS = Number(process.env.BENCH_SUBJECTS ?? 100_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 1_000);
const BACKENDS = (process.env.BENCH_BACKENDS ?? "memory,redis").split(",");
const NOW = Date.UTC(2026, 11, 1, 12);
const TODAY = Math.floor(NOW / DAY_MS);
/** The durability layout: days from this one on stay in Redis (today and yesterday, `historyHotDays` 2). */
const FIRST_HOT_DAY = TODAY - 1;
/** BENCH_COMMANDSTATS=1: Redis' per-command calls and time after each phase. */
const COMMANDSTATS = process.env.BENCH_COMMANDSTATS === "1";

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

/** Where the older days of the durability layout live: a PostgreSQL archive of its own. */
interface Archive {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly reader: HistoryArchive;
}

/**
 * Loads the history straight through `apply` (no increments): what months of play would have written,
 * then folds every player's history log into its hash (play folds every few applies; reading a log of
 * 80 rollups for the first time is not what a backfill meets). With `archive`, only the hot days go
 * to Redis and the older ones are COPYed into the archive under the player's part (as the snapshot job
 * would have exported them, and the backend dropped them).
 */
async function loadHistory(backend: ProgressionBackend, client: Redis | undefined, archive: Archive | undefined): Promise<void> {
  // One real event first: the engine registers the "before" counter set and player-0 is complete for it.
  const progression = createProgression({ definitions: before, backend, clock: () => NOW, holdExpiry: noHoldExpiry, onMissingTranslations: () => undefined });
  await progression.recordBatch([{ type: "login", subject: "player-0", at: NOW - DAY_MS }]);
  const counterSet = (await backend.historyStatus("player-0")).completeFor ?? "";
  const plan = { version: "load", counterSet, counters: new Map() };
  const page = 500;
  const nothing = [{ type: "-", fragments: [] }];
  for (let start = 0; start < SUBJECTS; start += page) {
    const subjects: SubjectApply[] = [];
    for (let i = start; i < Math.min(SUBJECTS, start + page); i += 1) {
      const history = historyOf(i);
      subjects.push({ subject: `player-${i}`, catchUp: false, increments: [], history: archive === undefined ? history : history.filter((row) => row.day >= FIRST_HOT_DAY) });
    }
    await backend.apply({ batchId: `load-${start}`, now: NOW, plan, subjects });
    // A read folds the log (a selector of no type returns next to nothing).
    await backend.readHistories(subjects.map(({ subject }) => subject), nothing);
    if (archive !== undefined && client !== undefined) await archiveOlderDays(archive, client, subjects.map(({ subject }) => subject), start);
  }
  // Statistics, as autovacuum keeps them on a live archive (a freshly COPYed table has none: the planner
  // would scan every row of a partition for each page of players).
  if (archive !== undefined) await archive.pool.query(`ANALYZE "${archive.schema}".history`);
}

async function archiveOlderDays(archive: Archive, client: Redis, subjects: readonly string[], first: number): Promise<void> {
  const keys = createRedisKeys("bench-backfill");
  const parts = await Promise.all(subjects.map((subject) => client.hget(keys.subject(subject).history, "~e")));
  const rows: string[] = [];
  const snapshots: SubjectSnapshot[] = [];
  subjects.forEach((subject, i) => {
    const part = parts[i] ?? "lost";
    const older = historyOf(first + i).filter((row) => row.day < FIRST_HOT_DAY);
    for (const row of older) {
      rows.push(
        [copyText(subject), copyText(row.type), copyText(row.tags), copyInteger(row.day, "day"), copyText(part), copyInteger(row.count, "count"), copyInteger(row.sum, "sum"), copyInteger(row.firstAt, "first_at"), copyInteger(row.lastAt, "last_at"), copyInteger(row.maxAmount, "max_amount")].join("\t"),
      );
    }
    if (i === 0) snapshots.push({ subject, counters: new Map(), awards: new Map(), balances: [], holds: [], history: older.map((row) => ({ ...row, part })) });
  });
  const client2 = await archive.pool.connect();
  try {
    await createHistoryPartWriter({ pool: archive.pool, schema: archive.schema }).preparePartitions(client2, snapshots);
    await copyRowsInto(client2, `"${archive.schema}".history (subject, type, tags, day, part, count, sum, first_at, last_at, max_amount)`, rows);
  } finally {
    client2.release();
  }
}

interface Measured<T> {
  readonly result: T;
  readonly seconds: number;
  readonly nodeCpu: number;
  readonly redisCpu: number | undefined;
  /** The CPU seconds of the archive database's server processes (undefined: none, or not on this machine). */
  readonly postgresCpu: number | undefined;
}

/** Wall time and CPU seconds of one phase: Node's, redis-server's when there is one, PostgreSQL's with an archive. */
async function measured<T>(client: Redis | undefined, phase: () => Promise<T>, archive?: Archive): Promise<Measured<T>> {
  if (COMMANDSTATS && client !== undefined) await client.config("RESETSTAT");
  const redisBefore = client === undefined ? 0 : await redisCpuSeconds(client);
  const postgresBefore = archive === undefined ? undefined : await postgresCpuSeconds(archive.pool);
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const result = await phase();
  const seconds = (performance.now() - started) / 1000;
  const node = process.cpuUsage(nodeBefore);
  const redisCpu = client === undefined ? undefined : (await redisCpuSeconds(client)) - redisBefore;
  const postgresAfter = archive === undefined ? undefined : await postgresCpuSeconds(archive.pool);
  const postgresCpu = postgresBefore === undefined || postgresAfter === undefined ? undefined : postgresAfter - postgresBefore;
  if (COMMANDSTATS && client !== undefined) console.log(await commandStats(client));
  return { result, seconds, nodeCpu: (node.user + node.system) / 1e6, redisCpu, postgresCpu };
}

/**
 * CPU seconds of the server processes connected to the archive's database (its pool keeps them open for
 * the run), read from /proc: undefined when the server is not on this machine (or not Linux).
 */
async function postgresCpuSeconds(pool: pg.Pool): Promise<number | undefined> {
  const { rows } = await pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database()");
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 a second).
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return undefined;
    }
  }
  return ticks / 100;
}

/** INFO commandstats, busiest first (commands called by Lua count too, and within their script's time). */
async function commandStats(client: Redis): Promise<string> {
  const info = await client.info("commandstats");
  const rows = [...info.matchAll(/cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/g)].map(([, name, calls, usec]) => ({ name, calls: Number(calls), usec: Number(usec) }));
  return rows
    .sort((a, b) => b.usec - a.usec)
    .slice(0, 8)
    .map((row) => `    ${row.name}: ${row.calls} calls, ${(row.usec / 1e6).toFixed(2)} s, ${(row.usec / Math.max(1, row.calls)).toFixed(2)} us/call`)
    .join("\n");
}

async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info("cpu");
  const field = (name: string): number => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}

const cpuText = (m: Measured<unknown>): string =>
  `(CPU: Node ${m.nodeCpu.toFixed(2)} s${m.redisCpu === undefined ? "" : `, Redis ${m.redisCpu.toFixed(2)} s`}${m.postgresCpu === undefined ? "" : `, PostgreSQL ${m.postgresCpu.toFixed(2)} s`})`;

async function run(name: string, backend: ProgressionBackend, client?: Redis, archive?: Archive): Promise<void> {
  const load = await measured(client, () => loadHistory(backend, client, archive), archive);

  // Reference: walk every subject and read its history (and its archived days, a page at a time), nothing else.
  const reference = await measured(client, async () => {
    let read = 0;
    let cursor = "0";
    do {
      const pageResult = await backend.historySubjects(cursor, CHUNK);
      const [histories] = await Promise.all([backend.readHistories(pageResult.subjects), archive?.reader.read(pageResult.subjects)]);
      read += histories.length;
      cursor = pageResult.cursor;
    } while (cursor !== "0");
    return read;
  }, archive);

  // What-if first (reads everything, writes nothing), then the backfill itself.
  const current = createProgression({ definitions: before, backend, clock: () => NOW, holdExpiry: noHoldExpiry, onMissingTranslations: () => undefined });
  if (archive !== undefined) current.useHistoryArchive(archive.reader);
  const simulated = await measured(client, () => current.simulate(after), archive);
  const report = simulated.result;
  const troll = report.milestones.find((milestone) => milestone.code === "troll_hunter");

  const progression = createProgression({ definitions: after, backend, clock: () => NOW, onMissingTranslations: () => undefined });
  if (archive !== undefined) progression.useHistoryArchive(archive.reader);
  const backfilled = await measured(client, () => progression.backfill({ chunk: CHUNK }), archive);
  const result = backfilled.result;
  // Players with r trolls a day (i % 3 = r) qualify when r x DAYS >= 40.
  let expected = 0;
  let rollups = 0;
  for (const r of [0, 1, 2]) {
    const players = Math.floor((SUBJECTS - r + 2) / 3);
    if (r > 0 && r * DAYS >= 40) expected += players;
    rollups += players * DAYS * (r > 0 ? 3 : 2);
  }
  const layout = archive === undefined ? "" : ` (days before ${FIRST_HOT_DAY} in the PostgreSQL archive)`;
  console.log(`${name}: history of ${SUBJECTS.toLocaleString("en")} players x ${DAYS} days (${rollups.toLocaleString("en")} rollups)${layout} loaded and folded in ${load.seconds.toFixed(1)} s`);
  console.log(`  reference, walk + read every history: ${reference.result.toLocaleString("en")} players in ${reference.seconds.toFixed(2)} s ${cpuText(reference)}`);
  console.log(
    `  simulate(after): ${report.subjects.toLocaleString("en")} players, "troll_hunter" would award ${troll?.wouldAward.toLocaleString("en")} in ${simulated.seconds.toFixed(2)} s ${cpuText(simulated)}; ratio to the reference ${(simulated.seconds / reference.seconds).toFixed(2)}`,
  );
  console.log(
    `  backfill of "troll_hunter": ${result.visited.toLocaleString("en")} players visited, ${result.seeded.toLocaleString("en")} seeded, ${result.awarded.toLocaleString("en")} awarded (expected ${expected.toLocaleString("en")}) in ${backfilled.seconds.toFixed(2)} s (${Math.round(result.visited / backfilled.seconds).toLocaleString("en")} players/s) ${cpuText(backfilled)}; ratio to the reference ${(backfilled.seconds / reference.seconds).toFixed(2)}`,
  );
  if (result.awarded !== expected || troll?.wouldAward !== expected) throw new Error(`${name}: expected ${expected} awards, simulate said ${troll?.wouldAward}, backfill made ${result.awarded}`);
  await progression.close();
}

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
for (const name of BACKENDS) {
  if (name === "memory") {
    await run("memory", createMemoryBackend());
    continue;
  }
  // No AOF: the figures measure the scripts and the engine, not the disk (and stay comparable across runs).
  const server = await startRedisServer({ useEnv: false, appendOnly: false });
  const client = new Redis(server.url);
  const database = name === "redis-durable" ? await createTestDatabase() : undefined;
  // Connections stay open for the run, so their server processes' CPU time can be read (postgresCpuSeconds).
  const pool = database === undefined ? undefined : new pg.Pool({ connectionString: database.url, max: 4, idleTimeoutMillis: 0 });
  try {
    let archive: Archive | undefined;
    if (pool !== undefined) {
      const schema = `bench_backfill_${randomBytes(4).toString("hex")}`;
      await runMigrations(pool, schema);
      archive = { pool, schema, reader: createPostgresHistoryArchive({ pool, schema }) };
    }
    await run(name, createRedisBackend({ redis: client, prefix: "bench-backfill", useServerTime: false, allowVolatileRedis: true }), client, archive);
  } finally {
    client.disconnect();
    await server.stop();
    await pool?.end();
    await database?.drop();
  }
}
process.exit(0);
