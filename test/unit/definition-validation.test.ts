import { describe, expect, it } from "vitest";
import { compileMilestones } from "../../src/definitions/compile-milestones.ts";
import { loadDefinitions } from "../../src/definitions/load-definitions.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { ProgressionError } from "../../src/errors/progression-error.ts";
import { CoalescingBuffer } from "../../src/runtime/coalescing-buffer.ts";

const def = (code: string, extra: Partial<MilestoneDefinitionInput> = {}): MilestoneDefinitionInput => ({
  code,
  title: `${code}.title`,
  description: `${code}.description`,
  icon: `${code}.png`,
  trigger: "kill",
  rule: { type: "count", threshold: 1 },
  ...extra,
});

/** The ProgressionError a load throws (fails the test when it does not throw one). */
function loadError(definitions: readonly unknown[]): ProgressionError {
  try {
    loadDefinitions(definitions);
  } catch (error) {
    expect(error).toBeInstanceOf(ProgressionError);
    expect((error as ProgressionError).code).toBe(ErrorCode.InvalidDefinition);
    return error as ProgressionError;
  }
  throw new Error("the load was accepted");
}

describe("preconditions at load", () => {
  it("reject unknown required codes, naming every milestone and every unknown code in one message", () => {
    const error = loadError([def("a", { requires: ["ghost"] }), def("b"), def("c", { requires: ["b", "phantom", "spectre"] })]);
    expect(error.message).toBe(
      '2 milestones are invalid: milestone "a": requires "ghost", which is not defined; define it or remove it from requires | ' +
        'milestone "c": requires "phantom", "spectre", which are not defined; define them or remove them from requires',
    );
    expect(error.details).toMatchObject({ codes: ["a", "c"], unknown: ["ghost", "phantom", "spectre"] });
  });

  it("reject a milestone requiring itself", () => {
    expect(loadError([def("a", { requires: ["a"] })]).message).toBe('milestone "a": requires itself; remove "a" from its requires');
  });

  it("reject cycles, naming every milestone of each cycle and one way round it", () => {
    const error = loadError([
      def("a", { requires: ["b"] }),
      def("b", { requires: ["c"] }),
      def("c", { requires: ["a"] }),
      def("d"),
      def("e", { requires: ["f", "d"] }),
      def("f", { requires: ["e"] }),
    ]);
    expect(error.message).toContain('milestones "a", "b", "c" require each other in a cycle (a -> b -> c -> a)');
    expect(error.message).toContain('milestones "e", "f" require each other in a cycle (e -> f -> e)');
    expect(error.message).toMatch(/^5 milestones are invalid: /);
    expect(error.details.codes).toEqual(["a", "b", "c", "e", "f"]);
  });

  it("report unknown codes and cycles of one load together, with schema problems", () => {
    const error = loadError([def("a", { requires: ["b"] }), def("b", { requires: ["a"] }), def("c", { requires: ["nope"] }), def("d", { icon: "" })]);
    expect(error.message).toContain('milestone "d": icon');
    expect(error.message).toContain('milestone "c": requires "nope", which is not defined');
    expect(error.message).toContain('milestones "a", "b" require each other in a cycle (a -> b -> a)');
  });

  it("do not report a requirement of a milestone that failed its own schema as unknown", () => {
    const error = loadError([def("a", { requires: ["b"] }), def("b", { icon: "" })]);
    expect(error.message).toMatch(/^milestone "b": icon/);
    expect(error.message).not.toContain("not defined");
  });

  it("accept a chain, an inactive precondition and duplicates in requires", () => {
    const definitions = loadDefinitions([def("a", { active: false }), def("b", { requires: ["a", "a"] }), def("c", { requires: ["b"] })]);
    const compiled = compileMilestones(definitions, new Map());
    const checks = [...compiled.plan.counters.values()].flatMap((counter) => counter.checks);
    expect(checks.map((check) => [check.code, check.requires])).toEqual([
      ["b", ["a"]],
      ["c", ["b"]],
    ]);
  });

  it("are checked by reload, which keeps the running definitions", async () => {
    const progression = createProgression({ definitions: [def("a")], onMissingTranslations: () => {} });
    expect(() => progression.reload({ definitions: [def("a", { requires: ["b"] }), def("b", { requires: ["a"] })] })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidDefinition, message: expect.stringContaining('milestones "a", "b" require each other in a cycle') }),
    );
    expect(() => progression.reload({ definitions: [def("a", { requires: ["zzz"] })] })).toThrow(/requires "zzz", which is not defined/);
    expect(progression.milestoneCodes()).toEqual(["a"]);
    await expect(progression.simulate([def("a", { requires: ["zzz"] })])).rejects.toThrow(/requires "zzz"/);
    await progression.close();
  });
});

describe("series at load", () => {
  it("reject tiers of one series sharing an order, naming them", () => {
    const error = loadError([
      def("slayer_1", { series: { id: "slayer", order: 1 } }),
      def("slayer_2", { series: { id: "slayer", order: 2 } }),
      def("slayer_2b", { series: { id: "slayer", order: 2 } }),
      def("other_2", { series: { id: "other", order: 2 } }),
    ]);
    expect(error.message).toBe('series "slayer": milestones "slayer_2", "slayer_2b" all have order 2; orders must be unique within a series');
  });
});

describe("seasonal milestones at load", () => {
  const season = { availableFrom: "2026-12-01T00:00:00Z", availableUntil: "2027-01-01T00:00:00Z" };

  it.each([
    ["2026-12-31T00:00:00Z", "2026-12-01T00:00:00Z"],
    ["2026-12-01T00:00:00Z", "2026-12-01T01:00:00+01:00"],
  ])("reject availableFrom %s not before availableUntil %s", (availableFrom, availableUntil) => {
    expect(loadError([def("winter", { availableFrom, availableUntil })]).message).toBe(
      `milestone "winter": availableFrom (${availableFrom}) must be before availableUntil (${availableUntil}); the period would be empty`,
    );
  });

  it("reject a time without an offset", () => {
    expect(loadError([def("winter", { availableFrom: "2026-12-01T00:00:00" })]).message).toMatch(/milestone "winter": availableFrom/);
  });

  it("count on a counter of their own, shared by tiers of the same period however it is written", () => {
    const compiled = compileMilestones(
      loadDefinitions([
        def("kills"),
        def("winter_1", season),
        def("winter_5", { availableFrom: "2026-12-01T01:00:00+01:00", availableUntil: "2027-01-01T00:00:00Z", rule: { type: "count", threshold: 5 } }),
        def("spring", { availableFrom: "2027-03-01T00:00:00Z" }),
      ]),
      new Map(),
    );
    const counterOf = (code: string) => compiled.measures.get(code)?.counterId;
    expect(counterOf("winter_1")).toBe(counterOf("winter_5"));
    expect(new Set([counterOf("kills"), counterOf("winter_1"), counterOf("spring")]).size).toBe(3);
    const winter = compiled.measures.get("winter_1")?.check;
    expect(winter?.availableUntil).toBe(Date.UTC(2027, 0, 1));
    expect(compiled.measures.get("kills")?.check).not.toHaveProperty("availableUntil");
    expect(compiled.measures.get("kills")?.check).not.toHaveProperty("requires");
    expect(compiled.measures.get("spring")?.check).not.toHaveProperty("availableUntil");
  });

  it("route only events inside the period to their counter", () => {
    const compiled = compileMilestones(loadDefinitions([def("winter", { ...season, rule: { type: "count", threshold: 1, where: { zone: "north" } } }), def("spring", { availableFrom: "2027-03-01T00:00:00Z" })]), new Map());
    const buffer = new CoalescingBuffer(() => compiled, () => 0, 1000, false);
    const at = (iso: string) => Date.parse(iso);
    for (const time of ["2026-11-30T23:59:59.999Z", "2027-01-01T00:00:00Z"]) buffer.add({ type: "kill", subject: "p1", tags: { zone: "north" }, at: at(time) });
    expect(buffer.pendingIncrements).toBe(0);
    buffer.add({ type: "kill", subject: "p1", tags: { zone: "north" }, at: at("2026-12-01T00:00:00Z") });
    buffer.add({ type: "kill", subject: "p1", tags: { zone: "north" }, at: at("2026-12-31T23:59:59.999Z") });
    expect(buffer.pendingIncrements).toBe(2);
    buffer.add({ type: "kill", subject: "p1", at: at("2027-03-01T00:00:00Z") });
    buffer.add({ type: "kill", subject: "p1", at: at("2027-02-28T23:59:59Z") });
    expect(buffer.pendingIncrements).toBe(3);
  });
});
