import type { Reward } from "./milestone.ts";
import type { CounterKind } from "./counter-state.ts";

/**
 * What the store needs to know about the loaded milestones, derived once per definition load:
 * counters (shared by every milestone with the same trigger, kind and filter) and the thresholds
 * to compare after each increment. Backends never see rules or tag filters.
 */

export interface ThresholdCheck {
  /** Milestone code awarded when the check passes. */
  readonly code: string;
  /**
   * sum: counter value; window: window sum; days: distinct days; gap: milliseconds since the previous
   * increment. The check passes when the measured value is >= target.
   */
  readonly target: number;
  /** window only: how many UTC days (ending with the increment's day) the window spans. */
  readonly windowDays: number;
  /** Present when the milestone is `autoClaim`: these rewards are granted in the same atomic step. */
  readonly autoClaimRewards: readonly Reward[] | null;
}

export interface CounterSpec {
  /** Short, stable id (a hash of kind + trigger + filter): it names state in the store. */
  readonly id: string;
  readonly kind: CounterKind;
  readonly trigger: string;
  /** window only: buckets older than this many days are dropped (the largest windowDays). */
  readonly keepDays: number;
  /** Checks of active milestones, tiers sorted by target ascending. */
  readonly checks: readonly ThresholdCheck[];
}

export interface CounterPlan {
  /** Changes whenever counters or checks change; backends may cache per version. */
  readonly version: string;
  /**
   * Names the set of counter ids (not their checks): a subject whose counters are complete for one set
   * needs a backfill from history for the counters a later set adds.
   */
  readonly counterSet: string;
  readonly counters: ReadonlyMap<string, CounterSpec>;
}
