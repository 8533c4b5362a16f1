import type { CounterBehaviour } from "./counter-kind.ts";
import { awardCrossedTiers, crossedAt, dec36, enc36, replayTiers, storedInteger } from "./counter-kind.ts";

/** `sum`: the lifetime sum of amounts (count and custom rules). Lua twin: includes/counters/sum.lua. */
export interface LiveSum {
  readonly kind: "sum";
  value: number;
  /** Time of the latest increment. */
  at: number;
}

export interface StoredSum {
  readonly kind: "sum";
  readonly value: number;
  readonly at: number;
}

export const sumCounter: CounterBehaviour<"sum", LiveSum, StoredSum> = {
  kind: "sum",
  scriptCode: "s",
  textTag: "",

  create: (increment) => ({ kind: "sum", value: 0, at: increment.at }),

  clone: (live) => ({ ...live }),

  add(live, increment, spec, awards) {
    const before = live.value;
    const previousAt = live.at;
    live.value += increment.amount;
    if (increment.at > live.at) live.at = increment.at;
    awardCrossedTiers(spec.checks, before, live.value, previousAt, increment.at, awards);
  },

  measure: (live) => live.value,
  proven: (live) => ({ measure: live.value, at: live.at }),
  measureState: (state) => state.value,

  // The threshold is crossed during the day: at the event that crossed it when the day's raw events are
  // kept, else at its last event (the latest time it can have been).
  replay(days, spec, met) {
    let value = 0;
    let at = 0;
    replayTiers(days, spec.checks, met, (day) => (value += day.sum), (day, before, target) => crossedAt(day, before, target, day.lastAt));
    for (const day of days) at = Math.max(at, day.lastAt);
    return { kind: "sum", value, at };
  },

  toState: (live) => ({ kind: "sum", value: live.value, at: live.at }),
  fromState: (state) => ({ kind: "sum", value: state.value, at: state.at }),

  // "<value>,<at>" in base 36: the most common counter carries no kind letter.
  encodeText: (state) => `${enc36(state.value)},${enc36(state.at)}`,
  decodeText(raw) {
    const [value, at, extra] = raw.split(",");
    if (value === undefined || at === undefined || extra !== undefined) return null;
    return { kind: "sum", value: dec36(value), at: dec36(at) };
  },

  toStored: (state) => ({ kind: "sum", value: storedInteger(state.value, "sum value"), at: storedInteger(state.at, "counter at") }),
  fromStored: (stored) => ({ kind: "sum", value: stored.value, at: stored.at }),
  storedJson: (state) => `{"kind":"sum","value":${storedInteger(state.value, "sum value")},"at":${storedInteger(state.at, "counter at")}}`,
  merge: (a, b) => (b.value > a.value || b.at > a.at ? { kind: "sum", value: Math.max(a.value, b.value), at: Math.max(a.at, b.at) } : a),
};
