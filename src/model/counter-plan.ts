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
  /**
   * Preconditions (docs/semantics.md, "Preconditions"): codes that must all be awarded before this check
   * awards. Absent (never empty) for a milestone without any.
   */
  readonly requires?: readonly string[];
  /**
   * Seasonal milestones: `availableUntil` in epoch ms. Catch-up, a precondition landing and a backfill
   * award from stored state only while `now` is before it. Absent for a milestone that never closes.
   */
  readonly availableUntil?: number;
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

/** A check of the plan and the counter it is measured on. */
export interface PlannedCheck {
  readonly counter: CounterSpec;
  readonly check: ThresholdCheck;
}

const dependentsByPlan = new WeakMap<CounterPlan, ReadonlyMap<string, readonly PlannedCheck[]>>();

/**
 * Per milestone code, the checks that name it in `requires`, in plan order (counters, then their tiers),
 * so every backend resolves dependents in the same order. Empty for a plan without preconditions.
 */
export function dependentsOf(plan: CounterPlan): ReadonlyMap<string, readonly PlannedCheck[]> {
  let dependents = dependentsByPlan.get(plan);
  if (dependents === undefined) {
    const built = new Map<string, PlannedCheck[]>();
    for (const counter of plan.counters.values()) {
      for (const check of counter.checks) {
        for (const code of check.requires ?? []) {
          const list = built.get(code) ?? [];
          list.push({ counter, check });
          built.set(code, list);
        }
      }
    }
    dependents = built;
    dependentsByPlan.set(plan, dependents);
  }
  return dependents;
}

/** Whether a seasonal check is closed at `now` (nothing is awarded from stored state any more). */
export function closedAt(check: ThresholdCheck, now: number): boolean {
  return check.availableUntil !== undefined && now >= check.availableUntil;
}
