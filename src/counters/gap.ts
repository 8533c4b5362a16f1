import type { CounterBehaviour } from "./counter-kind.ts";
import type { ThresholdCheck } from "../model/counter-plan.ts";
import { dec36, enc36, storedInteger } from "./counter-kind.ts";

/**
 * `gap`: the time since the previous increment (returnAfterGap rules). The first increment ever has
 * no previous one and measures nothing; a late increment (older than `last`) measures nothing and
 * leaves `last` alone. `maxGap` keeps the largest gap seen, with the time of the increment that closed
 * it. Lua twin: includes/counters/gap.lua.
 */
export interface LiveGap {
  readonly kind: "gap";
  last: number;
  maxGap: number;
  maxGapAt: number;
}

export interface StoredGap {
  readonly kind: "gap";
  readonly last: number;
  readonly maxGap: number;
  readonly maxGapAt: number;
}

export const gapCounter: CounterBehaviour<"gap", LiveGap, StoredGap> = {
  kind: "gap",
  scriptCode: "g",
  textTag: "G",

  // Created by its first increment: last = at makes that increment's gap 0.
  create: (increment) => ({ kind: "gap", last: increment.at, maxGap: 0, maxGapAt: 0 }),

  clone: (live) => ({ ...live }),

  add(live, increment, spec, awards) {
    const beforeMax = live.maxGap;
    const beforeMaxAt = live.maxGapAt;
    const gap = increment.at - live.last;
    if (gap > live.maxGap) {
      live.maxGap = gap;
      live.maxGapAt = increment.at;
    }
    if (increment.at > live.last) live.last = increment.at;
    for (const check of spec.checks) {
      if (awards.isAwarded(check.code)) continue;
      if (beforeMax >= check.target) awards.award(check, beforeMaxAt, true);
      else if (gap >= check.target) awards.award(check, increment.at, false);
      else break;
    }
  },

  measure: (live) => live.maxGap,
  proven: (live) => ({ measure: live.maxGap, at: live.maxGapAt }),
  measureState: (state) => state.maxGap,

  // Gaps between days are exact (a day's first event after the previous day's last); a rollup does not
  // keep the gaps inside one day, which are shorter than a day: the day's raw events do, when kept.
  replay(days, spec, met) {
    let last = Number.NaN;
    let maxGap = 0;
    let maxGapAt = 0;
    let next = 0;
    for (const day of days) {
      const events = day.events;
      if (events !== undefined) {
        for (let i = 0; i < events.length; i += 2) {
          const at = events[i] as number;
          if (!Number.isNaN(last) && at - last > maxGap) {
            maxGap = at - last;
            maxGapAt = at;
          }
          while (next < spec.checks.length && maxGap >= (spec.checks[next] as ThresholdCheck).target) met(spec.checks[next++] as ThresholdCheck, maxGapAt);
          last = Number.isNaN(last) ? at : Math.max(last, at);
        }
        continue;
      }
      if (!Number.isNaN(last)) {
        const gap = day.firstAt - last;
        if (gap > maxGap) {
          maxGap = gap;
          maxGapAt = day.firstAt;
        }
        while (next < spec.checks.length && maxGap >= (spec.checks[next] as ThresholdCheck).target) met(spec.checks[next++] as ThresholdCheck, maxGapAt);
      }
      last = Number.isNaN(last) ? day.lastAt : Math.max(last, day.lastAt);
    }
    return { kind: "gap", last, maxGap, maxGapAt };
  },

  toState: (live) => ({ kind: "gap", last: live.last, maxGap: live.maxGap, maxGapAt: live.maxGapAt }),
  fromState: (state) => ({ kind: "gap", last: state.last, maxGap: state.maxGap, maxGapAt: state.maxGapAt }),

  // "G<last>,<maxGap>,<maxGapAt>" in base 36.
  encodeText: (state) => `G${enc36(state.last)},${enc36(state.maxGap)},${enc36(state.maxGapAt)}`,
  decodeText(raw) {
    if (raw[0] !== "G") return null;
    const [last, maxGap, maxGapAt] = raw.slice(1).split(",");
    return { kind: "gap", last: dec36(last), maxGap: dec36(maxGap), maxGapAt: dec36(maxGapAt) };
  },

  toStored: (state) => ({
    kind: "gap",
    last: storedInteger(state.last, "gap last"),
    maxGap: storedInteger(state.maxGap, "gap maxGap"),
    maxGapAt: storedInteger(state.maxGapAt, "gap maxGapAt"),
  }),
  fromStored: (stored) => ({ kind: "gap", last: stored.last, maxGap: stored.maxGap, maxGapAt: stored.maxGapAt }),
  storedJson: (state) =>
    `{"kind":"gap","last":${storedInteger(state.last, "gap last")},"maxGap":${storedInteger(state.maxGap, "gap maxGap")},"maxGapAt":${storedInteger(state.maxGapAt, "gap maxGapAt")}}`,
  merge(a, b) {
    if (b.last <= a.last && b.maxGap <= a.maxGap) return a;
    const widest = b.maxGap > a.maxGap ? b : a;
    return { kind: "gap", last: Math.max(a.last, b.last), maxGap: widest.maxGap, maxGapAt: widest.maxGapAt };
  },
};
