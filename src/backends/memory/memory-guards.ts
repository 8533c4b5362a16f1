import type { GuardBreach, GuardCheck } from "../contract/progression-backend.ts";
import type { MemorySubject } from "./memory-subject.ts";

/** What the stat guards decided for one subject's batch part (docs/semantics.md, "Stat guards"). */
export interface GuardDecision {
  readonly refusedCounters: ReadonlySet<string>;
  readonly refusedTypes: ReadonlySet<string>;
  readonly breaches: readonly GuardBreach[];
  /** Writes the window usage of the triggers that were applied (called with the apply's commit). */
  commit(): void;
}

const NO_GUARD: GuardDecision = { refusedCounters: new Set(), refusedTypes: new Set(), breaches: [], commit: () => {} };

/**
 * Window guards, as includes/guards.lua does them: per trigger, the window index is floor(now / windowMs)
 * and the usage of an older window counts as 0. A trigger whose usage plus this batch part's amount would
 * pass its limit is refused whole (its counters and history rows), its usage unchanged; the others add
 * their amount. Computes only: the usage is written by `commit()`.
 */
export function checkGuards(state: MemorySubject, guards: readonly GuardCheck[] | undefined, now: number): GuardDecision {
  if (guards === undefined || guards.length === 0) return NO_GUARD;
  // One check per trigger (a caller listing one twice gets the sum, as the Redis codec merges them).
  const byTrigger = new Map<string, GuardCheck>();
  for (const guard of guards) {
    const earlier = byTrigger.get(guard.trigger);
    byTrigger.set(guard.trigger, earlier === undefined ? guard : { ...guard, amount: earlier.amount + guard.amount, counters: [...earlier.counters, ...guard.counters] });
  }
  const refusedCounters = new Set<string>();
  const refusedTypes = new Set<string>();
  const breaches: GuardBreach[] = [];
  const usage: [string, { window: number; used: number }][] = [];
  for (const guard of byTrigger.values()) {
    const window = Math.floor(now / guard.windowMs);
    const stored = state.guardUsage.get(guard.trigger);
    const value = (stored !== undefined && stored.window === window ? stored.used : 0) + guard.amount;
    if (value > guard.limit) {
      refusedTypes.add(guard.trigger);
      for (const counter of guard.counters) refusedCounters.add(counter);
      breaches.push({ trigger: guard.trigger, limit: guard.limit, windowMs: guard.windowMs, value });
    } else {
      usage.push([guard.trigger, { window, used: value }]);
    }
  }
  return {
    refusedCounters,
    refusedTypes,
    breaches,
    commit() {
      for (const [trigger, used] of usage) state.guardUsage.set(trigger, used);
    },
  };
}
