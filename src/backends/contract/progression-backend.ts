import type { AwardRecord } from "../../model/award.ts";
import type { Balance } from "../../model/balance.ts";
import type { SubjectSnapshot, SubjectState } from "../../model/subject-state.ts";
import type { Reward } from "../../model/milestone.ts";
import type { CounterPlan } from "../../model/counter-plan.ts";
import type { LedgerBackend } from "./ledger-backend.ts";
import type { ArchivedHistory, HistoryBackend } from "./history-backend.ts";
import type { HistoryEntry } from "../../model/history.ts";
import type { MilestoneCounts } from "../../model/milestone-stats.ts";
import type { RarityCounts } from "../../model/rarity.ts";

/**
 * The backend contract. The engine turns events into per-(subject, counter) increments and hands
 * them over in one batched, atomic apply; the backend increments, compares the plan's thresholds,
 * awards once and reports what is new. There are no per-event reads or read-modify-write cycles on
 * the caller's side: the Redis backend implements each subject group as one Lua call.
 *
 * Times are epoch milliseconds. `now` comes from the engine's clock; a backend may use its own
 * server time instead (the Redis backend does for hold expiry unless told otherwise).
 */

export interface CounterIncrement {
  readonly counter: string;
  /** Positive safe integer: the coalesced sum of the events' amounts. */
  readonly amount: number;
  /** Time of the latest event coalesced into this increment; it stamps any award it earns. */
  readonly at: number;
  /** Set for an event with its own id: applied at most once per subject within the retention. */
  readonly eventId?: string | undefined;
}

export interface SubjectApply {
  readonly subject: string;
  /** Sorted by `at` ascending; thresholds are compared after each one, in order. */
  readonly increments: readonly CounterIncrement[];
  /**
   * Catch-up: after the increments, compare every check of the plan against the stored counters,
   * awarding (as retroactive) anything already met that was never awarded.
   */
  readonly catchUp: boolean;
  /**
   * The events' rollups for the subject's history, written in the same atomic step as the increments (so
   * a duplicate batch adds none). Absent when the engine keeps no history.
   */
  readonly history?: readonly HistoryEntry[] | undefined;
  /**
   * Stat guards with a window limit, one per guarded trigger this subject's batch part has events of
   * (docs/semantics.md, "Stat guards"). Checked in the same atomic step as the increments: a trigger whose
   * window would pass its limit has none of its increments or history rows applied, and is reported in
   * `guarded`. Absent or empty: no guard.
   */
  readonly guards?: readonly GuardCheck[] | undefined;
}

/** One trigger's window guard, as the engine sends it with a subject's batch part. */
export interface GuardCheck {
  readonly trigger: string;
  /** The sum of this subject's event amounts of the trigger in this batch part. */
  readonly amount: number;
  /** The most the window may add up to (per subject, per trigger). */
  readonly limit: number;
  /** Window length in ms; windows are aligned to the epoch (window index = floor(now / windowMs)). */
  readonly windowMs: number;
  /** Ids of the plan's counters this trigger increments (their increments are refused with it). */
  readonly counters: readonly string[];
}

/** A window guard the apply refused: nothing of this trigger in the batch part was applied. */
export interface GuardBreach {
  readonly trigger: string;
  readonly limit: number;
  readonly windowMs: number;
  /** What the window would have reached with this batch part (already counted + amount). */
  readonly value: number;
}

export interface ApplyRequest {
  /** Unique per flush; the same id sent again for a subject is not applied again. */
  readonly batchId: string;
  readonly now: number;
  readonly plan: CounterPlan;
  readonly subjects: readonly SubjectApply[];
}

/** Current measure of an unawarded check whose counter this apply touched (for progress pushes). */
export interface CheckProgress {
  readonly code: string;
  readonly current: number;
}

/**
 * One subject's outcome of a batch. The apply keeps each subject's non-empty outcome (`reached`, with the
 * autoClaim claims in their `claimedAt`, and the items those claims credited) in an outbox keyed by the
 * batch id, in the same atomic step and for as long as the batch id stays in the ring of 16: a duplicate
 * answers it again, so a retry whose first reply was lost still learns what the batch did.
 */
export interface SubjectApplyResult {
  readonly subject: string;
  /**
   * True when this batch id had already been applied for the subject: nothing changed, and `reached` and
   * `balances` are what that first apply did (the outbox); `progress` is empty.
   */
  readonly duplicate: boolean;
  /** Milestones this batch awarded, in the order they were earned; `claimedAt` set for an autoClaim. */
  readonly reached: readonly AwardRecord[];
  readonly progress: readonly CheckProgress[];
  /** Balances of the items autoClaim rewards credited (current: after the change, or as they are now for a duplicate). */
  readonly balances: readonly Balance[];
  /** Window guards this apply refused (absent or empty when none; a duplicate reports none). */
  readonly guarded?: readonly GuardBreach[] | undefined;
}

/** Which rarity counts to read: the window of `windowDays` UTC days ending with `today`, for these codes. */
export interface RarityRequest {
  /** A UTC day number (floor(epoch ms / 86,400,000)). */
  readonly today: number;
  readonly windowDays: number;
  readonly codes: readonly string[];
}

export interface ClaimRequest {
  readonly subject: string;
  readonly code: string;
  readonly idempotencyKey: string;
  /** Granted into the subject's ledger in the same atomic step as the status change. */
  readonly rewards: readonly Reward[];
  readonly now: number;
}

export interface ClaimResult {
  readonly subject: string;
  readonly code: string;
  readonly claimedAt: number;
  readonly rewards: readonly Reward[];
  /** Balances of the rewarded items after the grant. */
  readonly balances: readonly Balance[];
  /** True when this was a retry of an earlier claim with the same key: nothing changed. */
  readonly replayed: boolean;
}

/** Whether a backend's store answers, for health checks. */
export interface BackendHealth {
  readonly ok: boolean;
  /** One line: what was checked and what it answered. */
  readonly detail: string;
}

export interface ProgressionBackend extends LedgerBackend, SnapshotSource, HistoryBackend {
  /** A name for logs and banners: "memory", "redis". */
  readonly kind: string;
  /** Checks the store answers (a PING); a backend without a remote store may leave it out. */
  health?(): Promise<BackendHealth>;
  /**
   * Applies each subject's increments atomically (per subject; subjects are independent) and reports
   * what is new. Throws BackendUnavailable when nothing was applied and the call may be retried.
   */
  apply(request: ApplyRequest): Promise<readonly SubjectApplyResult[]>;
  /** Counters and awards of one subject. */
  readState(subject: string): Promise<SubjectState>;
  /**
   * completed -> claimed plus the reward grant, atomically. Errors: NotCompleted, AlreadyClaimed
   * (claimed under another key), IdempotencyConflict (this key was used for another request).
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Removes everything the backend holds for the subject (a deletion request): progress, awards, history,
   * balances, holds, dedupe and idempotency records. Afterwards the subject is as one never seen; its
   * awards and claims are taken out of `milestoneStats` in the same step.
   */
  eraseSubject(subject: string): Promise<void>;
  /**
   * Per milestone code, how many players reached and claimed it. Kept in the same atomic step as each
   * award (apply, catch-up, seed), claim and autoClaim, so a duplicate batch or a replayed claim counts
   * nothing; a subject installed from a snapshot (restore) counts its awards once. Codes nobody reached
   * are absent.
   */
  milestoneStats(): Promise<ReadonlyMap<string, MilestoneCounts>>;
  /**
   * Rarity counts for the window of `windowDays` UTC days ending with `today` (a day number): players whose
   * latest apply falls in it, and per milestone those of them holding the award. Kept incrementally by the
   * apply (each award, and a subject's first apply of a day), never by scanning players (docs/semantics.md,
   * "Rarity").
   */
  rarityCounts(request: RarityRequest): Promise<RarityCounts>;
  close(): Promise<void>;
}

/**
 * What the durability jobs need from a backend. Both backends implement it.
 * A backend created with a `loader` calls it the first time it touches a subject it holds no state
 * for, and installs the snapshot before applying anything, so counting continues and no award repeats.
 */
export interface SnapshotSource {
  /** Removes and returns up to `limit` subjects changed since they were last taken. */
  takeDirtySubjects(limit: number): Promise<readonly string[]>;
  /** Puts subjects back into the dirty set (a snapshot attempt failed). */
  markDirty(subjects: readonly string[]): Promise<void>;
  /** Number of dirty subjects waiting (drives the adaptive snapshot interval). */
  dirtyCount(): Promise<number>;
  /** Snapshots of the subjects, with the history rollups the backend still holds (`history`). */
  exportSubjects(subjects: readonly string[]): Promise<readonly SubjectSnapshot[]>;
  /**
   * After the archive stored exported rollups: drops each part that still holds exactly the exported
   * values (days before `beforeDay`, and late parts of any day), and marks the subject's days before
   * `beforeDay` as archived (a later event on such a day is kept in a new part). Recent days stay.
   */
  dropArchivedHistory(archived: readonly ArchivedHistory[], beforeDay: number): Promise<void>;
}
