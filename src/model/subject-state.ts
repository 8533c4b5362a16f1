import type { AwardRecord } from "./award.ts";
import type { Balance } from "./balance.ts";
import type { CounterState } from "./counter-state.ts";
import type { HoldRecord } from "./hold.ts";
import type { HistoryPart } from "./history.ts";

/** Counters and awards of one subject. */
export interface SubjectState {
  readonly subject: string;
  readonly counters: ReadonlyMap<string, CounterState>;
  readonly awards: ReadonlyMap<string, AwardRecord>;
}

/**
 * Everything durable about one subject: what the snapshot job writes to PostgreSQL and what a
 * backend restores when it has lost the subject (a fresh or flushed Redis). Idempotency records,
 * event-id and batch-id dedupe state are not part of it (they are short-lived by design).
 */
export interface SubjectSnapshot extends SubjectState {
  /** Non-zero balances. */
  readonly balances: readonly Balance[];
  /** Open holds (state "held"). */
  readonly holds: readonly HoldRecord[];
  /** History rollups the backend still holds (the archive keeps them once written). */
  readonly history?: readonly HistoryPart[];
  /** The counter set the subject's counters are complete for (`HistoryStatus.completeFor`). */
  readonly historyCompleteFor?: string | null;
}

/** Loads a subject's last snapshot (or null if it never had one); the restore hook of a backend. */
export type SubjectLoader = (subject: string) => Promise<SubjectSnapshot | null>;
