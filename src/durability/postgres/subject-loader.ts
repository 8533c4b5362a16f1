import type { Pool } from "pg";
import type { HoldRecord } from "../../model/hold.ts";
import type { AwardRecord } from "../../model/award.ts";
import type { Balance } from "../../model/balance.ts";
import type { CounterState } from "../../model/counter-state.ts";
import type { SubjectLoader, SubjectSnapshot } from "../../model/subject-state.ts";
import { fromStoredCounter, type StoredCounters } from "./counter-json.ts";
import { quoteSchemaName } from "./schema-name.ts";

/**
 * Reads one subject back from the snapshot tables as a SubjectSnapshot: the restore hook a backend
 * calls when it meets a subject it has no state for (a fresh or flushed Redis). One round trip.
 * It carries `historyCompleteFor` (when the subject has a history) but no history parts: those stay in
 * the archive (history-archive.ts), which the engine reads after the backend's own copy.
 */

interface AwardRow {
  code: string;
  earned_at: number;
  retroactive: boolean;
  claimed_at: number | null;
}
interface BalanceRow {
  item: string;
  free: number;
  held: number;
}
interface HoldRow {
  hold_id: string;
  item: string;
  quantity: number;
  created_at: number;
  expires_at: number;
}
interface SubjectRow {
  known: boolean;
  counters: StoredCounters | null;
  history_complete_for: string | null;
  awards: AwardRow[];
  balances: BalanceRow[];
  holds: HoldRow[];
}

export function createSubjectLoader(options: { readonly pool: Pool; readonly schema: string }): SubjectLoader {
  const s = quoteSchemaName(options.schema);
  // json_agg turns bigint columns into JSON numbers (all values are safe integers by construction).
  const sql = `SELECT
      EXISTS (SELECT 1 FROM ${s}.subjects WHERE subject = $1)
        OR EXISTS (SELECT 1 FROM ${s}.awards WHERE subject = $1) AS known,
      (SELECT counters FROM ${s}.subjects WHERE subject = $1) AS counters,
      (SELECT history_complete_for FROM ${s}.subjects WHERE subject = $1) AS history_complete_for,
      (SELECT COALESCE(json_agg(json_build_object('code', code, 'earned_at', earned_at, 'retroactive', retroactive,
         'claimed_at', claimed_at)), '[]') FROM ${s}.awards WHERE subject = $1) AS awards,
      (SELECT COALESCE(json_agg(json_build_object('item', item, 'free', free, 'held', held) ORDER BY item), '[]')
         FROM ${s}.balances WHERE subject = $1) AS balances,
      (SELECT COALESCE(json_agg(json_build_object('hold_id', hold_id, 'item', item, 'quantity', quantity,
         'created_at', created_at, 'expires_at', expires_at) ORDER BY hold_id), '[]')
         FROM ${s}.holds WHERE subject = $1) AS holds`;

  return async (subject: string): Promise<SubjectSnapshot | null> => {
    const result = await options.pool.query<SubjectRow>(sql, [subject]);
    const row = result.rows[0];
    if (row === undefined || !row.known) return null;
    return toSnapshot(subject, row);
  };
}

function toSnapshot(subject: string, row: SubjectRow): SubjectSnapshot {
  const counters = new Map<string, CounterState>();
  for (const [id, stored] of Object.entries(row.counters ?? {})) counters.set(id, fromStoredCounter(stored));

  const awards = new Map<string, AwardRecord>();
  for (const a of row.awards) {
    awards.set(a.code, { code: a.code, earnedAt: a.earned_at, retroactive: a.retroactive, claimedAt: a.claimed_at });
  }
  const balances: Balance[] = row.balances.map((b) => ({ subject, item: b.item, free: b.free, held: b.held }));
  const holds: HoldRecord[] = row.holds.map((h) => ({
    holdId: h.hold_id,
    subject,
    item: h.item,
    quantity: h.quantity,
    createdAt: h.created_at,
    expiresAt: h.expires_at,
    state: "held",
    settledAt: null,
  }));
  // Absent rather than null when the subject has no history (a backend reads both as "none").
  return { subject, counters, awards, balances, holds, ...(row.history_complete_for === null ? {} : { historyCompleteFor: row.history_complete_for }) };
}
