import { counterKind, type LiveCounter } from "../../counters/counter-kinds.ts";
import type { AwardRecord } from "../../model/award.ts";
import { closedAt, dependentsOf, type CounterPlan, type PlannedCheck, type ThresholdCheck } from "../../model/counter-plan.ts";
import type { Reward } from "../../model/milestone.ts";
import { dayOf } from "../../model/utc-day.ts";
import type { CheckProgress, SubjectApply } from "../contract/progression-backend.ts";
import { RECENT_BATCHES, type MemorySubject } from "./memory-subject.ts";
import { writeHistory } from "./memory-history.ts";
import type { HistoryEntry } from "../../model/history.ts";
import type { GuardBreach } from "../contract/progression-backend.ts";
import { checkGuards } from "./memory-guards.ts";

/**
 * The apply algorithm of docs/semantics.md over one subject's in-memory state; what each counter kind
 * does is in src/counters/. It only computes: nothing is written to `state` until `commit()`, so the
 * caller can refuse the whole apply (e.g. a reward that would overflow a balance) with nothing changed.
 */

export interface AppliedIncrements {
  readonly duplicate: boolean;
  readonly reached: AwardRecord[];
  readonly progress: CheckProgress[];
  /** Rewards of autoClaim awards, to grant in the same step. */
  readonly autoClaimed: { code: string; rewards: readonly Reward[] }[];
  /** Window guards refused: none of their trigger's increments or history rows were applied. */
  readonly guarded: readonly GuardBreach[];
  /** Leaves an autoClaim award completed but unclaimed (its rewards cannot be granted). */
  unclaim(code: string): void;
  /** Writes the new counters, awards, seen event ids and batch id into the subject's state (a batch leaving the ring takes its outbox entry along). */
  commit(): void;
}

export function applyIncrements(
  state: MemorySubject,
  apply: SubjectApply,
  batchId: string,
  plan: CounterPlan,
  now: number,
  eventIdRetentionMs: number,
): AppliedIncrements {
  if (state.recentBatches.includes(batchId)) {
    return { duplicate: true, reached: [], progress: [], autoClaimed: [], guarded: [], unclaim: () => {}, commit: () => {} };
  }

  // Working copies: counters this apply touches, awards and event ids it adds.
  const counters = new Map<string, LiveCounter>();
  const newAwards = new Map<string, AwardRecord>();
  const newEventIds = new Map<string, number>();
  const reached: AwardRecord[] = [];
  const autoClaimed: AppliedIncrements["autoClaimed"] = [];
  /** counter id -> day of its latest increment in this apply (for window progress). */
  const touched = new Map<string, number>();

  // Preconditions (docs/semantics.md, "Preconditions"): a check that passes before all its required codes are
  // awarded waits here (the time it first passed); when the last of them lands, it is awarded.
  const dependents = dependentsOf(plan);
  const waiting = new Map<string, number>();
  const awardedAt = (code: string): number | undefined => (newAwards.get(code) ?? state.awards.get(code))?.earnedAt;
  const awards = {
    isAwarded: (code: string): boolean => state.awards.has(code) || newAwards.has(code),
    award(check: ThresholdCheck, passedAt: number, retroactive: boolean): void {
      let earnedAt = passedAt;
      for (const required of check.requires ?? []) {
        const at = awardedAt(required);
        if (at === undefined) {
          if (!waiting.has(check.code)) waiting.set(check.code, passedAt);
          return;
        }
        if (at > earnedAt) earnedAt = at;
      }
      const record: AwardRecord = { code: check.code, earnedAt, retroactive, claimedAt: check.autoClaimRewards ? now : null };
      newAwards.set(check.code, record);
      reached.push(record);
      if (check.autoClaimRewards) autoClaimed.push({ code: check.code, rewards: check.autoClaimRewards });
      const waitingOnThis = dependents.get(check.code);
      if (waitingOnThis !== undefined) resolveDependents(waitingOnThis, retroactive);
    },
  };
  /**
   * A precondition just landed: each dependent whose own check passes is awarded with it, flagged as it is
   * (chains recurse through `award`): one that passed earlier in this apply stamped from that passing, one
   * whose stored counter passes (catch-up's measure) only while a seasonal one is open.
   */
  const resolveDependents = (list: readonly PlannedCheck[], retroactive: boolean): void => {
    for (const { counter: spec, check } of list) {
      if (awards.isAwarded(check.code)) continue;
      const passedAt = waiting.get(check.code);
      if (passedAt !== undefined) {
        awards.award(check, passedAt, retroactive);
        continue;
      }
      if (closedAt(check, now)) continue;
      const counter = stored(spec.id);
      if (counter === undefined || counter.kind !== spec.kind) continue;
      const proven = counterKind(spec.kind).proven(counter, check);
      if (proven.measure >= check.target) awards.award(check, proven.at, retroactive);
    }
  };
  /** A counter as this apply sees it now, without making it a working copy (reading does not write it). */
  const stored = (id: string): LiveCounter | undefined => counters.get(id) ?? state.counters.get(id);
  const working = (id: string): LiveCounter | undefined => {
    let counter = counters.get(id);
    if (counter === undefined) {
      const stored = state.counters.get(id);
      if (stored === undefined) return undefined;
      counter = counterKind(stored.kind).clone(stored);
      counters.set(id, counter);
    }
    return counter;
  };
  const seenEvent = (eventId: string): boolean => {
    const forgetAt = state.seenEvents.get(eventId);
    return newEventIds.has(eventId) || (forgetAt !== undefined && forgetAt > now);
  };

  // Stat guards: a trigger this batch part would take past its window limit has nothing applied.
  const guards = checkGuards(state, apply.guards, now);

  for (const increment of apply.increments) {
    const spec = plan.counters.get(increment.counter);
    if (spec === undefined || guards.refusedCounters.has(increment.counter)) continue;
    if (increment.eventId !== undefined) {
      if (seenEvent(increment.eventId)) continue;
      newEventIds.set(increment.eventId, now + eventIdRetentionMs);
    }
    const counted = { amount: increment.amount, at: increment.at, day: dayOf(increment.at) };
    touched.set(spec.id, counted.day);
    const behaviour = counterKind(spec.kind);
    let counter = working(spec.id);
    if (counter === undefined || counter.kind !== spec.kind) {
      counter = behaviour.create(counted);
      counters.set(spec.id, counter);
    }
    behaviour.add(counter, counted, spec, awards);
  }

  if (apply.catchUp) {
    for (const spec of plan.counters.values()) {
      const counter = working(spec.id);
      if (counter === undefined || counter.kind !== spec.kind) continue;
      for (const check of spec.checks) {
        // A seasonal milestone is caught up only while it is open (awards made in its period stay).
        if (awards.isAwarded(check.code) || closedAt(check, now)) continue;
        const proven = counterKind(spec.kind).proven(counter, check);
        if (proven.measure >= check.target) awards.award(check, proven.at, true);
      }
    }
  }

  // History entries of events with ids are kept once, like their increments (`h/<id>` apart from `<id>/<counter>`).
  const history: HistoryEntry[] = [];
  for (const entry of apply.history ?? []) {
    if (guards.refusedTypes.has(entry.type)) continue;
    if (entry.eventId !== undefined) {
      const key = `h/${entry.eventId}`;
      if (seenEvent(key)) continue;
      newEventIds.set(key, now + eventIdRetentionMs);
    }
    history.push(entry);
  }

  const progress: CheckProgress[] = [];
  for (const [counterId, day] of touched) {
    const spec = plan.counters.get(counterId);
    const counter = counters.get(counterId);
    if (spec === undefined || counter === undefined) continue;
    for (const check of spec.checks) {
      if (!awards.isAwarded(check.code)) progress.push({ code: check.code, current: counterKind(spec.kind).measure(counter, check, day) });
    }
  }

  return {
    duplicate: false,
    reached,
    progress,
    autoClaimed,
    guarded: guards.breaches,
    unclaim(code) {
      const record = newAwards.get(code);
      if (record === undefined) return;
      const unclaimed = { ...record, claimedAt: null };
      newAwards.set(code, unclaimed);
      reached[reached.indexOf(record)] = unclaimed;
    },
    commit() {
      for (const [eventId, forgetAt] of state.seenEvents) if (forgetAt <= now) state.seenEvents.delete(eventId);
      for (const [eventId, forgetAt] of newEventIds) state.seenEvents.set(eventId, forgetAt);
      for (const [id, counter] of counters) state.counters.set(id, counter);
      for (const [code, record] of newAwards) state.awards.set(code, record);
      writeHistory(state.history, history, plan.counterSet);
      guards.commit();
      state.recentBatches.push(batchId);
      // The oldest batch leaves the ring, and its outbox entry with it.
      if (state.recentBatches.length > RECENT_BATCHES) state.outbox.delete(state.recentBatches.shift() ?? "");
    },
  };
}
