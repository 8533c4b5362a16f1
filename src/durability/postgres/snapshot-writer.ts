import { hash } from "node:crypto";
import type { Pool } from "pg";
import type { SubjectSnapshot } from "../../model/subject-state.ts";
import { mergeCounters, storedCountersJson, type StoredCounters } from "./counter-json.ts";
import { copyInteger, copyNullableInteger, copyRowsInto, copyText } from "./copy-text-format.ts";
import { createHistoryPartWriter } from "./history-archive.ts";
import { quoteSchemaName } from "./schema-name.ts";
import { checkOut } from "./checked-out-client.ts";

/**
 * Persists subject snapshots in ONE transaction (COPY upserts). Subjects the database has
 * never seen are copied straight into the tables; the others go through COPY into temporary tables
 * and one merge statement per table. Rows are generated while COPY streams them.
 *
 * Merge rules, so that a replayed, late or out-of-order snapshot can never lose progress:
 * - counters (one json object per subject): max per value and time, max per window day (counter-json.ts),
 *   merged here against the stored value, read under a transaction-scoped advisory lock that
 *   serialises snapshot writers;
 * - awards: inserted once per (subject, code); only ever move from unclaimed to claimed;
 * - balances and open holds: replaced per subject, unless the database already holds a newer snapshot
 *   of that subject (`takenAt` older than the stored one): they are the current truth, not a history.
 * - history parts (`snapshot.history`): merged into `history` by the largest values (history-archive.ts),
 *   in the same transaction; the partitions they need are created just before it;
 * - `historyCompleteFor`: stored in `subjects.history_complete_for` like balances (the newest snapshot's
 *   value wins; a snapshot without the field leaves it alone).
 * A block (awards, balances, holds) identical to the one last written for the subject is not sent
 * again (sha1 fingerprints in `subjects`), so an unchanged inventory costs nothing but its read.
 */

export interface SnapshotWriteResult {
  readonly subjects: number;
  /** Rows streamed through COPY, over every table. */
  readonly rows: number;
  /** Subjects whose balances and holds were left alone because a newer snapshot was already stored. */
  readonly staleSubjects: number;
  /**
   * History parts archived (sent to the history table, which now holds them or larger copies). Set by a
   * writer that archives history: only then does the snapshot pass let the backend drop archived parts.
   */
  readonly historyParts?: number;
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

interface StoredSubject {
  subject: string;
  snapshot_at: string;
  counters: StoredCounters;
  awards_hash: string | null;
  balances_hash: string | null;
  holds_hash: string | null;
  history_complete_for: string | null;
}

export function createSnapshotWriter(options: SnapshotWriterOptions): SnapshotWriter {
  const { pool } = options;
  const s = quoteSchemaName(options.schema);
  const lockKey = `colyseus-progression:snapshot:${options.schema}`;
  const onPhase = options.onPhase;
  const history = createHistoryPartWriter({ pool, schema: options.schema });
  let phaseStart = 0;
  const phase = (name: string): void => {
    const now = performance.now();
    if (onPhase !== undefined && name !== "") onPhase(name, now - phaseStart);
    phaseStart = now;
  };

  async function write(snapshots: readonly SubjectSnapshot[], takenAt = Date.now()): Promise<SnapshotWriteResult> {
    // A subject listed twice keeps its last snapshot: one row per key is what ON CONFLICT needs.
    const bySubject = new Map<string, SubjectSnapshot>();
    for (const snapshot of snapshots) bySubject.set(snapshot.subject, snapshot);
    // Sorted by key, so the merges walk each primary-key index in order (about 2x faster than random).
    const unique = [...bySubject.values()].sort((a, b) => compareKeys(a.subject, b.subject));
    if (unique.length === 0) return { subjects: 0, rows: 0, staleSubjects: 0, historyParts: 0 };
    copyInteger(takenAt, "takenAt");

    phase("");
    const { client, release } = await checkOut(pool);
    try {
      // Its own short transaction: creating a partition locks the history table until commit.
      await history.preparePartitions(client, unique);
      phase("history partitions");
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [lockKey]);
      await client.query(
        `CREATE TEMP TABLE tmp_subjects (subject text, snapshot_at bigint, counters json, awards_hash text,
           balances_hash text, holds_hash text, history_complete_for text) ON COMMIT DROP;
         CREATE TEMP TABLE tmp_awards (subject text, code text, earned_at bigint, retroactive boolean,
           claimed_at bigint) ON COMMIT DROP;
         CREATE TEMP TABLE tmp_replace (subject text) ON COMMIT DROP;
         CREATE TEMP TABLE tmp_balances (subject text, item text, free bigint, held bigint) ON COMMIT DROP;
         CREATE TEMP TABLE tmp_holds (hold_id text, subject text, item text, quantity bigint, created_at bigint,
           expires_at bigint) ON COMMIT DROP;`,
      );
      phase("begin");

      const stored = new Map<string, StoredSubject>();
      const existing = await client.query<StoredSubject>(
        `SELECT subject, snapshot_at, counters, awards_hash, balances_hash, holds_hash, history_complete_for
         FROM ${s}.subjects WHERE subject = ANY($1::text[])`,
        [unique.map((snapshot) => snapshot.subject)],
      );
      for (const row of existing.rows) stored.set(row.subject, row);
      phase("read stored");

      const fresh: SubjectSnapshot[] = [];
      const known: KnownSubject[] = [];
      for (const snapshot of unique) {
        const previous = stored.get(snapshot.subject);
        if (previous === undefined) fresh.push(snapshot);
        else known.push({ snapshot, previous, previousAt: Number(previous.snapshot_at), awardsHash: null, balancesHash: null, holdsHash: null, writeAwards: false, holdsText: null });
      }
      phase("merge in memory");

      // Every table's rows are generated while COPY streams them (Node encodes the next chunk while
      // PostgreSQL stores the last) and nothing is built ahead: passes over the subjects compute the
      // block fingerprints on the way, and the subject rows that carry them come last.
      let rows = 0;
      const stream = (table: string, blocks: () => Generator<EncodedBlock>): Promise<void> => {
        const texts = function* (): Generator<string> {
          for (const block of blocks()) {
            rows += block.rows;
            yield block.text;
          }
        };
        return copyRowsInto(client, table, texts());
      };

      // Subjects the database has never seen go straight into the tables (the fastest path COPY has):
      // under the advisory lock nobody else can insert them meanwhile.
      if (fresh.length > 0) {
        // Fingerprints by position in `fresh` (every pass walks it in the same order).
        const awardsHashes: string[] = [];
        const balancesHashes: string[] = [];
        const holdsHashes: string[] = [];
        const fingerprinted = (encode: (subject: string, snapshot: SubjectSnapshot) => EncodedBlock, hashes: string[]) =>
          function* (): Generator<EncodedBlock> {
            for (const snapshot of fresh) {
              const block = encode(copyText(snapshot.subject), snapshot);
              hashes.push(blockHash(block.text));
              yield block;
            }
          };
        await stream(`${s}.awards (subject, code, earned_at, retroactive, claimed_at)`, fingerprinted(awardRows, awardsHashes));
        await stream(`${s}.balances (subject, item, free, held)`, fingerprinted(balanceRows, balancesHashes));
        await stream(`${s}.holds (hold_id, subject, item, quantity, created_at, expires_at)`, fingerprinted(holdRows, holdsHashes));
        await stream(`${s}.subjects (subject, snapshot_at, counters, awards_hash, balances_hash, holds_hash, history_complete_for)`, function* () {
          for (let index = 0; index < fresh.length; index += 1) {
            const snapshot = fresh[index] as SubjectSnapshot;
            yield {
              text: `${copyText(snapshot.subject)}\t${takenAt}\t${copyText(storedCountersJson(snapshot.counters))}\t${awardsHashes[index]}\t${balancesHashes[index]}\t${holdsHashes[index]}\t${copyNullableText(snapshot.historyCompleteFor)}`,
              rows: 1,
            };
          }
        });
      }
      phase("copy new subjects");

      // Subjects already stored: through temporary tables and one merge per table. A block identical
      // to the one last written is not sent; balances and holds are left alone when a newer snapshot
      // of the subject is stored.
      let stale = 0;
      let awardsSent = 0;
      let replaced = 0;
      let subjectsSent = 0;
      if (known.length > 0) {
        await stream("tmp_awards", function* () {
          for (const entry of known) {
            const block = awardRows(copyText(entry.snapshot.subject), entry.snapshot);
            entry.awardsHash = blockHash(block.text);
            entry.writeAwards = entry.awardsHash !== entry.previous.awards_hash;
            if (entry.writeAwards) {
              awardsSent += 1;
              yield block;
            }
          }
        });
        await stream("tmp_balances", function* () {
          for (const entry of known) {
            if (entry.previousAt > takenAt) {
              stale += 1;
              entry.balancesHash = entry.previous.balances_hash;
              entry.holdsHash = entry.previous.holds_hash;
              continue;
            }
            const subject = copyText(entry.snapshot.subject);
            const balances = balanceRows(subject, entry.snapshot);
            const holds = holdRows(subject, entry.snapshot);
            entry.balancesHash = blockHash(balances.text);
            entry.holdsHash = blockHash(holds.text);
            if (entry.balancesHash !== entry.previous.balances_hash || entry.holdsHash !== entry.previous.holds_hash) {
              entry.holdsText = holds;
              replaced += 1;
              yield balances;
            }
          }
        });
        await stream("tmp_holds", function* () {
          for (const entry of known) if (entry.holdsText !== null) yield entry.holdsText;
        });
        await stream("tmp_replace", function* () {
          for (const entry of known) if (entry.holdsText !== null) yield { text: copyText(entry.snapshot.subject), rows: 1 };
        });
        await stream("tmp_subjects", function* () {
          for (const entry of known) {
            const counters = mergeCounters(entry.previous.counters, entry.snapshot.counters);
            // Like balances: the newest snapshot's value wins; a snapshot that does not say keeps it.
            const completeFor =
              entry.previousAt > takenAt || entry.snapshot.historyCompleteFor === undefined
                ? entry.previous.history_complete_for
                : entry.snapshot.historyCompleteFor;
            const completeForChanged = completeFor !== entry.previous.history_complete_for;
            if (!counters.changed && takenAt <= entry.previousAt && !entry.writeAwards && entry.holdsText === null && !completeForChanged) continue;
            subjectsSent += 1;
            yield {
              text: [
                copyText(entry.snapshot.subject),
                String(Math.max(entry.previousAt, takenAt)),
                copyText(JSON.stringify(counters.merged)),
                entry.awardsHash ?? "\\N",
                entry.balancesHash ?? "\\N",
                entry.holdsHash ?? "\\N",
                copyNullableText(completeFor),
              ].join("\t"),
              rows: 1,
            };
          }
        });
      }
      phase("copy known subjects");

      if (subjectsSent > 0) {
        await client.query(
        `INSERT INTO ${s}.subjects AS stored (subject, snapshot_at, counters, awards_hash, balances_hash, holds_hash, history_complete_for)
         SELECT subject, snapshot_at, counters, awards_hash, balances_hash, holds_hash, history_complete_for FROM tmp_subjects
         ON CONFLICT (subject) DO UPDATE SET snapshot_at = EXCLUDED.snapshot_at, counters = EXCLUDED.counters,
           awards_hash = EXCLUDED.awards_hash, balances_hash = EXCLUDED.balances_hash,
           holds_hash = EXCLUDED.holds_hash, history_complete_for = EXCLUDED.history_complete_for, written_at = now()`,
        );
      }
      phase("upsert subjects");
      if (awardsSent > 0) {
        await client.query(
          `INSERT INTO ${s}.awards AS a (subject, code, earned_at, retroactive, claimed_at)
           SELECT subject, code, earned_at, retroactive, claimed_at FROM tmp_awards
           ON CONFLICT (subject, code) DO UPDATE SET claimed_at = EXCLUDED.claimed_at
           WHERE a.claimed_at IS NULL AND EXCLUDED.claimed_at IS NOT NULL`,
        );
      }
      phase("merge awards");
      if (replaced > 0) {
        // Replace = delete what the snapshot lacks + upsert what differs (cheaper than delete-all +
        // insert-all when most of a subject's items did not change). Temporary tables have no
        // statistics until analyzed: without them the planner joins 100,000-row tables as if tiny.
        await client.query("ANALYZE tmp_replace, tmp_balances, tmp_holds");
        await client.query(
          `DELETE FROM ${s}.balances b USING tmp_replace t
           WHERE b.subject = t.subject
             AND NOT EXISTS (SELECT 1 FROM tmp_balances n WHERE n.subject = b.subject AND n.item = b.item)`,
        );
        await client.query(
          `INSERT INTO ${s}.balances AS b (subject, item, free, held)
           SELECT subject, item, free, held FROM tmp_balances
           ON CONFLICT (subject, item) DO UPDATE SET free = EXCLUDED.free, held = EXCLUDED.held
           WHERE b.free <> EXCLUDED.free OR b.held <> EXCLUDED.held`,
        );
        await client.query(
          `DELETE FROM ${s}.holds h USING tmp_replace t
           WHERE h.subject = t.subject AND NOT EXISTS (SELECT 1 FROM tmp_holds n WHERE n.hold_id = h.hold_id)`,
        );
        // An open hold never changes until it is settled (and then it leaves the snapshot).
        await client.query(
          `INSERT INTO ${s}.holds (hold_id, subject, item, quantity, created_at, expires_at)
           SELECT hold_id, subject, item, quantity, created_at, expires_at FROM tmp_holds
           ON CONFLICT (hold_id) DO NOTHING`,
        );
      }
      phase("replace balances and holds");
      const historyParts = await history.writeParts(client, unique);
      rows += historyParts;
      phase("merge history");
      await client.query("COMMIT");
      phase("commit");
      return { subjects: unique.length, rows, staleSubjects: stale, historyParts };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      // A partition this process created may have been dropped by another one's retention since.
      history.forgetPartitions();
      throw error;
    } finally {
      release();
    }
  }

  return { write };
}

/** Rows of one table for one subject, joined by newlines ("" when none). */
interface EncodedBlock {
  readonly text: string;
  readonly rows: number;
}

/** A stored subject in this write, and what the passes decided about it. */
interface KnownSubject {
  readonly snapshot: SubjectSnapshot;
  readonly previous: StoredSubject;
  readonly previousAt: number;
  awardsHash: string | null;
  balancesHash: string | null;
  holdsHash: string | null;
  writeAwards: boolean;
  /** Set when balances and holds are replaced: the holds rows to send. */
  holdsText: EncodedBlock | null;
}

function copyNullableText(value: string | null | undefined): string {
  return value === null || value === undefined ? "\\N" : copyText(value);
}

/** Fingerprint of a block's encoded rows (only compared for equality with the last one written). */
function blockHash(text: string): string {
  return hash("sha1", text, "base64");
}

/** Plain code-unit order: only locality matters, not the database collation. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function awardRows(subject: string, snapshot: SubjectSnapshot): EncodedBlock {
  const rows = [...snapshot.awards.values()]
    .sort((a, b) => compareKeys(a.code, b.code))
    .map(
      (award) =>
        `${subject}\t${copyText(award.code)}\t${copyInteger(award.earnedAt, "award earnedAt")}\t${award.retroactive ? "t" : "f"}\t${copyNullableInteger(award.claimedAt, "award claimedAt")}`,
    );
  return { text: rows.join("\n"), rows: rows.length };
}

function balanceRows(subject: string, snapshot: SubjectSnapshot): EncodedBlock {
  const rows = snapshot.balances
    .filter((balance) => balance.free > 0 || balance.held > 0)
    .sort((a, b) => compareKeys(a.item, b.item))
    .map(
      (balance) =>
        `${subject}\t${copyText(balance.item)}\t${copyInteger(balance.free, "balance free")}\t${copyInteger(balance.held, "balance held")}`,
    );
  return { text: rows.join("\n"), rows: rows.length };
}

function holdRows(subject: string, snapshot: SubjectSnapshot): EncodedBlock {
  const rows = snapshot.holds
    .filter((hold) => hold.state === "held")
    .sort((a, b) => compareKeys(a.holdId, b.holdId))
    .map(
      (hold) =>
        `${copyText(hold.holdId)}\t${subject}\t${copyText(hold.item)}\t${copyInteger(hold.quantity, "hold quantity")}\t${copyInteger(hold.createdAt, "hold createdAt")}\t${copyInteger(hold.expiresAt, "hold expiresAt")}`,
    );
  return { text: rows.join("\n"), rows: rows.length };
}
