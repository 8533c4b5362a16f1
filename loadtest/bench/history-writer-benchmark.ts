/**
 * `npm run bench:history`: writes the history rollups of SUBJECTS subjects x DAYS days x ROLLUPS rollups
 * per day (each standing for EVENTS events) through the real snapshot writer (COPY into a temporary table
 * + one GREATEST/LEAST merge into the partitioned `history` table, SNAPSHOT_CHUNK subjects per
 * transaction, as the snapshot job does), three times:
 *   1. first write (every row new),
 *   2. the same snapshots again (a replay: nothing may change),
 *   3. every rollup grown by EVENTS more events (the steady state of the hot days);
 * on the table as the migrations leave it, then the same three rounds on the layout before migration 007
 * (fill factor 100, the database's collation for the key: every rewrite moves the row to another page and
 * adds an index entry); and, as the reference measured in the same run, a plain COPY of the same rows into
 * an UNLOGGED table without key or merge (the fastest way PostgreSQL takes these rows). Prints rows/s,
 * events/s (events = the sum of the written counts) and the writer/reference ratio. Works in throwaway
 * schemas on DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), dropped at the end.
 * Target: the writer keeps up with >= 500,000 new events/s of rollups in the steady state.
 *
 *   SUBJECTS=10000 DAYS=7 ROLLUPS=8 EVENTS=10 npm run bench:history
 */
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import pg from "pg";
import { copyInteger, copyRowsInto, copyText } from "../../src/durability/postgres/copy-text-format.ts";
import { runMigrations } from "../../src/durability/postgres/run-migrations.ts";
import { HISTORY_PARTITION_DAYS, partitionStart } from "../../src/durability/postgres/history-archive.ts";
import { createSnapshotWriter } from "../../src/durability/postgres/snapshot-writer.ts";
import type { HistoryPart } from "../../src/model/history.ts";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";
import { DAY_MS, dayOf } from "../../src/model/utc-day.ts";

const SUBJECTS = positive("SUBJECTS", 10_000);
const DAYS = positive("DAYS", 7);
const ROLLUPS = positive("ROLLUPS", 8);
const EVENTS = positive("EVENTS", 10);
const CHUNK = positive("SNAPSHOT_CHUNK", 5_000);
const TARGET_EVENTS_PER_SECOND = 500_000;
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${process.env[name]}`);
  return value;
}

const TYPES = ["kill", "loot", "craft", "quest"];
const today = dayOf(Date.now());

/** One subject's rollups; `round` 1, 2, ... is the same part after that many more batches of events. */
function snapshotOf(index: number, round: number): SubjectSnapshot {
  const subject = `player-${index.toString().padStart(7, "0")}`;
  const history: HistoryPart[] = [];
  for (let d = 0; d < DAYS; d += 1) {
    const day = today - d;
    for (let r = 0; r < ROLLUPS; r += 1) {
      const count = EVENTS * round;
      history.push({
        part: "a1b2c3d4",
        type: TYPES[r % TYPES.length] as string,
        tags: r < TYPES.length ? "" : `{"creature":"c${r}"}`,
        day,
        count,
        sum: count * (1 + (r % 3)),
        firstAt: day * DAY_MS + 1_000 + r,
        lastAt: day * DAY_MS + 1_000 + r + round * 60_000,
        maxAmount: 1 + (r % 3),
      });
    }
  }
  return { subject, counters: new Map(), awards: new Map(), balances: [], holds: [], history, historyCompleteFor: "set-1" };
}

interface Measured {
  readonly seconds: number;
  readonly rows: number;
  /** The sum of the written counts. */
  readonly events: number;
  /** Events the write added to the archive (a replay adds none, a grown round only its growth). */
  readonly newEvents?: number;
}

function eventsOf(snapshots: readonly SubjectSnapshot[]): number {
  let events = 0;
  for (const snapshot of snapshots) for (const part of snapshot.history ?? []) events += part.count;
  return events;
}

function report(label: string, measured: Measured, reference?: Measured): void {
  const rowsPerSecond = measured.rows / measured.seconds;
  const eventsPerSecond = measured.events / measured.seconds;
  const ratio = reference === undefined ? "" : `, ${(measured.seconds / reference.seconds).toFixed(2)}x the reference's time`;
  const added = measured.newEvents === undefined ? undefined : measured.newEvents / measured.seconds;
  const target =
    added === undefined || added === 0
      ? ""
      : `; ${Math.round(added).toLocaleString("en")} new events/s ${added >= TARGET_EVENTS_PER_SECOND ? "[meets" : "[BELOW"} 500k new events/s]`;
  console.log(
    `  ${label.padEnd(44)} ${measured.seconds.toFixed(2).padStart(6)} s  ${Math.round(rowsPerSecond).toLocaleString("en").padStart(10)} rows/s  ` +
      `${Math.round(eventsPerSecond).toLocaleString("en").padStart(12)} events/s${ratio}${target}`,
  );
}

/** The table as the migrations leave it, or as it was before migration 007 (rebuilt here for the comparison). */
type Layout = "current" | "before 007";

interface LayoutResult {
  readonly first: Measured;
  readonly replay: Measured;
  readonly grown: Measured;
  /** Seconds of history COPY + merge in the first and the grown round. */
  readonly firstMerge: number;
  readonly grownMerge: number;
}

async function measureLayout(pool: pg.Pool, layout: Layout): Promise<LayoutResult> {
  const schema = `bench_history_${randomBytes(4).toString("hex")}`;
  const phases = new Map<string, number>();
  const writer = createSnapshotWriter({ pool, schema, onPhase: (name, ms) => phases.set(name, (phases.get(name) ?? 0) + ms) });
  try {
    await runMigrations(pool, schema);
    if (layout === "before 007") {
      // Undo migration 007 and create the partitions as the writer did before it (fill factor 100): the
      // writer's CREATE TABLE IF NOT EXISTS then keeps them.
      await pool.query(
        `ALTER TABLE "${schema}".history ALTER COLUMN subject TYPE text COLLATE "default", ALTER COLUMN type TYPE text COLLATE "default",
           ALTER COLUMN tags TYPE text COLLATE "default", ALTER COLUMN part TYPE text COLLATE "default"`,
      );
      const starts = new Set(Array.from({ length: DAYS }, (_, d) => partitionStart(today - d)));
      for (const start of starts) {
        await pool.query(`CREATE TABLE "${schema}".history_p${start} PARTITION OF "${schema}".history FOR VALUES FROM (${start}) TO (${start + HISTORY_PARTITION_DAYS})`);
      }
    }
    // Each layout starts from the same WAL state (superuser only; without it the figures are just noisier).
    await pool.query("CHECKPOINT").catch(() => undefined);

    const writeAll = async (round: number): Promise<Measured> => {
      let seconds = 0;
      let events = 0;
      let written = 0;
      phases.clear();
      for (let start = 0; start < SUBJECTS; start += CHUNK) {
        const chunk = Array.from({ length: Math.min(CHUNK, SUBJECTS - start) }, (_, i) => snapshotOf(start + i, round));
        events += eventsOf(chunk);
        const started = performance.now();
        const result = await writer.write(chunk, Date.now());
        seconds += (performance.now() - started) / 1000;
        written += result.historyParts ?? 0;
      }
      return { seconds, rows: written, events };
    };

    const firstWrite = await writeAll(1);
    const first = { ...firstWrite, newEvents: firstWrite.events };
    const firstMerge = (phases.get("merge history") ?? 0) / 1000;
    const replay = { ...(await writeAll(1)), newEvents: 0 };
    const grownWrite = await writeAll(2);
    const grown = { ...grownWrite, newEvents: grownWrite.events - first.events };
    const grownMerge = (phases.get("merge history") ?? 0) / 1000;

    const check = await pool.query<{ rows: string; events: string }>(`SELECT count(*) AS rows, sum(count) AS events FROM "${schema}".history`);
    const stored = check.rows[0];
    if (Number(stored?.rows) !== SUBJECTS * DAYS * ROLLUPS || Number(stored?.events) !== grown.events) {
      throw new Error(`the archive (${layout}) does not hold what was written: ${stored?.rows} rows, ${stored?.events} events`);
    }
    return { first, replay, grown, firstMerge, grownMerge };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch((error: unknown) => console.error(`could not drop schema ${schema}:`, error));
  }
}

/** The same rows (first round), plain COPY into an unlogged table, no key, no merge. */
async function measureReference(pool: pg.Pool): Promise<Measured> {
  const schema = `bench_history_${randomBytes(4).toString("hex")}`;
  await pool.query(`CREATE SCHEMA "${schema}"`);
  try {
    await pool.query(
      `CREATE UNLOGGED TABLE "${schema}".reference (subject text, type text, tags text, day int, part text, count bigint,
         sum bigint, first_at bigint, last_at bigint, max_amount bigint)`,
    );
    let seconds = 0;
    let events = 0;
    const client = await pool.connect();
    try {
      for (let start = 0; start < SUBJECTS; start += CHUNK) {
        const chunk = Array.from({ length: Math.min(CHUNK, SUBJECTS - start) }, (_, i) => snapshotOf(start + i, 1));
        events += eventsOf(chunk);
        const started = performance.now();
        await client.query("BEGIN");
        await copyRowsInto(client, `"${schema}".reference`, referenceRows(chunk));
        await client.query("COMMIT");
        seconds += (performance.now() - started) / 1000;
      }
    } finally {
      client.release();
    }
    return { seconds, rows: SUBJECTS * DAYS * ROLLUPS, events };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch((error: unknown) => console.error(`could not drop schema ${schema}:`, error));
  }
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on("error", () => undefined);
  try {
    const rows = SUBJECTS * DAYS * ROLLUPS;
    console.log(
      `history writer benchmark: ${SUBJECTS.toLocaleString("en")} subjects x ${DAYS} days x ${ROLLUPS} rollups = ${rows.toLocaleString("en")} rows ` +
        `(${EVENTS} events each at first), ${CHUNK.toLocaleString("en")} subjects per transaction, node ${process.version}, ${cpus().length} cores`,
    );
    const reference = await measureReference(pool);
    report("reference: COPY into an unlogged table", reference);
    const results = new Map<Layout, LayoutResult>();
    for (const layout of ["before 007", "current"] as const) {
      const result = await measureLayout(pool, layout);
      results.set(layout, result);
      console.log(` ${layout === "current" ? "the table as the migrations leave it (fill factor 50, key in collation C)" : "the layout before migration 007 (fill factor 100, key in the database's collation)"}:`);
      report("writer, first write (all rows new)", result.first, reference);
      report("writer, same snapshots again (a replay)", result.replay, reference);
      report("writer, every rollup grown (steady state)", result.grown, reference);
      console.log(
        `    (history COPY + merge: first ${result.firstMerge.toFixed(2)} s, grown ${result.grownMerge.toFixed(2)} s of the writer's time; ` +
          "events/s counts every written count, new events/s only what the write added)",
      );
    }
    const before = results.get("before 007");
    const current = results.get("current");
    if (before !== undefined && current !== undefined) {
      console.log(`  steady state, current vs before 007: ${(before.grown.seconds / current.grown.seconds).toFixed(2)}x the events/s`);
    }
  } finally {
    await pool.end();
  }
}

function* referenceRows(snapshots: readonly SubjectSnapshot[]): Generator<string> {
  for (const snapshot of snapshots) {
    const subject = copyText(snapshot.subject);
    for (const p of snapshot.history ?? []) {
      yield `${subject}\t${copyText(p.type)}\t${copyText(p.tags)}\t${copyInteger(p.day, "day")}\t${copyText(p.part)}\t${copyInteger(p.count, "count")}\t${copyInteger(p.sum, "sum")}\t${copyInteger(p.firstAt, "firstAt")}\t${copyInteger(p.lastAt, "lastAt")}\t${copyInteger(p.maxAmount, "maxAmount")}`;
    }
  }
}

await main();
