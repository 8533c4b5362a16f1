import { DAY_MS } from "../../definitions/compile-milestones.ts";
import { windowSum } from "../../counters/window-sum.ts";
import type { CounterPlan, CounterSpec, ThresholdCheck } from "../../model/counter-plan.ts";
import type { AwardRecord } from "../../model/award.ts";
import type { CheckProgress, SubjectApply } from "../contract/progression-backend.ts";
import { RECENT_BATCHES, type MemoryCounter, type MemorySubject } from "./memory-subject.ts";

/**
 * The apply algorithm of docs/semantics.md over one subject's in-memory state. Runs synchronously,
 * so it is atomic in a single-threaded process. The Redis backend runs the same steps in Lua.
 */

export interface AppliedIncrements {
  readonly duplicate: boolean;
  readonly reached: AwardRecord[];
  readonly progress: CheckProgress[];
  /** Rewards to grant for autoClaim awards (the caller credits the ledger in the same step). */
  readonly autoClaimed: { code: string; rewards: readonly { item: string; quantity: number }[] }[];
}

export function applyIncrements(
  state: MemorySubject,
  apply: SubjectApply,
  batchId: string,
  plan: CounterPlan,
  now: number,
  eventIdRetentionMs: number,
): AppliedIncrements {
  if (state.recentBatches.includes(batchId)) return { duplicate: true, reached: [], progress: [], autoClaimed: [] };

  const reached: AwardRecord[] = [];
  const autoClaimed: AppliedIncrements["autoClaimed"] = [];
  /** counter id -> day of its latest increment in this apply (for window progress). */
  const touched = new Map<string, number>();

  const award = (check: ThresholdCheck, earnedAt: number, retroactive: boolean): void => {
    const record: AwardRecord = { code: check.code, earnedAt, retroactive, claimedAt: check.autoClaimRewards ? now : null };
    state.awards.set(check.code, record);
    reached.push(record);
    if (check.autoClaimRewards) autoClaimed.push({ code: check.code, rewards: check.autoClaimRewards });
  };

  for (const [id, forgetAt] of state.seenEvents) if (forgetAt <= now) state.seenEvents.delete(id);

  for (const increment of apply.increments) {
    const spec = plan.counters.get(increment.counter);
    if (spec === undefined) continue;
    if (increment.eventId !== undefined) {
      if (state.seenEvents.has(increment.eventId)) continue;
      state.seenEvents.set(increment.eventId, now + eventIdRetentionMs);
    }
    const day = Math.floor(increment.at / DAY_MS);
    touched.set(spec.id, day);
    const counter = state.counters.get(spec.id) ?? newCounter(spec, increment.at);
    state.counters.set(spec.id, counter);

    switch (counter.kind) {
      case "sum": {
        const before = counter.value;
        const previousAt = counter.at;
        counter.value += increment.amount;
        counter.at = Math.max(counter.at, increment.at);
        for (const check of spec.checks) {
          if (state.awards.has(check.code) || counter.value < check.target) continue;
          const retroactive = before >= check.target;
          award(check, retroactive ? previousAt : increment.at, retroactive);
        }
        break;
      }
      case "window": {
        const previousAt = counter.at;
        const befores = spec.checks.map((check) => windowSum(counter.buckets, day, check.windowDays));
        counter.buckets.set(day, (counter.buckets.get(day) ?? 0) + increment.amount);
        counter.at = Math.max(counter.at, increment.at);
        pruneBuckets(counter.buckets, spec.keepDays);
        spec.checks.forEach((check, index) => {
          if (state.awards.has(check.code) || windowSum(counter.buckets, day, check.windowDays) < check.target) return;
          const retroactive = (befores[index] ?? 0) >= check.target;
          award(check, retroactive ? previousAt : increment.at, retroactive);
        });
        break;
      }
      case "days": {
        const before = counter.days.size;
        const previousAt = counter.at;
        counter.days.add(day);
        counter.lastDay = Math.max(counter.lastDay, day);
        counter.at = Math.max(counter.at, increment.at);
        for (const check of spec.checks) {
          if (state.awards.has(check.code) || counter.days.size < check.target) continue;
          const retroactive = before >= check.target;
          award(check, retroactive ? previousAt : increment.at, retroactive);
        }
        break;
      }
      case "gap": {
        const beforeMax = counter.maxGap;
        const beforeMaxAt = counter.maxGapAt;
        // A new counter starts with last = at, so its first increment measures a gap of 0.
        const gap = increment.at - counter.last;
        if (gap > counter.maxGap) {
          counter.maxGap = gap;
          counter.maxGapAt = increment.at;
        }
        counter.last = Math.max(counter.last, increment.at);
        for (const check of spec.checks) {
          if (state.awards.has(check.code)) continue;
          if (beforeMax >= check.target) award(check, beforeMaxAt, true);
          else if (gap >= check.target) award(check, increment.at, false);
        }
        break;
      }
    }
  }

  if (apply.catchUp) catchUp(state, plan, award);

  const progress: CheckProgress[] = [];
  for (const [counterId, day] of touched) {
    const spec = plan.counters.get(counterId);
    const counter = state.counters.get(counterId);
    if (spec === undefined || counter === undefined) continue;
    for (const check of spec.checks) {
      if (!state.awards.has(check.code)) progress.push({ code: check.code, current: measure(counter, check, day) });
    }
  }

  state.recentBatches.push(batchId);
  if (state.recentBatches.length > RECENT_BATCHES) state.recentBatches.shift();
  return { duplicate: false, reached, progress, autoClaimed };
}

function catchUp(state: MemorySubject, plan: CounterPlan, award: (check: ThresholdCheck, earnedAt: number, retroactive: boolean) => void): void {
  for (const spec of plan.counters.values()) {
    const counter = state.counters.get(spec.id);
    if (counter === undefined) continue;
    for (const check of spec.checks) {
      if (state.awards.has(check.code)) continue;
      if (bestMeasure(counter, check) >= check.target) {
        award(check, counter.kind === "gap" ? counter.maxGapAt : counter.at, true);
      }
    }
  }
}

function newCounter(spec: CounterSpec, at: number): MemoryCounter {
  switch (spec.kind) {
    case "sum":
      return { kind: "sum", value: 0, at };
    case "window":
      return { kind: "window", buckets: new Map(), at };
    case "days":
      return { kind: "days", days: new Set(), lastDay: Math.floor(at / DAY_MS), at };
    case "gap":
      // Created by its first increment, which has no previous one: last = at makes its gap 0.
      return { kind: "gap", last: at, maxGap: 0, maxGapAt: 0 };
  }
}

function pruneBuckets(buckets: Map<number, number>, keepDays: number): void {
  let newest = -Infinity;
  for (const day of buckets.keys()) newest = Math.max(newest, day);
  for (const day of buckets.keys()) if (day <= newest - keepDays) buckets.delete(day);
}

/** The measure a check compares now (window: the window ending on `day`). */
function measure(counter: MemoryCounter, check: ThresholdCheck, day: number): number {
  switch (counter.kind) {
    case "sum":
      return counter.value;
    case "window":
      return windowSum(counter.buckets, day, check.windowDays);
    case "days":
      return counter.days.size;
    case "gap":
      return counter.maxGap;
  }
}

/** The best the stored state can prove (catch-up): any window ending on a stored day. */
function bestMeasure(counter: MemoryCounter, check: ThresholdCheck): number {
  if (counter.kind !== "window") return measure(counter, check, 0);
  let best = 0;
  for (const day of counter.buckets.keys()) best = Math.max(best, windowSum(counter.buckets, day, check.windowDays));
  return best;
}
