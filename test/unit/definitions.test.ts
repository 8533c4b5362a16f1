import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDefinitions } from "../../src/definitions/load-definitions.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { compileMilestones } from "../../src/definitions/compile-milestones.ts";

const valid = { code: "first_blood", title: "fb.title", description: "fb.description", icon: "fb.png", trigger: "kill", rule: { type: "count" as const, threshold: 1 } };

describe("milestone definitions", () => {
  it("fill in defaults: confetti animation, no rewards, visible, active, not autoClaim", () => {
    expect(loadDefinitions([valid])[0]).toMatchObject({ animation: { kind: "confetti" }, rewards: [], hidden: false, active: true, autoClaim: false });
  });

  it.each([
    [{ ...valid, rule: { type: "count", threshold: -1 } }, /milestone "first_blood": rule.threshold: .*>0/],
    [{ ...valid, rule: { type: "count", threshold: 1.5 } }, /milestone "first_blood": rule.threshold: .*expected int/],
    [{ ...valid, rule: { type: "streak", days: 3 } }, /milestone "first_blood": rule.type/],
    [{ ...valid, rule: { type: "window", count: 3 } }, /milestone "first_blood": rule.days/],
    [{ ...valid, animation: { kind: "webm" } }, /milestone "first_blood": animation.src/],
    [{ ...valid, trigger: "kill monsters" }, /milestone "first_blood": trigger: use letters/],
    [{ ...valid, rewards: [{ item: "gold", quantity: 0 }] }, /milestone "first_blood": rewards.0.quantity/],
    [{ ...valid, icon: undefined }, /milestone "first_blood": icon/],
    [{ ...valid, colour: "red" }, /milestone "first_blood": .*colour/],
    [{ title: "x" }, /milestone "#0": code/],
  ])("reject %j naming the milestone and the field", (definition, message) => {
    expect(() => loadDefinitions([definition])).toThrow(expect.objectContaining({ code: ErrorCode.InvalidDefinition, message: expect.stringMatching(message) }));
  });

  it("report every bad milestone of a load at once, each with its field", () => {
    const load = () => loadDefinitions([{ ...valid, code: "a", rule: { type: "count", threshold: 0 } }, valid, { ...valid, code: "b", icon: "" }]);
    expect(load).toThrow(expect.objectContaining({ code: ErrorCode.InvalidDefinition, message: expect.stringMatching(/2 milestones are invalid: milestone "a": rule\.threshold.*\| milestone "b": icon/) }));
  });

  it("refuse missing options or definitions with a typed error naming what to pass", () => {
    expect(() => createProgression(undefined as never)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput, message: expect.stringContaining("createProgression({ definitions") }));
    expect(() => createProgression({} as never)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidDefinition, message: expect.stringContaining("got undefined") }));
  });

  it("reject duplicate codes", () => {
    expect(() => loadDefinitions([valid, { ...valid, icon: "other.png" }])).toThrow(/"first_blood".*duplicate code/);
  });

  it("load from a JSON file or a directory of them", () => {
    const directory = mkdtempSync(join(tmpdir(), "defs-"));
    writeFileSync(join(directory, "a.json"), JSON.stringify([valid]));
    writeFileSync(join(directory, "b.json"), JSON.stringify({ ...valid, code: "second", rule: { type: "count", threshold: 2 } }));
    expect(loadDefinitions(directory).map((d) => d.code)).toEqual(["first_blood", "second"]);
    expect(loadDefinitions(join(directory, "a.json")).map((d) => d.code)).toEqual(["first_blood"]);
    writeFileSync(join(directory, "c.json"), "{ not json");
    expect(() => loadDefinitions(directory)).toThrow(/c\.json is not valid JSON/);
  });

  it("reject a custom rule whose evaluator is not registered, naming how to register it", () => {
    const custom = { ...valid, rule: { type: "custom" as const, evaluator: "weapon", threshold: 1 } };
    expect(() => createProgression({ definitions: [custom] })).toThrow(expect.objectContaining({ code: ErrorCode.UnknownEvaluator, message: expect.stringContaining("evaluators: { weapon:") }));
  });

  it("give equal counters equal, stable ids regardless of order or tag order", () => {
    const a = { ...valid, code: "a", rule: { type: "count", threshold: 1, where: { x: "1", y: "2" } } };
    const b = { ...valid, code: "b", rule: { type: "count", threshold: 9, where: { y: "2", x: "1" } } };
    const one = compileMilestones(loadDefinitions([a, b]), new Map());
    const two = compileMilestones(loadDefinitions([b, a]), new Map());
    expect([...one.plan.counters.keys()]).toEqual([...two.plan.counters.keys()]);
    expect(one.plan.counters.size).toBe(1);
    expect(one.plan.version).toBe(two.plan.version);
  });
});

describe("reload", () => {
  it("keeps the running definitions when the new ones are invalid, and keeps progress across a valid reload", async () => {
    const progression = createProgression({ definitions: [{ ...valid, rule: { type: "count", threshold: 3 } }], onMissingTranslations: () => {} });
    await progression.record({ type: "kill", subject: "p1", amount: 2 });
    expect(() => progression.reload({ definitions: [{ ...valid, rule: { type: "count", threshold: 0 } }] })).toThrow(/rule.threshold/);
    expect(progression.milestoneCodes()).toEqual(["first_blood"]);
    progression.reload({ definitions: [{ ...valid, title: "new.title", rule: { type: "count", threshold: 3 } }] });
    expect((await progression.record({ type: "kill", subject: "p1" })).map((u) => u.title)).toEqual(["new.title"]);
    await progression.close();
  });
});
