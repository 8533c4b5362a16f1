import type { Pool } from "pg";
import type { SubjectSnapshot } from "../store/progression-backend.ts";
import { copyInteger, copyNullableInteger, copyRowsInto, copyText } from "./copy-text-format.ts";
import { quoteSchemaName } from "./schema-name.ts";

/**
 * Persists subject snapshots in ONE transaction: every table's rows go through COPY FROM STDIN into a
 * temporary table, then one merge statement per table moves them into place (seed 001's COPY upsert).
 *
 * Merge rules, so that a replayed, late or out-of-order snapshot can never lose progress:
 * - counters: GREATEST per column (sum/days value, last day, latest time, largest gap with its time);
 * - window buckets: max per (counter, day);
 * - awards: inserted once per (subject, code); only ever moves from unclaimed to claimed;
 * - balances and open holds: replaced per subject, unless the database already holds a newer snapshot
 *   of that subject (`takenAt` older than the stored one): they are the current truth, not a history.
 */

export interface SnapshotWriteResult {
  readonly subjects: number;
  /** Rows streamed through COPY, over every table. */
  readonly rows: number;
  /** Subjects whose balances and holds were left alone because a newer snapshot was already stored. */
  readonly staleSubjects: number;
}

export interface SnapshotWriter {
  /** `takenAt` (epoch ms) is when the snapshots were exported; it orders snapshots of one subject. */
  write(snapshots: readonly SubjectSnapshot[], takenAt?: number): Promise<SnapshotWriteResult>;
}

export interface SnapshotWriterOptions {
  readonly pool: Pool;
  readonly schema: string;
  /** Told how long each step of a write took (benchmarks, metrics). Default: nothing. */
  readonly onPhase?: (phase: string, ms: number) => void;
}

export function createSnapshotWriter(options: SnapshotWriterOptions): SnapshotWriter {
  const { pool } = options;
  const onPhase = options.onPhase;
  let phaseStart = 0;
  const phase = (name: string): void => {
    const now = performance.now();
    if (onPhase !== undefined && name !== "") onPhase(name, now - phaseStart);
    phaseStart = now;
  };
  const s = quoteSchemaName(options.schema);

  async function write(snapshots: readonly SubjectSnapshot[], takenAt = Date.now()): Promise<SnapshotWriteResult> {
    // A subject listed twice keeps its last snapshot: one row per key is what ON CONFLICT needs.
    const bySubject = new Map<string, SubjectSnapshot>();
    for (const snapshot of snapshots) bySubject.set(snapshot.subject, snapshot);
    // Sorted by key, so the merges walk each primary-key index in order (about 2x faster than random).
    const unique = [...bySubject.values()].sort((a, b) => compareKeys(a.subject, b.subject));
    if (unique.length === 0) return { subjects: 0, rows: 0, staleSubjects: 0 };

    const at = copyInteger(takenAt, "takenAt");
    let rows = 0;
    const count = function* (source: Iterable<string>): Generator<string> {
      for (const row of source) {
        rows += 1;
        yield row;
      }
    };

    phase("");
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(
        `CREATE TEMP TABLE tmp_subjects (subject text, snapshot_at bigint) ON COMMIT DROP;
         CREATE TEMP TABLE tmp_counters (subject text, counter text, kind text, value bigint, at bigint,
           last_day integer, max_gap bigint, max_gap_at bigint) ON COMMIT DROP;
         CREATE TEMP TABLE tmp_window_buckets (subject text, counter text, day integer, amount bigint) ON COMMIT DROP;
         CREATE TEMP TABLE tmp_awards (subject text, code text, earned_at bigint, retroactive boolean,
           claimed_at bigint) ON COMMIT DROP;
         CREATE TEMP TABLE tmp_balances (subject text, item text, free bigint, held bigint) ON COMMIT DROP;
         CREATE TEMP TABLE tmp_holds (hold_id text, subject text, item text, quantity bigint, created_at bigint,
           expires_at bigint) ON COMMIT DROP;`,
      );

      phase("begin");
      await copyRowsInto(client, "tmp_subjects", count(subjectRows(unique, at)));
      await copyRowsInto(client, "tmp_counters", count(counterRows(unique)));
      await copyRowsInto(client, "tmp_window_buckets", count(bucketRows(unique)));
      await copyRowsInto(client, "tmp_awards", count(awardRows(unique)));
      await copyRowsInto(client, "tmp_balances", count(balanceRows(unique)));
      await copyRowsInto(client, "tmp_holds", count(holdRows(unique)));
      phase("copy");

      await client.query(
        `INSERT INTO ${s}.counters AS c (subject, counter, kind, value, at, last_day, max_gap, max_gap_at)
         SELECT subject, counter, kind, value, at, last_day, max_gap, max_gap_at FROM tmp_counters
         ON CONFLICT (subject, counter) DO UPDATE SET
           kind = EXCLUDED.kind,
           value = GREATEST(c.value, EXCLUDED.value),
           at = GREATEST(c.at, EXCLUDED.at),
           last_day = GREATEST(c.last_day, EXCLUDED.last_day),
           max_gap_at = CASE WHEN EXCLUDED.max_gap > COALESCE(c.max_gap, -1) THEN EXCLUDED.max_gap_at ELSE c.max_gap_at END,
           max_gap = GREATEST(c.max_gap, EXCLUDED.max_gap)
         WHERE EXCLUDED.value > c.value OR EXCLUDED.at > c.at
            OR EXCLUDED.last_day > c.last_day OR EXCLUDED.max_gap > c.max_gap`,
      );
      phase("merge counters");
      await client.query(
        `INSERT INTO ${s}.window_buckets AS b (subject, counter, day, amount)
         SELECT subject, counter, day, amount FROM tmp_window_buckets
         ON CONFLICT (subject, counter, day) DO UPDATE SET amount = EXCLUDED.amount
         WHERE EXCLUDED.amount > b.amount`,
      );
      phase("merge buckets");
      await client.query(
        `INSERT INTO ${s}.awards AS a (subject, code, earned_at, retroactive, claimed_at)
         SELECT subject, code, earned_at, retroactive, claimed_at FROM tmp_awards
         ON CONFLICT (subject, code) DO UPDATE SET claimed_at = EXCLUDED.claimed_at
         WHERE a.claimed_at IS NULL AND EXCLUDED.claimed_at IS NOT NULL`,
      );

      phase("merge awards");
      // Balances and holds: only subjects whose stored snapshot is not newer than this one.
      const stale = await client.query(
        `DELETE FROM tmp_subjects t USING ${s}.subjects stored
         WHERE stored.subject = t.subject AND stored.snapshot_at > t.snapshot_at`,
      );
      phase("stale check");
      await client.query(
        `INSERT INTO ${s}.subjects AS stored (subject, snapshot_at)
         SELECT subject, snapshot_at FROM tmp_subjects
         ON CONFLICT (subject) DO UPDATE SET snapshot_at = EXCLUDED.snapshot_at, written_at = now()`,
      );
      phase("upsert subjects");
      // Replace = upsert what the snapshot has (writing only rows that differ) + delete what it lacks;
      // cheaper than delete-all + insert-all when most of a subject's items did not change.
      await client.query(
        `DELETE FROM ${s}.balances b USING tmp_subjects t
         WHERE b.subject = t.subject
           AND NOT EXISTS (SELECT 1 FROM tmp_balances n WHERE n.subject = b.subject AND n.item = b.item AND (n.free > 0 OR n.held > 0))`,
      );
      await client.query(
        `INSERT INTO ${s}.balances AS b (subject, item, free, held)
         SELECT n.subject, n.item, n.free, n.held FROM tmp_balances n JOIN tmp_subjects t ON t.subject = n.subject
         WHERE n.free > 0 OR n.held > 0
         ON CONFLICT (subject, item) DO UPDATE SET free = EXCLUDED.free, held = EXCLUDED.held
         WHERE b.free <> EXCLUDED.free OR b.held <> EXCLUDED.held`,
      );
      await client.query(
        `DELETE FROM ${s}.holds h USING tmp_subjects t
         WHERE h.subject = t.subject AND NOT EXISTS (SELECT 1 FROM tmp_holds n WHERE n.hold_id = h.hold_id)`,
      );
      // An open hold never changes until it is settled (and then it leaves the snapshot).
      await client.query(
        `INSERT INTO ${s}.holds (hold_id, subject, item, quantity, created_at, expires_at)
         SELECT n.hold_id, n.subject, n.item, n.quantity, n.created_at, n.expires_at
         FROM tmp_holds n JOIN tmp_subjects t ON t.subject = n.subject
         ON CONFLICT (hold_id) DO NOTHING`,
      );
      phase("replace balances and holds");
      await client.query("COMMIT");
      phase("commit");
      return { subjects: unique.length, rows, staleSubjects: stale.rowCount ?? 0 };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  return { write };
}

/** Plain code-unit order: only locality matters, not the database collation. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedEntries<V>(map: ReadonlyMap<string, V>): [string, V][] {
  return [...map].sort((a, b) => compareKeys(a[0], b[0]));
}

function* subjectRows(snapshots: readonly SubjectSnapshot[], takenAt: string): Generator<string> {
  for (const snapshot of snapshots) yield `${copyText(snapshot.subject)}\t${takenAt}`;
}

function* counterRows(snapshots: readonly SubjectSnapshot[]): Generator<string> {
  const N = "\\N";
  for (const snapshot of snapshots) {
    const subject = copyText(snapshot.subject);
    for (const [counter, state] of sortedEntries(snapshot.counters)) {
      const id = copyText(counter);
      switch (state.kind) {
        case "sum":
          yield `${subject}\t${id}\tsum\t${copyInteger(state.value, "counter value")}\t${copyInteger(state.at, "counter at")}\t${N}\t${N}\t${N}`;
          break;
        case "window":
          yield `${subject}\t${id}\twindow\t0\t${copyInteger(state.at, "counter at")}\t${N}\t${N}\t${N}`;
          break;
        case "days":
          yield `${subject}\t${id}\tdays\t${copyInteger(state.value, "counter value")}\t${copyInteger(state.at, "counter at")}\t${copyInteger(state.lastDay, "counter lastDay")}\t${N}\t${N}`;
          break;
        case "gap":
          yield `${subject}\t${id}\tgap\t0\t${copyInteger(state.last, "counter last")}\t${N}\t${copyInteger(state.maxGap, "counter maxGap")}\t${copyInteger(state.maxGapAt, "counter maxGapAt")}`;
          break;
      }
    }
  }
}

function* bucketRows(snapshots: readonly SubjectSnapshot[]): Generator<string> {
  for (const snapshot of snapshots) {
    const subject = copyText(snapshot.subject);
    for (const [counter, state] of sortedEntries(snapshot.counters)) {
      if (state.kind !== "window") continue;
      const id = copyText(counter);
      for (const [day, amount] of [...state.buckets].sort((a, b) => a[0] - b[0])) {
        yield `${subject}\t${id}\t${copyInteger(day, "window day")}\t${copyInteger(amount, "window amount")}`;
      }
    }
  }
}

function* awardRows(snapshots: readonly SubjectSnapshot[]): Generator<string> {
  for (const snapshot of snapshots) {
    const subject = copyText(snapshot.subject);
    for (const [, award] of sortedEntries(snapshot.awards)) {
      yield `${subject}\t${copyText(award.code)}\t${copyInteger(award.earnedAt, "award earnedAt")}\t${award.retroactive ? "t" : "f"}\t${copyNullableInteger(award.claimedAt, "award claimedAt")}`;
    }
  }
}

function* balanceRows(snapshots: readonly SubjectSnapshot[]): Generator<string> {
  for (const snapshot of snapshots) {
    for (const balance of snapshot.balances) {
      // Balances are the subject's own; one row per item.
      yield `${copyText(snapshot.subject)}\t${copyText(balance.item)}\t${copyInteger(balance.free, "balance free")}\t${copyInteger(balance.held, "balance held")}`;
    }
  }
}

function* holdRows(snapshots: readonly SubjectSnapshot[]): Generator<string> {
  for (const snapshot of snapshots) {
    for (const hold of snapshot.holds) {
      if (hold.state !== "held") continue;
      yield `${copyText(hold.holdId)}\t${copyText(snapshot.subject)}\t${copyText(hold.item)}\t${copyInteger(hold.quantity, "hold quantity")}\t${copyInteger(hold.createdAt, "hold createdAt")}\t${copyInteger(hold.expiresAt, "hold expiresAt")}`;
    }
  }
}
