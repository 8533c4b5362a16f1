import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromStoredCounter, mergeCounters, storedCountersJson, toStoredCounter } from "../../src/durability/postgres/counter-json.ts";
import type { CounterState } from "../../src/model/counter-state.ts";

const time = fc.integer({ min: 0, max: 2 ** 40 });
const small = fc.nat(10_000);
const counter: fc.Arbitrary<CounterState> = fc.oneof(
  fc.record({ kind: fc.constant("sum" as const), value: small, at: time }),
  fc.record({ kind: fc.constant("days" as const), value: small, lastDay: fc.nat(30_000), at: time }),
  fc.record({ kind: fc.constant("gap" as const), last: time, maxGap: time, maxGapAt: time }),
  fc.record({
    kind: fc.constant("window" as const),
    at: time,
    buckets: fc.array(fc.tuple(fc.integer({ min: 20_000, max: 20_010 }), small), { maxLength: 5 }).map((entries) => new Map(entries)),
  }),
);
const counters = fc.dictionary(fc.constantFrom("a", "b", "c"), counter).map((record) => new Map(Object.entries(record)));

/** Every number a counter state carries must be >= in `after` than in `before` (same kind). */
function dominates(after: CounterState, before: CounterState): boolean {
  if (after.kind !== before.kind) return true;
  switch (before.kind) {
    case "sum":
      return after.kind === "sum" && after.value >= before.value && after.at >= before.at;
    case "days":
      return after.kind === "days" && after.value >= before.value && after.lastDay >= before.lastDay && after.at >= before.at;
    case "gap":
      return after.kind === "gap" && after.last >= before.last && after.maxGap >= before.maxGap;
    case "window":
      return after.kind === "window" && after.at >= before.at && [...before.buckets].every(([day, amount]) => (after.buckets.get(day) ?? -1) >= amount);
  }
}

describe("stored counters merge", () => {
  it("never lowers anything either side had, whatever the order, and is idempotent", () => {
    fc.assert(
      fc.property(counters, counters, (first, second) => {
        const once = mergeCounters(undefined, first).merged;
        const both = mergeCounters(once, second);
        for (const [id, state] of [...first, ...second]) {
          const merged = both.merged[id];
          expect(merged).toBeDefined();
          if (merged !== undefined && merged.kind === state.kind) expect(dominates(fromStoredCounter(merged), state)).toBe(true);
        }
        // Applying the same snapshot again changes nothing.
        const again = mergeCounters(both.merged, second);
        expect(again.changed).toBe(false);
        expect(again.merged).toEqual(both.merged);
      }),
    );
  });

  it("keeps the widest gap with the time that closed it, and round-trips every kind", () => {
    const wide = mergeCounters(undefined, new Map([["g", { kind: "gap", last: 100, maxGap: 50, maxGapAt: 90 } as CounterState]])).merged;
    const narrowLater = mergeCounters(wide, new Map([["g", { kind: "gap", last: 200, maxGap: 10, maxGapAt: 200 } as CounterState]]));
    expect(narrowLater.merged.g).toEqual({ kind: "gap", last: 200, maxGap: 50, maxGapAt: 90 });
    fc.assert(
      fc.property(counter, (state) => {
        expect(fromStoredCounter(toStoredCounter(state))).toEqual(state);
      }),
    );
  });

  it("writes the same JSON directly as the merge path builds (the first-snapshot fast path)", () => {
    fc.assert(
      fc.property(counters, (state) => {
        expect(JSON.parse(storedCountersJson(state))).toEqual(mergeCounters(undefined, state).merged);
      }),
    );
    expect(JSON.parse(storedCountersJson(new Map([['we"ird\\id', { kind: "sum", value: 1, at: 2 } as CounterState]])))).toEqual({
      'we"ird\\id': { kind: "sum", value: 1, at: 2 },
    });
  });
});
