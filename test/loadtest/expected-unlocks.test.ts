import { describe, expect, it } from "vitest";
import { milestoneDefinitionSchema, type MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { predictableThresholds, ThresholdTracker } from "../../loadtest/bots/expected-unlocks.ts";

const base = { title: "t", description: "d", icon: "i.png", trigger: "kill" } as const;
const define = (input: MilestoneDefinitionInput) => milestoneDefinitionSchema.parse(input);

describe("predictableThresholds", () => {
  it("keeps count, window and one-day daily rules of active milestones, drops the rest", () => {
    const thresholds = predictableThresholds([
      define({ ...base, code: "first_blood", rule: { type: "count", threshold: 1 } }),
      define({ ...base, code: "skaven", rule: { type: "count", threshold: 100, where: { creature: "skaven_warrior" } } }),
      define({ ...base, code: "frenzy", rule: { type: "window", count: 50, days: 1 } }),
      define({ ...base, code: "daily1", rule: { type: "daily", days: 1 } }),
      define({ ...base, code: "daily7", rule: { type: "daily", days: 7 } }),
      define({ ...base, code: "back", trigger: "login", rule: { type: "returnAfterGap", days: 7 } }),
      define({ ...base, code: "custom", rule: { type: "custom", evaluator: "x", threshold: 1 } }),
      define({ ...base, code: "off", active: false, rule: { type: "count", threshold: 1 } }),
    ]);
    expect(thresholds.map((t) => [t.code, t.target])).toEqual([
      ["first_blood", 1],
      ["skaven", 100],
      ["frenzy", 50],
      ["daily1", 1],
    ]);
    expect(thresholds[1]?.where).toEqual({ creature: "skaven_warrior" });
  });

  it("keeps a seasonal milestone only inside its period, and one with preconditions only when its crossing implies them", () => {
    const definitions = [
      define({ ...base, code: "any_10", rule: { type: "count", threshold: 10 } }),
      define({ ...base, code: "skaven_10", rule: { type: "count", threshold: 10, where: { creature: "skaven_warrior" } } }),
      define({ ...base, code: "champion", rule: { type: "count", threshold: 20, where: { creature: "skaven_warrior" } }, requires: ["any_10", "skaven_10"] }),
      define({ ...base, code: "early", rule: { type: "count", threshold: 5 }, requires: ["any_10"] }), // could wait for any_10
      define({ ...base, code: "boss_fan", rule: { type: "count", threshold: 50 }, requires: ["boss"] }), // boss: another trigger
      define({ ...base, code: "boss", trigger: "boss_kill", rule: { type: "count", threshold: 1 } }),
      define({ ...base, code: "winter", rule: { type: "count", threshold: 5 }, availableFrom: "2026-12-01T00:00:00Z", availableUntil: "2027-03-01T00:00:00Z" }),
    ];
    const codesAt = (iso: string) => predictableThresholds(definitions, Date.parse(iso)).map((t) => t.code);
    expect(codesAt("2026-12-24T12:00:00Z")).toEqual(["any_10", "skaven_10", "champion", "boss", "winter"]);
    expect(codesAt("2027-03-01T00:00:00Z")).toEqual(["any_10", "skaven_10", "champion", "boss"]);
    expect(codesAt("2026-11-30T23:59:59Z")).not.toContain("winter");
  });
});

describe("ThresholdTracker", () => {
  it("reports each crossing once, on the event that reaches the target, honouring trigger and tag filters", () => {
    const tracker = new ThresholdTracker([
      { code: "tier10", trigger: "kill", where: {}, target: 10 },
      { code: "skaven3", trigger: "kill", where: { creature: "skaven_warrior" }, target: 3 },
      { code: "gold5", trigger: "loot", where: { item: "gold" }, target: 5 },
    ]);
    const kill = (creature: string) => tracker.observe({ type: "kill", tags: { creature }, amount: 1 });
    expect(kill("rat")).toEqual([]);
    expect(kill("skaven_warrior")).toEqual([]);
    expect(kill("skaven_warrior")).toEqual([]);
    expect(kill("skaven_warrior")).toEqual(["skaven3"]);
    expect(kill("skaven_warrior")).toEqual([]);
    for (let i = 0; i < 4; i++) expect(kill("rat")).toEqual([]);
    expect(kill("rat")).toEqual(["tier10"]);
    expect(kill("rat")).toEqual([]);
    // An amount can jump over the target: still exactly one crossing.
    expect(tracker.observe({ type: "loot", tags: { item: "potion" }, amount: 9 })).toEqual([]);
    expect(tracker.observe({ type: "loot", tags: { item: "gold" }, amount: 3 })).toEqual([]);
    expect(tracker.observe({ type: "loot", tags: { item: "gold" }, amount: 3 })).toEqual(["gold5"]);
    expect(Object.fromEntries(tracker.sums())).toEqual({ tier10: 11, skaven3: 4, gold5: 6 });
  });
});
