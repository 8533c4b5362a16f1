import type { CounterKind } from "../../src/model/counter-state.ts";
import type { CounterPlan, CounterSpec, ThresholdCheck } from "../../src/model/counter-plan.ts";
import { counterIdFor } from "../../src/rules/counter-id.ts";

/** Hand-made counter plans for backend-level tests and the store benchmark (no vitest imports). */

export function check(code: string, target: number, extra: Partial<ThresholdCheck> = {}): ThresholdCheck {
  return { code, target, windowDays: 1, autoClaimRewards: null, ...extra };
}

export function counter(id: string, kind: CounterKind, checks: ThresholdCheck[], keepDays = 1): CounterSpec {
  return { id, kind, trigger: id, keepDays, checks };
}

export function planOf(...counters: CounterSpec[]): CounterPlan {
  return {
    version: counters.map((c) => `${c.id}:${c.checks.map((k) => `${k.code}@${k.target}`).join("|")}`).join(";"),
    counterSet: counterIdFor(counters.map((c) => c.id).sort().join(",")),
    counters: new Map(counters.map((c) => [c.id, c])),
  };
}

export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 0, 1, 12);
