import { dayOf } from "../model/utc-day.ts";
import type { CounterBehaviour } from "./counter-kind.ts";
import { crossedAt, dec36, enc36, storedInteger } from "./counter-kind.ts";

/**
 * `window`: amounts bucketed by UTC day (window rules). A check sums the buckets of the `windowDays`
 * days ending on a day; buckets older than the counter's largest window (`keepDays`) are dropped.
 * Lua twin: includes/counters/window.lua.
 */
export interface LiveWindow {
  readonly kind: "window";
  readonly buckets: Map<number, number>;
  /** Time of the latest increment. */
  at: number;
}

export interface StoredWindow {
  readonly kind: "window";
  readonly at: number;
  /** UTC day -> amount. */
  readonly buckets: Readonly<Record<string, number>>;
}

/** Window rules span at most 366 days, so older buckets can never count again. */
const MAX_WINDOW_DAYS = 366;

/** Sum of the day buckets of a window that ends on `endDay` and spans `windowDays` UTC days. */
export function windowSum(buckets: ReadonlyMap<number, number>, endDay: number, windowDays: number): number {
  let sum = 0;
  for (const [day, amount] of buckets) if (day <= endDay && day > endDay - windowDays) sum += amount;
  return sum;
}

export const windowCounter: CounterBehaviour<"window", LiveWindow, StoredWindow> = {
  kind: "window",
  scriptCode: "w",
  textTag: "W",

  create: (increment) => ({ kind: "window", buckets: new Map(), at: increment.at }),

  clone: (live) => ({ kind: "window", buckets: new Map(live.buckets), at: live.at }),

  add(live, increment, spec, awards) {
    const { amount, at, day } = increment;
    const previousAt = live.at;
    const before = spec.checks.map((check) => windowSum(live.buckets, day, check.windowDays));
    live.buckets.set(day, (live.buckets.get(day) ?? 0) + amount);
    if (at > live.at) live.at = at;
    let newest = -Infinity;
    for (const bucketDay of live.buckets.keys()) if (bucketDay > newest) newest = bucketDay;
    for (const bucketDay of live.buckets.keys()) if (bucketDay <= newest - spec.keepDays) live.buckets.delete(bucketDay);
    spec.checks.forEach((check, index) => {
      if (awards.isAwarded(check.code) || windowSum(live.buckets, day, check.windowDays) < check.target) return;
      const retroactive = (before[index] ?? 0) >= check.target;
      awards.award(check, retroactive ? previousAt : at, retroactive);
    });
  },

  measure: (live, check, day) => windowSum(live.buckets, day, check.windowDays),
  proven(live, check) {
    // Any window ending on a stored day is proven; the best one counts.
    let best = 0;
    for (const day of live.buckets.keys()) best = Math.max(best, windowSum(live.buckets, day, check.windowDays));
    return { measure: best, at: live.at };
  },
  measureState: (state, check, day) => windowSum(state.buckets, day, check.windowDays),

  // Each check compares the window ending on each day with events, as it stood after that day; met at
  // the event that took it there when the day's raw events are kept, else at the day's last event.
  replay(days, spec, met) {
    const all = new Map<number, number>();
    const open = new Set(spec.checks);
    let at = 0;
    for (const day of days) {
      all.set(day.day, (all.get(day.day) ?? 0) + day.sum);
      at = Math.max(at, day.lastAt);
      for (const check of open) {
        const total = windowSum(all, day.day, check.windowDays);
        if (total < check.target) continue;
        met(check, crossedAt(day, total - day.sum, check.target, day.lastAt));
        open.delete(check);
      }
    }
    const newest = (days[days.length - 1] as (typeof days)[number]).day;
    const buckets = new Map([...all].filter(([bucketDay]) => bucketDay > newest - Math.max(1, spec.keepDays)));
    return { kind: "window", buckets, at };
  },

  toState: (live) => ({ kind: "window", buckets: new Map(live.buckets), at: live.at }),
  fromState: (state) => ({ kind: "window", buckets: new Map(state.buckets), at: state.at }),

  // "W<at>[,<n0>.<n1>...]": n_i is the amount of day(at) - i ("" for none), base 36.
  encodeText(state) {
    if (state.buckets.size === 0) return `W${enc36(state.at)}`;
    const ref = dayOf(state.at);
    const oldest = Math.min(ref, ...state.buckets.keys());
    const amounts: string[] = [];
    for (let day = ref; day >= oldest; day -= 1) {
      const amount = state.buckets.get(day);
      amounts.push(amount === undefined ? "" : enc36(amount));
    }
    return `W${enc36(state.at)},${amounts.join(".")}`;
  },
  decodeText(raw) {
    if (raw[0] !== "W") return null;
    const [atText, list] = raw.slice(1).split(",");
    const at = dec36(atText);
    const buckets = new Map<number, number>();
    (list ?? "").split(".").forEach((amount, offset) => {
      if (amount !== "") buckets.set(dayOf(at) - offset, dec36(amount));
    });
    return { kind: "window", buckets: new Map([...buckets].sort((x, y) => x[0] - y[0])), at };
  },

  toStored(state) {
    const buckets: Record<string, number> = {};
    for (const [day, amount] of state.buckets) buckets[String(storedInteger(day, "window day"))] = storedInteger(amount, "window amount");
    return { kind: "window", at: storedInteger(state.at, "counter at"), buckets };
  },
  fromStored: (stored) => ({ kind: "window", at: stored.at, buckets: new Map(Object.entries(stored.buckets).map(([day, amount]) => [Number(day), amount])) }),
  storedJson(state) {
    const buckets: string[] = [];
    for (const [day, amount] of state.buckets) buckets.push(`"${storedInteger(day, "window day")}":${storedInteger(amount, "window amount")}`);
    return `{"kind":"window","at":${storedInteger(state.at, "counter at")},"buckets":{${buckets.join(",")}}}`;
  },
  merge(a, b) {
    // Checked before copying anything: most merges of an unchanged counter allocate nothing.
    let grew = b.at > a.at;
    for (const day in b.buckets) if ((b.buckets[day] ?? 0) > (a.buckets[day] ?? -1)) grew = true;
    if (!grew) return a;
    const buckets: Record<string, number> = { ...a.buckets };
    for (const day in b.buckets) buckets[day] = Math.max(b.buckets[day] ?? 0, buckets[day] ?? 0);
    const newest = Math.max(...Object.keys(buckets).map(Number));
    for (const day of Object.keys(buckets)) if (Number(day) <= newest - MAX_WINDOW_DAYS) delete buckets[day];
    return { kind: "window", at: Math.max(a.at, b.at), buckets };
  },
};
