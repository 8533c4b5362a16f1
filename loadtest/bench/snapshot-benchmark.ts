/**
 * `npm run bench:snapshot`: persists 100,000 dirty subjects to PostgreSQL through the COPY snapshot
 * writer (one transaction), first into empty tables, then again as an update of every row (the
 * steady state: every subject already has a snapshot); then writes a sample of the same data row by
 * row (one INSERT ... ON CONFLICT per row, one transaction) and extrapolates it to 100,000 as the
 * reference. Prints seconds and rows/s. Uses a throwaway database on DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/test), dropped at the end.
 *
 *   SUBJECTS=100000 ROW_SAMPLE=2000 npm run bench:snapshot
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import pg from "pg";
import { createPostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { createSnapshotWriter } from "../../src/durability/postgres/snapshot-writer.ts";
import { runMigrations } from "../../src/durability/postgres/run-migrations.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import { snapshotDirtySubjects } from "../../src/durability/jobs/snapshot-dirty-subjects.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { Redis } from "ioredis";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";
import type { CounterState } from "../../src/model/counter-state.ts";
import type { HoldRecord } from "../../src/model/hold.ts";

const SUBJECTS = Number(process.env.SUBJECTS ?? 100_000);
const ROW_SAMPLE = Number(process.env.ROW_SAMPLE ?? 2_000);
const baseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY);

/**
 * A typical active player: 4 counters (one a 3-day window), 2 awards, 2 items, a hold for 1 in 10.
 * `session` > 0 is the same player after that many play sessions: the kill counter, today's window
 * bucket and the gem balance moved; everything else is as before (what a dirty subject usually is).
 */
function snapshotOf(index: number, session: number): SubjectSnapshot {
  const subject = `player-${index}`;
  const at = today * DAY + index;
  const counters = new Map<string, CounterState>([
    ["c_kill", { kind: "sum", value: 100 + (index % 50) + session, at: at + session }],
    ["c_loot", { kind: "sum", value: 20 + (index % 7), at }],
    ["c_login", { kind: "days", value: 5, lastDay: today, at }],
    ["c_week", { kind: "window", buckets: new Map([[today - 2, 3], [today - 1, 4], [today, 1 + session]]), at: at + session }],
  ]);
  const awards = new Map([
    ["slayer_10", { code: "slayer_10", earnedAt: at - 5000, retroactive: false, claimedAt: null }],
    ["looter_5", { code: "looter_5", earnedAt: at - 9000, retroactive: index % 3 === 0, claimedAt: null }],
  ]);
  const balances = [
    { subject, item: "gem", free: 10 + session, held: index % 10 === 0 ? 2 : 0 },
    { subject, item: "gold", free: 500 + (index % 100), held: 0 },
  ];
  const holds: HoldRecord[] =
    index % 10 === 0
      ? [{ holdId: `h${(index + 1).toString(16).padStart(16, "0")}:${subject}`, subject, item: "gem", quantity: 2, createdAt: at, expiresAt: at + 60_000, state: "held", settledAt: null }]
      : [];
  return { subject, counters, awards, balances, holds };
}

function rowsOf(snapshots: readonly SubjectSnapshot[]): number {
  let rows = 0;
  for (const s of snapshots) {
    rows += 1 + s.counters.size + s.awards.size + s.balances.length + s.holds.length;
    for (const c of s.counters.values()) if (c.kind === "window") rows += c.buckets.size;
  }
  return rows;
}

/**
 * The reference: the same data, one INSERT ... ON CONFLICT per row, in a classic normalized layout
 * (one row per counter and per window day), which is what a row-by-row writer would do.
 */
const ROW_BY_ROW_TABLES = `
  CREATE TABLE bench_rows.subjects (subject text PRIMARY KEY, snapshot_at bigint NOT NULL);
  CREATE TABLE bench_rows.counters (subject text, counter text, kind text, value bigint, at bigint, last_day int,
    PRIMARY KEY (subject, counter));
  CREATE TABLE bench_rows.window_buckets (subject text, counter text, day int, amount bigint, PRIMARY KEY (subject, counter, day));
  CREATE TABLE bench_rows.awards (subject text, code text, earned_at bigint, retroactive boolean, claimed_at bigint,
    PRIMARY KEY (subject, code));
  CREATE TABLE bench_rows.balances (subject text, item text, free bigint, held bigint, PRIMARY KEY (subject, item));
  CREATE TABLE bench_rows.holds (hold_id text PRIMARY KEY, subject text, item text, quantity bigint, created_at bigint, expires_at bigint);`;

async function writeRowByRow(client: pg.Client, snapshots: readonly SubjectSnapshot[], takenAt: number): Promise<void> {
  const s = "bench_rows";
  await client.query("BEGIN");
  for (const snap of snapshots) {
    await client.query(
      `INSERT INTO ${s}.subjects AS x (subject, snapshot_at) VALUES ($1, $2)
       ON CONFLICT (subject) DO UPDATE SET snapshot_at = EXCLUDED.snapshot_at WHERE x.snapshot_at <= EXCLUDED.snapshot_at`,
      [snap.subject, takenAt],
    );
    for (const [counter, c] of snap.counters) {
      const value = c.kind === "sum" || c.kind === "days" ? c.value : 0;
      const at = c.kind === "gap" ? c.last : c.at;
      await client.query(
        `INSERT INTO ${s}.counters AS c (subject, counter, kind, value, at, last_day) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (subject, counter) DO UPDATE SET value = GREATEST(c.value, EXCLUDED.value), at = GREATEST(c.at, EXCLUDED.at),
           last_day = GREATEST(c.last_day, EXCLUDED.last_day)`,
        [snap.subject, counter, c.kind, value, at, c.kind === "days" ? c.lastDay : null],
      );
      if (c.kind === "window") {
        for (const [day, amount] of c.buckets) {
          await client.query(
            `INSERT INTO ${s}.window_buckets AS b VALUES ($1, $2, $3, $4)
             ON CONFLICT (subject, counter, day) DO UPDATE SET amount = GREATEST(b.amount, EXCLUDED.amount)`,
            [snap.subject, counter, day, amount],
          );
        }
      }
    }
    for (const a of snap.awards.values()) {
      await client.query(
        `INSERT INTO ${s}.awards AS a VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (subject, code) DO UPDATE SET claimed_at = COALESCE(a.claimed_at, EXCLUDED.claimed_at)`,
        [snap.subject, a.code, a.earnedAt, a.retroactive, a.claimedAt],
      );
    }
    await client.query(`DELETE FROM ${s}.balances WHERE subject = $1`, [snap.subject]);
    for (const b of snap.balances) {
      await client.query(`INSERT INTO ${s}.balances VALUES ($1, $2, $3, $4)`, [snap.subject, b.item, b.free, b.held]);
    }
    await client.query(`DELETE FROM ${s}.holds WHERE subject = $1`, [snap.subject]);
    for (const h of snap.holds) {
      await client.query(`INSERT INTO ${s}.holds VALUES ($1, $2, $3, $4, $5, $6)`, [h.holdId, snap.subject, h.item, h.quantity, h.createdAt, h.expiresAt]);
    }
  }
  await client.query("COMMIT");
}

/**
 * The production path: subjects made dirty through the engine in the Redis backend, then one pass of
 * the snapshot job (take dirty -> export from Redis -> write, 5,000 subjects per transaction).
 * Uses REDIS_URL (default redis://127.0.0.1:6379) under a random key prefix, deleted afterwards.
 */
async function measureJobPath(pool: pg.Pool): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
  const prefix = `bench-snapshot-${randomBytes(4).toString("hex")}`;
  // The benchmark measures the snapshot path, whatever that Redis's persistence (the machine's has none).
  const backend = createRedisBackend({ redis, prefix, allowVolatileRedis: true });
  const progression = createProgression({
    definitions: [
      { code: "slayer_10", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 10 } },
      { code: "week_5", title: "t", description: "d", icon: "i", trigger: "loot", rule: { type: "window", count: 5, days: 7 } },
      { code: "regular", title: "t", description: "d", icon: "i", trigger: "login", rule: { type: "daily", days: 3 } },
    ],
    backend,
    onMissingTranslations: () => {},
  });
  try {
    const subjects = Array.from({ length: SUBJECTS }, (_, i) => `player-${i}`);
    for (let start = 0; start < subjects.length; start += 10_000) {
      const slice = subjects.slice(start, start + 10_000);
      await progression.recordBatch(slice.flatMap((subject) => [
        { type: "kill", subject, amount: 12 },
        { type: "loot", subject, amount: 2 },
        { type: "login", subject },
      ]));
    }
    const dirty = await backend.dirtyCount();
    const writer = createSnapshotWriter({ pool, schema: "bench_job" });
    await runMigrations(pool, "bench_job");
    const started = performance.now();
    const pass = await snapshotDirtySubjects(backend, writer, { chunkSize: 5000, maxSubjects: Number.POSITIVE_INFINITY, clock: Date.now });
    const seconds = (performance.now() - started) / 1000;
    console.log(`job path (Redis backend export + writer, 5,000 per transaction): ${pass.written.toLocaleString("en")} of ${dirty.toLocaleString("en")} dirty subjects ` +
      `(3 counters, 1 award each) in ${seconds.toFixed(2)} s, ${Math.round(pass.written / seconds).toLocaleString("en")} subjects/s`);
  } finally {
    await progression.close();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const name = `progression_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  // One connection: the writer's; its backend's CPU time is read from /proc (the machine is shared,
  // so CPU seconds are reported next to wall-clock seconds).
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  pool.on("error", () => undefined); // DROP DATABASE ... WITH (FORCE) at the end ends its connection
  try {
    const copyStore = createPostgresStore({ pool, schema: "bench_copy" });
    await pool.query(`CREATE SCHEMA bench_rows; ${ROW_BY_ROW_TABLES}`);
    const phases = new Map<string, number>();
    const writer = createSnapshotWriter({ pool, schema: "bench_copy", onPhase: (name, ms) => phases.set(name, ms) });
    await copyStore.migrate();

    const first = Array.from({ length: SUBJECTS }, (_, i) => snapshotOf(i, 0));
    const rows = rowsOf(first);
    console.log(`snapshot benchmark: ${SUBJECTS.toLocaleString("en")} subjects = ${rows.toLocaleString("en")} rows in a one-row-per-value layout ` +
      `(4 counters incl. a 3-bucket window, 2 awards, 2 balances, a hold for 1 in 10), node ${process.version}, ${cpus().length} cores`);

    const backendPid = (await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid ?? 0;
    const cpuSeconds = (): { node: number; postgres: number } => {
      const fields = readFileSync(`/proc/${backendPid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
      const own = process.cpuUsage();
      return { node: (own.user + own.system) / 1e6, postgres: ticks / 100 };
    };
    const timed = async (label: string, snapshots: readonly SubjectSnapshot[], takenAt: number): Promise<number> => {
      const started = performance.now();
      const cpuStarted = cpuSeconds();
      await writer.write(snapshots, takenAt);
      const seconds = (performance.now() - started) / 1000;
      const cpuEnded = cpuSeconds();
      const node = cpuEnded.node - cpuStarted.node;
      const postgres = cpuEnded.postgres - cpuStarted.postgres;
      console.log(`${"".padEnd(52)} CPU ${(node + postgres).toFixed(2)} s = node ${node.toFixed(2)} + PostgreSQL backend ${postgres.toFixed(2)}`);
      console.log(`${label.padEnd(52)} ${seconds.toFixed(2)} s  ${Math.round(SUBJECTS / seconds).toLocaleString("en")} subjects/s  ${Math.round(rows / seconds).toLocaleString("en")} rows/s (one-row-per-value equivalent)`);
      console.log(`   ${[...phases].map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)}`).join(", ")}`);
      return seconds;
    };
    const coldS = await timed("COPY, first snapshot (every row new):", first, Date.now());
    const steadyS = await timed("COPY, after a session (3 rows/subject changed):", Array.from({ length: SUBJECTS }, (_, i) => snapshotOf(i, 1)), Date.now() + 1);
    const replayS = await timed("COPY, replay of that snapshot (nothing changed):", Array.from({ length: SUBJECTS }, (_, i) => snapshotOf(i, 1)), Date.now() + 2);

    const sample = first.slice(0, Math.min(ROW_SAMPLE, SUBJECTS));
    const sampleRows = rowsOf(sample);
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    let started = performance.now();
    try {
      started = performance.now();
      await writeRowByRow(client, sample, Date.now());
    } finally {
      await client.end();
    }
    const sampleS = (performance.now() - started) / 1000;
    const extrapolatedS = (sampleS * SUBJECTS) / sample.length;
    console.log(`row by row (one INSERT per row), ${sample.length.toLocaleString("en")}-subject sample: ${sampleS.toFixed(2)} s  ${Math.round(sampleRows / sampleS).toLocaleString("en")} rows/s`);
    console.log(`row by row, extrapolated to ${SUBJECTS.toLocaleString("en")} subjects (sample x ${(SUBJECTS / sample.length).toFixed(0)}): ${extrapolatedS.toFixed(1)} s`);
    console.log(`ratio row-by-row / COPY, first snapshot: ${(extrapolatedS / coldS).toFixed(1)}x`);
    const verdict = (seconds: number): string => (seconds <= 3 ? "met" : "MISSED");
    console.log(`target <= 3 s per 100,000 subjects: first snapshot ${verdict(coldS)}, after a session ${verdict(steadyS)}, replay ${verdict(replayS)}`);
    if (process.env.JOB_PATH !== "0") await measureJobPath(pool);
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (the machine is shared)`);
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
