import { dayOf } from "../model/utc-day.ts";
import type { CounterBehaviour } from "./counter-kind.ts";
import { awardCrossedTiers, dec36, enc36, replayTiers, storedInteger } from "./counter-kind.ts";

/**
 * `days`: the number of distinct UTC days with an increment (daily rules); nothing ever resets.
 * Lua twin: includes/counters/days.lua, which keeps the days as a bitmask of the 53 days ending on
 * the latest one (docs/semantics.md); the embedded backend keeps the whole set.
 */
export interface LiveDays {
  readonly kind: "days";
  readonly days: Set<number>;
  lastDay: number;
  /** Time of the latest increment. */
  at: number;
}

export interface StoredDays {
  readonly kind: "days";
  readonly value: number;
  readonly lastDay: number;
  readonly at: number;
}

/** Days a Redis counter can tell apart below its latest one (an exact bitmask in a Lua double). */
export const DAY_MASK_BITS = 53;

export const daysCounter: CounterBehaviour<"days", LiveDays, StoredDays> = {
  kind: "days",
  scriptCode: "d",
  textTag: "D",

  create: (increment) => ({ kind: "days", days: new Set(), lastDay: increment.day, at: increment.at }),

  clone: (live) => ({ kind: "days", days: new Set(live.days), lastDay: live.lastDay, at: live.at }),

  add(live, increment, spec, awards) {
    const before = live.days.size;
    const previousAt = live.at;
    live.days.add(increment.day);
    if (increment.day > live.lastDay) live.lastDay = increment.day;
    if (increment.at > live.at) live.at = increment.at;
    awardCrossedTiers(spec.checks, before, live.days.size, previousAt, increment.at, awards);
  },

  measure: (live) => live.days.size,
  proven: (live) => ({ measure: live.days.size, at: live.at }),
  measureState: (state) => state.value,

  // A new day counts with its first event: exact.
  replay(days, spec, met) {
    let value = 0;
    replayTiers(days, spec.checks, met, () => (value += 1), (day) => day.firstAt);
    const last = days[days.length - 1] as (typeof days)[number];
    let at = 0;
    for (const day of days) at = Math.max(at, day.lastAt);
    return { kind: "days", value, lastDay: last.day, at };
  },

  toState: (live) => ({ kind: "days", value: live.days.size, lastDay: live.lastDay, at: live.at }),
  /**
   * A snapshot keeps only the count and the last day, so the restored set holds placeholder days
   * ending on the last one: the count stays exact, and a late event on an old day may be counted
   * again (the documented restore limitation).
   */
  fromState(state) {
    const days = new Set<number>();
    for (let i = 0; i < state.value; i += 1) days.add(state.lastDay - i);
    return { kind: "days", days, lastDay: state.lastDay, at: state.at };
  },

  // "D<value>,<at>,<mask>": lastDay = day(at); mask bit i = day lastDay - i seen. A snapshot has only
  // the count, so the restored mask marks lastDay and the days just before it (as fromState does).
  encodeText: (state) => `D${enc36(state.value)},${enc36(state.at)},${enc36(2 ** Math.min(state.value, DAY_MASK_BITS) - 1)}`,
  decodeText(raw) {
    if (raw[0] !== "D") return null;
    const [value, at] = raw.slice(1).split(",");
    const time = dec36(at);
    return { kind: "days", value: dec36(value), lastDay: dayOf(time), at: time };
  },

  toStored: (state) => ({
    kind: "days",
    value: storedInteger(state.value, "days value"),
    lastDay: storedInteger(state.lastDay, "days lastDay"),
    at: storedInteger(state.at, "counter at"),
  }),
  fromStored: (stored) => ({ kind: "days", value: stored.value, lastDay: stored.lastDay, at: stored.at }),
  storedJson: (state) =>
    `{"kind":"days","value":${storedInteger(state.value, "days value")},"lastDay":${storedInteger(state.lastDay, "days lastDay")},"at":${storedInteger(state.at, "counter at")}}`,
  merge: (a, b) =>
    b.value > a.value || b.lastDay > a.lastDay || b.at > a.at
      ? { kind: "days", value: Math.max(a.value, b.value), lastDay: Math.max(a.lastDay, b.lastDay), at: Math.max(a.at, b.at) }
      : a,
};
