/**
 * The kinds of counter a rule can count on (the behaviour of each is in src/counters/<kind>.ts):
 * - `sum`: lifetime sum of amounts (count and custom rules).
 * - `window`: amounts bucketed by UTC day; a check compares the sum of its last `windowDays` buckets.
 * - `days`: number of distinct UTC days with an increment (daily rules).
 * - `gap`: last time seen; a check compares the time since the previous increment (returnAfterGap).
 */
export type CounterKind = "sum" | "window" | "days" | "gap";

/** Raw per-counter state, as stored and snapshotted; the engine derives progress from it. */
export type CounterState =
  | { readonly kind: "sum"; readonly value: number; readonly at: number }
  | { readonly kind: "window"; readonly buckets: ReadonlyMap<number, number>; readonly at: number }
  | { readonly kind: "days"; readonly value: number; readonly lastDay: number; readonly at: number }
  | {
      readonly kind: "gap";
      /** Time of the latest increment. */
      readonly last: number;
      /** Largest gap ever observed between two increments, and the time of the increment that closed it. */
      readonly maxGap: number;
      readonly maxGapAt: number;
    };
