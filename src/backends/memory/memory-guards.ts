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

/** Being built: no guard refuses anything yet. */
export function checkGuards(_state: MemorySubject, _guards: readonly GuardCheck[] | undefined, _now: number): GuardDecision {
  return { refusedCounters: new Set(), refusedTypes: new Set(), breaches: [], commit: () => {} };
}
