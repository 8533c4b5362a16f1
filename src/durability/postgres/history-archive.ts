import type { Pool, PoolClient } from "pg";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import type { HistoryArchive } from "../../history/history-archive.ts";
import { completeRawEvents, mergeCopies, rollupKey, type HistoryPart, type HistorySelector } from "../../model/history.ts";
import type { SubjectSnapshot } from "../../model/subject-state.ts";
import { ArchivedRollupLines, ROLLUP_LINES_AGGREGATE } from "./archived-rollup-lines.ts";
import { copyInteger, copyRowsInto, copyText } from "./copy-text-format.ts";
import { selectionCondition } from "./history-selection-sql.ts";
import { quoteSchemaName } from "./schema-name.ts";
import { checkOut } from "./checked-out-client.ts";

/**
 * The PostgreSQL history archive (`<schema>.history`, migration 003): the rollups the snapshot job took
 * out of the backend. The snapshot writer adds the parts of every snapshot in its own transaction
 * (`createHistoryPartWriter`); the engine reads them back after the backend's own copy
 * (`createPostgresHistoryArchive`, attached with `progression.useHistoryArchive`).
 *
 * - One row per (subject, day, type, tags, part). A part only grows, so two copies of a row merge by
 *   GREATEST(count, sum, last_at, max_amount) and LEAST(first_at): a replayed snapshot changes nothing
 *   (not even a dead tuple: rows that would not grow are not updated), a newer copy wins.
 * - Partitioned by UTC day, one partition per `HISTORY_PARTITION_DAYS` days, created when a write first
 *   needs it, in its own short transaction before the snapshot's (creating a partition locks the whole
 *   table, which must not last a snapshot long), serialised by an advisory lock. Which partitions exist
 *   is remembered per pool and schema, so a steady state costs no DDL at all.
 * - Retention drops whole partitions (`dropHistoryBefore`), under the same lock.
 * - Built for rewriting rows in place (migration 007): the hot days' rows are merged again at every pass,
 *   so partitions leave half of each page free (`HISTORY_FILL_FACTOR`) for the new versions (HOT updates:
 *   no index entry per rewrite, dead versions pruned by the next one), and the key's text columns compare
 *   bytes (collation "C"), the primary key being probed once per written row.
 * - Raw events (`<schema>.history_raw_events`, migration 008): a part whose raw events are all kept has
 *   them written in the same transaction as its rollup, one row per rollup row, replaced only by a longer
 *   copy (a part's raw events only grow). One partition per UTC day, created like the history's; the
 *   engine's `historyRawEvents.retentionDays` is their retention (`dropRawEventsBefore`), independent of
 *   the history's. Read back only for the days a reader asks for (`rawEventsFromDay`).
 * - Read with the reader's selectors as SQL (history-selection-sql.ts: only the rows its counters can
 *   count), each subject's rows joined into one text value (archived-rollup-lines.ts): a backfill or a
 *   simulation reads every player's history, and ten parsed fields and an object per row were most of
 *   its cost.
 */

/** UTC days per partition of `<schema>.history`. */
export const HISTORY_PARTITION_DAYS = 32;

/**
 * Fill factor of every history partition (percent of a page the rows fill when written): the rest is
 * where a rewrite puts the row's new version. 50 leaves room for a whole page of rows to grow in one
 * transaction (the snapshot job rewrites a chunk of subjects at once); it costs twice the space for days
 * that are never rewritten. Migration 007 sets the same on partitions created before it.
 */
export const HISTORY_FILL_FACTOR = 50;

/** UTC days per partition of `<schema>.history_raw_events`: a retention of days drops whole days. */
export const RAW_EVENTS_PARTITION_DAYS = 1;

/** One partition of the history table: days `fromDay` (included) to `toDay` (excluded). */
export interface HistoryPartition {
  readonly name: string;
  readonly fromDay: number;
  readonly toDay: number;
}

export interface PostgresHistoryArchive extends HistoryArchive {
  /**
   * Drops every partition whose days all lie before `day` (it ends at or before it), in one short
   * transaction; returns the dropped partitions. Days from `day` on are never touched (the partition
   * holding `day` is kept whole, so up to `HISTORY_PARTITION_DAYS - 1` older days stay).
   */
  dropHistoryBefore(day: number): Promise<readonly HistoryPartition[]>;
  /** The partitions that exist, by first day. */
  partitions(): Promise<readonly HistoryPartition[]>;
  /** `dropHistoryBefore` for raw events: drops every raw-event partition (one UTC day each) before `day`. */
  dropRawEventsBefore(day: number): Promise<readonly HistoryPartition[]>;
  /** The raw-event partitions that exist, by day. */
  rawEventPartitions(): Promise<readonly HistoryPartition[]>;
  /** For how many UTC days the engine uses raw events (`useRawEventRetention`), undefined: it keeps none. */
  rawEventRetentionDays(): number | undefined;
  useRawEventRetention(retentionDays: number | undefined): void;
}

export interface HistoryArchiveOptions {
  readonly pool: Pool;
  readonly schema: string;
}

/** What the snapshot writer needs to archive the history parts of its snapshots. */
export interface HistoryPartWriter {
  /**
   * Creates the partitions the snapshots' parts need and this process has not seen yet. Runs its own
   * short transaction on `client`: call it before the write's transaction begins.
   */
  preparePartitions(client: PoolClient, snapshots: readonly SubjectSnapshot[]): Promise<void>;
  /**
   * Inside the caller's transaction: COPY of every part into a temporary table and one merge statement.
   * Returns the parts sent.
   */
  writeParts(client: PoolClient, snapshots: readonly SubjectSnapshot[]): Promise<number>;
  /** After a failed write: the partitions are checked again next time (another process may have dropped one). */
  forgetPartitions(): void;
}

/** First day of the partition holding `day`. */
export function partitionStart(day: number): number {
  return Math.floor(day / HISTORY_PARTITION_DAYS) * HISTORY_PARTITION_DAYS;
}

/**
 * `subject = <this>` picks the subjects of a read ($1, a text array) through the primary key. Written
 * `ANY(ARRAY(SELECT unnest($1)))`, not `ANY($1)`: given the array itself, the planner estimates a page
 * of a thousand players at a thousandth of a partition's rows, scattered over it, and scans the whole
 * partition in parallel instead (measured: 330 ms and three processes for a page the index reads in
 * 50 ms); an array it cannot see into is looked up key by key.
 */
const SUBJECTS_OF_PAGE = "ANY(ARRAY(SELECT unnest($1::text[])))";

/** The two partitioned tables: the rollups, and their raw events. */
const HISTORY_TABLE = { table: "history", days: HISTORY_PARTITION_DAYS } as const;
const RAW_EVENTS_TABLE = { table: "history_raw_events", days: RAW_EVENTS_PARTITION_DAYS } as const;
type PartitionedTable = typeof HISTORY_TABLE | typeof RAW_EVENTS_TABLE;

export function createPostgresHistoryArchive(options: HistoryArchiveOptions): PostgresHistoryArchive {
  const { pool } = options;
  const s = quoteSchemaName(options.schema);
  const known = knownPartitions(pool, options.schema, HISTORY_TABLE);
  const knownRaw = knownPartitions(pool, options.schema, RAW_EVENTS_TABLE);
  let rawRetentionDays: number | undefined;

  const listPartitions = async (client: Pool | PoolClient, table: PartitionedTable = HISTORY_TABLE): Promise<HistoryPartition[]> => {
    const result = await client.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = to_regclass($1)`,
      [`${s}.${table.table}`],
    );
    const partitions: HistoryPartition[] = [];
    for (const row of result.rows) {
      // Only plain ranges are ours (a DEFAULT or MINVALUE partition someone added is left alone).
      // PostgreSQL prints a negative bound quoted: FOR VALUES FROM ('-32') TO (0).
      const match = /^FOR VALUES FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)$/.exec(row.bound);
      if (match?.[1] === undefined || match[2] === undefined) continue;
      partitions.push({ name: row.name, fromDay: Number(match[1]), toDay: Number(match[2]) });
    }
    return partitions.sort((a, b) => a.fromDay - b.fromDay);
  };

  /** The raw events of the subjects' parts of `fromDay` on, by subject and `<part>#<day>|<type>|<tags>`. */
  const readRawEvents = async (subjects: readonly string[], selection: readonly HistorySelector[] | undefined, fromDay: number): Promise<Map<string, Map<string, number[]>>> => {
    const params: unknown[] = [subjects, fromDay];
    const selected = selection === undefined ? "" : ` AND ${selectionCondition(selection, params)}`;
    const result = await pool.query<RawEventsRow>(
      `SELECT subject, part, type, tags, day, at, amount FROM ${s}.history_raw_events WHERE subject = ${SUBJECTS_OF_PAGE} AND day >= $2${selected}`,
      params,
    );
    const bySubject = new Map<string, Map<string, number[]>>();
    for (const row of result.rows) {
      let byKey = bySubject.get(row.subject);
      if (byKey === undefined) bySubject.set(row.subject, (byKey = new Map()));
      const events: number[] = [];
      // bigint arrays arrive as text elements; every value was a safe integer when written.
      for (const [i, at] of row.at.entries()) events.push(Number(at), Number(row.amount[i]));
      byKey.set(`${row.part}#${rollupKey(row)}`, events);
    }
    return bySubject;
  };

  const dropPartitionsBefore = async (day: number, table: PartitionedTable, knownStarts: Set<number>): Promise<HistoryPartition[]> => {
    const { client, release } = await checkOut(pool);
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [partitionLockKey(options.schema)]);
      const dropped = (await listPartitions(client, table)).filter((partition) => partition.toDay <= day);
      for (const partition of dropped) {
        await client.query(`DROP TABLE IF EXISTS ${s}.${quoteIdentifier(partition.name)}`);
      }
      await client.query("COMMIT");
      for (const partition of dropped) knownStarts.delete(partition.fromDay);
      return dropped;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      release();
    }
  };

  return {
    async read(subjects, selection, rawEventsFromDay) {
      if (subjects.length === 0 || selection?.length === 0) return new Map();
      if (rawEventsFromDay !== undefined) requireDay(rawEventsFromDay, "rawEventsFromDay");
      const unique = [...new Set(subjects)];
      // Only the rows the selectors select, each subject's as one text value (archived-rollup-lines.ts).
      const params: unknown[] = [unique];
      const selected = selection === undefined ? "" : ` AND ${selectionCondition(selection, params)}`;
      const [result, raw] = await Promise.all([
        pool.query<{ subject: string; rollups: string }>(
          `SELECT subject, ${ROLLUP_LINES_AGGREGATE} AS rollups FROM ${s}.history WHERE subject = ${SUBJECTS_OF_PAGE}${selected} GROUP BY subject`,
          params,
        ),
        rawEventsFromDay === undefined ? undefined : readRawEvents(unique, selection, rawEventsFromDay),
      ]);
      return new ArchivedRollupLines(new Map(result.rows.map((row) => [row.subject, row.rollups])), raw);
    },

    async dropHistoryBefore(day) {
      requireDay(day, "dropHistoryBefore day");
      return dropPartitionsBefore(day, HISTORY_TABLE, known);
    },

    async dropRawEventsBefore(day) {
      requireDay(day, "dropRawEventsBefore day");
      return dropPartitionsBefore(day, RAW_EVENTS_TABLE, knownRaw);
    },

    partitions: () => listPartitions(pool),
    rawEventPartitions: () => listPartitions(pool, RAW_EVENTS_TABLE),
    rawEventRetentionDays: () => rawRetentionDays,
    useRawEventRetention(retentionDays) {
      rawRetentionDays = retentionDays;
    },
  };
}

export function createHistoryPartWriter(options: HistoryArchiveOptions): HistoryPartWriter {
  const s = quoteSchemaName(options.schema);
  const known = knownPartitions(options.pool, options.schema, HISTORY_TABLE);
  const knownRaw = knownPartitions(options.pool, options.schema, RAW_EVENTS_TABLE);
  const lockKey = partitionLockKey(options.schema);

  return {
    async preparePartitions(client, snapshots) {
      const missing = new Set<number>();
      const missingRaw = new Set<number>();
      for (const snapshot of snapshots) {
        for (const part of snapshot.history ?? []) {
          requireDay(part.day, "history day");
          const start = partitionStart(part.day);
          if (!known.has(start)) missing.add(start);
          if (part.rawEvents !== undefined && !knownRaw.has(part.day) && completeRawEvents(part) !== undefined) missingRaw.add(part.day);
        }
      }
      if (missing.size === 0 && missingRaw.size === 0) return;
      const starts = [...missing].sort((a, b) => a - b);
      const rawDays = [...missingRaw].sort((a, b) => a - b);
      const create = (table: PartitionedTable, start: number): string =>
        `CREATE TABLE IF NOT EXISTS ${s}.${quoteIdentifier(partitionName(start, table))} PARTITION OF ${s}.${table.table} ` +
        `FOR VALUES FROM (${start}) TO (${start + table.days}) WITH (fillfactor = ${HISTORY_FILL_FACTOR})`;
      try {
        await client.query("BEGIN");
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [lockKey]);
        // IF NOT EXISTS: another process (or this one, before a restart) may have created it already.
        await client.query([...starts.map((start) => create(HISTORY_TABLE, start)), ...rawDays.map((day) => create(RAW_EVENTS_TABLE, day))].join(";\n"));
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
      for (const start of starts) known.add(start);
      for (const day of rawDays) knownRaw.add(day);
    },

    async writeParts(client, snapshots) {
      let rows = 0;
      for (const snapshot of snapshots) rows += snapshot.history?.length ?? 0;
      if (rows === 0) return 0;
      await client.query(
        `CREATE TEMP TABLE tmp_history (subject text, type text, tags text, day int, part text, count bigint,
           sum bigint, first_at bigint, last_at bigint, max_amount bigint) ON COMMIT DROP`,
      );
      await copyRowsInto(client, "tmp_history", historyRows(snapshots));
      // One row per key (historyRows merges a part an export listed twice): ON CONFLICT may touch a row
      // only once per statement. Rows that would not grow are not rewritten.
      await client.query(
        `INSERT INTO ${s}.history AS h (subject, type, tags, day, part, count, sum, first_at, last_at, max_amount)
         SELECT subject, type, tags, day, part, count, sum, first_at, last_at, max_amount FROM tmp_history
         ON CONFLICT (subject, day, type, tags, part) DO UPDATE SET
           count = GREATEST(h.count, EXCLUDED.count), sum = GREATEST(h.sum, EXCLUDED.sum),
           first_at = LEAST(h.first_at, EXCLUDED.first_at), last_at = GREATEST(h.last_at, EXCLUDED.last_at),
           max_amount = GREATEST(h.max_amount, EXCLUDED.max_amount)
         WHERE h.count < EXCLUDED.count OR h.sum < EXCLUDED.sum OR h.first_at > EXCLUDED.first_at
           OR h.last_at < EXCLUDED.last_at OR h.max_amount < EXCLUDED.max_amount`,
      );
      await writeRawEvents(client, s, snapshots);
      return rows;
    },

    forgetPartitions() {
      known.clear();
      knownRaw.clear();
    },
  };
}

/**
 * The raw events of the snapshots' parts that keep all of theirs, in the caller's transaction: COPY into
 * a temporary table, one merge statement that replaces a row only by a longer copy. Returns the rows sent.
 */
async function writeRawEvents(client: PoolClient, s: string, snapshots: readonly SubjectSnapshot[]): Promise<number> {
  const rows = [...rawEventRows(snapshots)];
  if (rows.length === 0) return 0;
  await client.query(
    `CREATE TEMP TABLE tmp_history_raw_events (subject text, type text, tags text, day int, part text, at bigint[], amount bigint[]) ON COMMIT DROP`,
  );
  await copyRowsInto(client, "tmp_history_raw_events", rows);
  await client.query(
    `INSERT INTO ${s}.history_raw_events AS r (subject, type, tags, day, part, at, amount)
     SELECT subject, type, tags, day, part, at, amount FROM tmp_history_raw_events
     ON CONFLICT (subject, day, type, tags, part) DO UPDATE SET at = EXCLUDED.at, amount = EXCLUDED.amount
     WHERE cardinality(r.at) < cardinality(EXCLUDED.at)`,
  );
  return rows.length;
}

/** COPY rows of raw events: one per part (merged as `historyRows` merges them) whose raw events are all kept. */
function* rawEventRows(snapshots: readonly SubjectSnapshot[]): Generator<string> {
  for (const snapshot of snapshots) {
    const parts = snapshot.history;
    if (parts === undefined || !parts.some((part) => part.rawEvents !== undefined)) continue;
    const subject = copyText(snapshot.subject);
    for (const part of uniqueParts(parts)) {
      const raw = completeRawEvents(part);
      if (raw === undefined || raw.length === 0) continue;
      const at: string[] = [];
      const amount: string[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        at.push(copyInteger(raw[i] as number, "raw event at"));
        amount.push(copyInteger(raw[i + 1] as number, "raw event amount"));
      }
      yield `${subject}\t${copyText(part.type)}\t${copyText(part.tags)}\t${copyInteger(part.day, "history day")}\t${copyText(part.part)}\t{${at.join(",")}}\t{${amount.join(",")}}`;
    }
  }
}

/**
 * The COPY rows of every snapshot's history parts, one block per subject. The caller lists each subject
 * once; a part listed twice in one subject's export is sent once, as the merge of its copies.
 */
function* historyRows(snapshots: readonly SubjectSnapshot[]): Generator<string> {
  for (const snapshot of snapshots) {
    const parts = snapshot.history;
    if (parts === undefined || parts.length === 0) continue;
    const subject = copyText(snapshot.subject);
    let block = "";
    for (const part of uniqueParts(parts)) {
      if (block.length > 0) block += "\n";
      block +=
        `${subject}\t${copyText(part.type)}\t${copyText(part.tags)}\t${copyInteger(part.day, "history day")}\t${copyText(part.part)}\t` +
        `${copyInteger(part.count, "history count")}\t${copyInteger(part.sum, "history sum")}\t` +
        `${copyInteger(part.firstAt, "history firstAt")}\t${copyInteger(part.lastAt, "history lastAt")}\t` +
        copyInteger(part.maxAmount, "history maxAmount");
    }
    yield block;
  }
}

/** The parts with one entry per (part, day, type, tags): copies of one merge by their largest values. */
function uniqueParts(parts: readonly HistoryPart[]): Iterable<HistoryPart> {
  if (parts.length < 2) return parts;
  const byKey = new Map<string, HistoryPart>();
  for (const part of parts) {
    const key = `${part.part}#${rollupKey(part)}`;
    const earlier = byKey.get(key);
    byKey.set(key, earlier === undefined ? part : mergeCopies(earlier, part));
  }
  return byKey.size === parts.length ? parts : byKey.values();
}

interface RawEventsRow {
  subject: string;
  part: string;
  type: string;
  tags: string;
  day: number;
  at: string[];
  amount: string[];
}

/** Partition starts known to exist, per pool, schema and table (the writer and the archive of one pool share it). */
const knownByPool = new WeakMap<Pool, Map<string, Set<number>>>();

function knownPartitions(pool: Pool, schema: string, table: PartitionedTable): Set<number> {
  let bySchema = knownByPool.get(pool);
  if (bySchema === undefined) knownByPool.set(pool, (bySchema = new Map()));
  const key = `${schema}\u0000${table.table}`;
  let known = bySchema.get(key);
  if (known === undefined) bySchema.set(key, (known = new Set()));
  return known;
}

function partitionLockKey(schema: string): string {
  return `colyseus-progression:history-partitions:${schema}`;
}

/** `history_p<first day>` (`history_pm<n>` for a negative first day), `history_raw_events_p<day>` likewise. */
function partitionName(start: number, table: PartitionedTable = HISTORY_TABLE): string {
  return start < 0 ? `${table.table}_pm${-start}` : `${table.table}_p${start}`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A UTC day the table (int) and its partition bounds can hold. */
function requireDay(day: number, what: string): void {
  if (!Number.isSafeInteger(day) || Math.abs(day) > 1_000_000_000) {
    throw new ProgressionError(ErrorCode.InvalidInput, `${what} is ${String(day)}, not a UTC day number`, { day });
  }
}
