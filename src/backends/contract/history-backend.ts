import type { AwardRecord } from "../../model/award.ts";
import type { Balance } from "../../model/balance.ts";
import type { ThresholdCheck } from "../../model/counter-plan.ts";
import type { CounterKind, CounterState } from "../../model/counter-state.ts";
import type { HistoryPart, HistorySelector, HistoryStatus } from "../../model/history.ts";

/**
 * What a backend does for the event history (docs/semantics.md, "History"). The backend writes rollups
 * during `apply`; the engine replays them (src/history/) and hands the result back through `seed`.
 */

export interface SubjectHistory {
  readonly status: HistoryStatus;
  /** The rollups this backend still holds for the subject (the archive may hold older ones). */
  readonly parts: readonly HistoryPart[];
}

export interface SeedRequest {
  readonly subject: string;
  /** Written only if the subject's history version is still this one (nothing applied since it was read). */
  readonly expectVersion: number;
  /** The counter set the subject is complete for once this is written. */
  readonly counterSet: string;
  /** Counters replayed from history: they replace the stored ones. */
  readonly counters: readonly { readonly counter: string; readonly state: CounterState }[];
  /**
   * Checks the history met, with the time it met them: awarded (retroactive) unless already awarded, once
   * every code of their `requires` is awarded (stamped with the latest of those times), and a seasonal one
   * only while it is open (`now` before its `availableUntil`).
   */
  readonly awards: readonly { readonly check: ThresholdCheck; readonly earnedAt: number }[];
  /**
   * Checks on counters this seed does not replace that require (directly or through each other) one of
   * `awards`: when their last precondition lands in this seed and their stored counter passes (catch-up's
   * measure), awarded in the same step, on the same terms. Absent: none.
   */
  readonly dependents?: readonly SeedDependent[];
  readonly now: number;
}

/** A check a seed evaluates on the subject's stored counter. */
export interface SeedDependent {
  readonly counter: string;
  readonly kind: CounterKind;
  readonly check: ThresholdCheck;
}

export interface SeedResult {
  /** The subject changed since its history was read: nothing was written; read and replay again. */
  readonly conflict: boolean;
  readonly reached: readonly AwardRecord[];
  /** Balances changed by autoClaim rewards of `reached`. */
  readonly balances: readonly Balance[];
}

/** Archived rollups a backend's export handed over, to drop from the backend once they are stored. */
export interface ArchivedHistory {
  readonly subject: string;
  readonly parts: readonly HistoryPart[];
}

export interface HistoryBackend {
  /** Whether the subject's counters are complete for a counter set, without reading its rollups. */
  historyStatus(subject: string): Promise<HistoryStatus>;
  /** The subject's status and rollups (only those `selection` selects, when given), read in one atomic step. */
  readHistory(subject: string, selection?: readonly HistorySelector[]): Promise<SubjectHistory>;
  /** `historyStatus` of many subjects in one round trip (a backfill page). */
  historyStatuses(subjects: readonly string[]): Promise<readonly HistoryStatus[]>;
  /** `readHistory` of many subjects in one round trip, each atomic on its own. */
  readHistories(subjects: readonly string[], selection?: readonly HistorySelector[]): Promise<readonly SubjectHistory[]>;
  /** `seed` of many subjects in one round trip, each with its own version check. */
  seedMany(requests: readonly SeedRequest[]): Promise<readonly SeedResult[]>;
  seed(request: SeedRequest): Promise<SeedResult>;
  /** Remembers which counters a counter set holds (once per set; later calls change nothing). */
  registerCounterSet(counterSet: string, counters: readonly string[]): Promise<void>;
  /** The counters of a registered set, or null when this backend never saw it. */
  counterSetOf(counterSet: string): Promise<readonly string[] | null>;
  /**
   * Subjects with a history, in pages: start with cursor "0"; the returned cursor is "0" at the end.
   * A page may be empty before the end; every subject that had a history when the walk began is listed.
   */
  historySubjects(cursor: string, limit: number): Promise<{ readonly subjects: readonly string[]; readonly cursor: string }>;
}
