import { describe, expect, it } from "vitest";
import { compileMilestones } from "../../src/definitions/compile-milestones.ts";
import type { CompiledMilestones } from "../../src/definitions/compile-milestones.ts";
import { loadDefinitions } from "../../src/definitions/load-definitions.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import type { PendingBatch } from "../../src/runtime/event-buffer.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { ProgressionError } from "../../src/errors/progression-error.ts";
import type { GameplayEvent } from "../../src/model/gameplay-event.ts";
import type { CustomEvaluator, EvaluatorParams, ValidatedEvent } from "../../src/rules/custom-evaluator.ts";
import { CoalescingBuffer, nextBatchId } from "../../src/runtime/coalescing-buffer.ts";

type Rule = MilestoneDefinitionInput["rule"];

const SLOT_MS = 1_000;
const BATCH_ID = /^[0-9a-f]{8}-[0-9a-z]+$/;

function milestone(code: string, trigger: string, rule: Rule): MilestoneDefinitionInput {
  return { code, title: `${code}.title`, description: `${code}.description`, icon: `${code}.png`, trigger, rule };
}

/** Compiles definitions the way the engine does: validated by the loader, then planned. */
function compile(definitions: readonly MilestoneDefinitionInput[], evaluators: Readonly<Record<string, CustomEvaluator>> = {}): CompiledMilestones {
  return compileMilestones(loadDefinitions(definitions), new Map(Object.entries(evaluators)));
}

function counterOf(compiled: CompiledMilestones, code: string): string {
  const measure = compiled.measures.get(code);
  if (measure === undefined) throw new Error(`no milestone ${code} in the plan`);
  return measure.counterId;
}

/** Routing and coalescing are about counters: these buffers keep no history (see "history" below). */
function bufferFor(compiled: CompiledMilestones, now = 0, history = false): CoalescingBuffer {
  return new CoalescingBuffer(() => compiled, () => now, SLOT_MS, history);
}

interface PlainIncrement {
  counter: string;
  amount: number;
  at: number;
  eventId: string | undefined;
}

/** The drained batch with only the contract fields of each increment (the buffer's own objects carry internals). */
function plain(batch: PendingBatch) {
  return {
    batchId: batch.batchId,
    events: batch.events,
    planVersion: batch.planVersion,
    subjects: batch.subjects.map((s) => ({
      subject: s.subject,
      catchUp: s.catchUp,
      increments: s.increments.map((i): PlainIncrement => ({ counter: i.counter, amount: i.amount, at: i.at, eventId: i.eventId })),
    })),
  };
}

function inc(counter: string, amount: number, at: number, eventId?: string): PlainIncrement {
  return { counter, amount, at, eventId };
}

/** Calls `add` and returns the ProgressionError it throws (failing the test if it throws anything else or nothing). */
function rejection(buffer: CoalescingBuffer, event: unknown): ProgressionError {
  try {
    buffer.add(event as GameplayEvent);
  } catch (error) {
    if (error instanceof ProgressionError) return error;
    throw error;
  }
  throw new Error(`add(${JSON.stringify(event)}) did not throw`);
}

const kills = milestone("kills", "kill", { type: "count", threshold: 10 });
const loot = milestone("loot", "loot", { type: "count", threshold: 5 });
const skaven = milestone("skaven", "kill", { type: "count", threshold: 10, where: { creature: "skaven" } });

describe("CoalescingBuffer: coalescing", () => {
  it("sums many events of one subject and counter in one time slot into one increment stamped with the latest at", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", at: 1_000 });
    buffer.add({ type: "kill", subject: "p1", amount: 3, at: 1_999 });
    // An earlier event after a later one in the same slot must not move `at` back.
    buffer.add({ type: "kill", subject: "p1", amount: 5, at: 1_200 });
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: new Date(1_500) });
    expect(buffer.pendingIncrements).toBe(1);
    const batch = buffer.drain();
    expect(batch.batchId).toMatch(BATCH_ID);
    expect(plain(batch)).toStrictEqual({
      batchId: batch.batchId,
      events: 4,
      planVersion: compiled.plan.version,
      subjects: [{ subject: "p1", catchUp: false, increments: [inc(counterOf(compiled, "kills"), 11, 1_999)] }],
    });
  });

  it("keeps events coalesceMs apart as two increments, sorted by at", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", amount: 1, at: 1_000 });
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_999 });
    buffer.add({ type: "kill", subject: "p1", amount: 4, at: 2_000 }); // first millisecond of the next slot
    buffer.add({ type: "kill", subject: "p1", amount: 8, at: 2_500 });
    expect(buffer.pendingIncrements).toBe(2);
    const counter = counterOf(compiled, "kills");
    expect(plain(buffer.drain()).subjects).toStrictEqual([{ subject: "p1", catchUp: false, increments: [inc(counter, 3, 1_999), inc(counter, 12, 2_500)] }]);
  });

  it("sorts a subject's increments by at across counters, not by counter order", () => {
    const compiled = compile([kills, loot]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", at: 3_000 });
    buffer.add({ type: "loot", subject: "p1", at: 1_000 });
    buffer.add({ type: "kill", subject: "p1", at: 2_000 });
    const k = counterOf(compiled, "kills");
    expect(plain(buffer.drain()).subjects[0]?.increments).toStrictEqual([inc(counterOf(compiled, "loot"), 1, 1_000), inc(k, 1, 2_000), inc(k, 1, 3_000)]);
  });

  it("coalesces a late event for an older slot into that slot's increment", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", amount: 1, at: 1_100 });
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 2_100 }); // slot 1 retires, slot 2 is current
    buffer.add({ type: "kill", subject: "p1", amount: 4, at: 1_300 }); // late: back into slot 1
    buffer.add({ type: "kill", subject: "p1", amount: 8, at: 2_050 });
    buffer.add({ type: "kill", subject: "p1", amount: 16, at: 1_200 });
    expect(buffer.pendingIncrements).toBe(2);
    const counter = counterOf(compiled, "kills");
    expect(plain(buffer.drain()).subjects[0]?.increments).toStrictEqual([inc(counter, 21, 1_300), inc(counter, 10, 2_100)]);
  });

  it("gives a late event for a slot never seen before its own increment", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", amount: 1, at: 5_000 });
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 3_000 });
    buffer.add({ type: "kill", subject: "p1", amount: 4, at: 3_500 });
    const counter = counterOf(compiled, "kills");
    expect(plain(buffer.drain()).subjects[0]?.increments).toStrictEqual([inc(counter, 6, 3_500), inc(counter, 1, 5_000)]);
  });

  it("coalesces per subject, listing subjects in the order they first counted", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p2", amount: 1, at: 1_000 });
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_100 });
    buffer.add({ type: "kill", subject: "p2", amount: 4, at: 1_200 });
    const counter = counterOf(compiled, "kills");
    expect(plain(buffer.drain()).subjects).toStrictEqual([
      { subject: "p2", catchUp: false, increments: [inc(counter, 5, 1_200)] },
      { subject: "p1", catchUp: false, increments: [inc(counter, 2, 1_100)] },
    ]);
  });

  it("stamps an event without at with the clock's now", () => {
    const compiled = compile([kills]);
    let now = 7_250;
    const buffer = new CoalescingBuffer(() => compiled, () => now, SLOT_MS);
    buffer.add({ type: "kill", subject: "p1" });
    now = 9_000;
    buffer.add({ type: "kill", subject: "p1" });
    const counter = counterOf(compiled, "kills");
    expect(plain(buffer.drain()).subjects[0]?.increments).toStrictEqual([inc(counter, 1, 7_250), inc(counter, 1, 9_000)]);
  });
});

describe("CoalescingBuffer: routing", () => {
  it("counts only events carrying a one-tag filter's value", () => {
    const compiled = compile([skaven]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "hit", amount: 2, at: 1_000, tags: { creature: "skaven" } });
    // Each miss uses its own subject: a miss must not even create a subject entry.
    buffer.add({ type: "kill", subject: "other-value", at: 1_000, tags: { creature: "rat" } });
    buffer.add({ type: "kill", subject: "no-tags", at: 1_000 });
    buffer.add({ type: "kill", subject: "other-tag", at: 1_000, tags: { zone: "skaven" } });
    expect(plain(buffer.drain())).toMatchObject({
      events: 4,
      subjects: [{ subject: "hit", catchUp: false, increments: [inc(counterOf(compiled, "skaven"), 2, 1_000)] }],
    });
  });

  it("counts only events carrying both tags of a two-tag filter with both values", () => {
    const compiled = compile([milestone("north_skaven", "kill", { type: "count", threshold: 10, where: { zone: "north", creature: "skaven" } })]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", amount: 1, at: 1_000, tags: { creature: "skaven", zone: "north" } });
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_100, tags: { creature: "skaven" } });
    buffer.add({ type: "kill", subject: "p1", amount: 4, at: 1_200, tags: { zone: "north" } });
    buffer.add({ type: "kill", subject: "p1", amount: 8, at: 1_300, tags: { creature: "skaven", zone: "south" } });
    buffer.add({ type: "kill", subject: "p1", amount: 16, at: 1_400, tags: { creature: "rat", zone: "north" } });
    // Extra tags do not matter.
    buffer.add({ type: "kill", subject: "p1", amount: 32, at: 1_500, tags: { weapon: "axe", zone: "north", creature: "skaven" } });
    expect(plain(buffer.drain()).subjects).toStrictEqual([{ subject: "p1", catchUp: false, increments: [inc(counterOf(compiled, "north_skaven"), 33, 1_500)] }]);
  });

  it("gives tiers with the same trigger and filter one counter, so one increment", () => {
    const compiled = compile([
      milestone("skaven_10", "kill", { type: "count", threshold: 10, where: { creature: "skaven" } }),
      milestone("skaven_100", "kill", { type: "count", threshold: 100, where: { creature: "skaven" } }),
    ]);
    expect(compiled.counterCount).toBe(1);
    expect(counterOf(compiled, "skaven_100")).toBe(counterOf(compiled, "skaven_10"));
    const buffer = bufferFor(compiled);
    for (let at = 1_000; at < 1_010; at += 1) buffer.add({ type: "kill", subject: "p1", amount: 3, at, tags: { creature: "skaven" } });
    expect(buffer.pendingIncrements).toBe(1);
    expect(plain(buffer.drain()).subjects[0]?.increments).toStrictEqual([inc(counterOf(compiled, "skaven_10"), 30, 1_009)]);
  });

  it("routes one event to every counter it matches, filtered or not", () => {
    const compiled = compile([kills, skaven, milestone("north", "kill", { type: "count", threshold: 10, where: { zone: "north" } })]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_000, tags: { creature: "skaven", zone: "north" } });
    buffer.add({ type: "kill", subject: "p1", amount: 5, at: 1_100, tags: { creature: "skaven", zone: "south" } });
    expect(buffer.pendingIncrements).toBe(3);
    const increments = plain(buffer.drain()).subjects[0]?.increments ?? [];
    expect(new Map(increments.map((i) => [i.counter, [i.amount, i.at]]))).toStrictEqual(
      new Map([
        [counterOf(compiled, "kills"), [7, 1_100]],
        [counterOf(compiled, "skaven"), [7, 1_100]],
        [counterOf(compiled, "north"), [2, 1_000]],
      ]),
    );
  });

  it("counts an event of an unknown type as an event but makes no increment", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "dance", subject: "p1", amount: 4, at: 1_000 });
    expect(buffer.pendingEvents).toBe(1);
    expect(buffer.pendingIncrements).toBe(0);
    const batch = buffer.drain();
    expect(plain(batch)).toStrictEqual({ batchId: batch.batchId, events: 1, planVersion: compiled.plan.version, subjects: [] });
  });

  it("calls a custom evaluator registered by name with the validated event (amount and tags filled in) and its params", () => {
    const calls: { event: ValidatedEvent; params: EvaluatorParams }[] = [];
    const weapon: CustomEvaluator = (event, params) => {
      calls.push({ event, params });
      return event.tags.weapon === params.weapon;
    };
    const compiled = compile(
      [
        milestone("sword_kills", "kill", { type: "custom", evaluator: "weapon", threshold: 10, params: { weapon: "sword" } }),
        milestone("big_kills", "kill", { type: "custom", evaluator: "big", threshold: 10 }),
      ],
      { weapon, big: (event) => event.amount >= 10 },
    );
    const buffer = bufferFor(compiled, 7_000);
    buffer.add({ type: "kill", subject: "p1" });
    buffer.add({ type: "kill", subject: "p1", amount: 4, at: 8_000, tags: { weapon: "sword" } });
    buffer.add({ type: "kill", subject: "p1", amount: 10, at: 8_500, tags: { weapon: "axe" } });
    expect(calls).toEqual([
      { event: { type: "kill", subject: "p1", amount: 1, at: 7_000, tags: {} }, params: { weapon: "sword" } },
      { event: { type: "kill", subject: "p1", amount: 4, at: 8_000, tags: { weapon: "sword" } }, params: { weapon: "sword" } },
      { event: { type: "kill", subject: "p1", amount: 10, at: 8_500, tags: { weapon: "axe" } }, params: { weapon: "sword" } },
    ]);
    expect(plain(buffer.drain()).subjects[0]?.increments).toStrictEqual([inc(counterOf(compiled, "sword_kills"), 4, 8_000), inc(counterOf(compiled, "big_kills"), 10, 8_500)]);
  });
});

describe("CoalescingBuffer: events with an id", () => {
  it("never coalesces them; each increment's eventId is <id>/<counter>", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    const counter = counterOf(compiled, "kills");
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_000, id: "e1" });
    buffer.add({ type: "kill", subject: "p1", amount: 3, at: 1_100, id: "e2" });
    buffer.add({ type: "kill", subject: "p1", amount: 5, at: 1_200 });
    buffer.add({ type: "kill", subject: "p1", amount: 7, at: 1_300 });
    expect(buffer.pendingIncrements).toBe(3);
    expect(plain(buffer.drain()).subjects[0]?.increments).toStrictEqual([
      inc(counter, 2, 1_000, `e1/${counter}`),
      inc(counter, 3, 1_100, `e2/${counter}`),
      inc(counter, 12, 1_300),
    ]);
  });

  it("gives an event with an id one increment per counter it advances, each with its own eventId", () => {
    const compiled = compile([kills, skaven]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_000, id: "e1", tags: { creature: "skaven" } });
    const increments = plain(buffer.drain()).subjects[0]?.increments ?? [];
    const byCounter = [...increments].sort((a, b) => (a.counter < b.counter ? -1 : 1));
    const expected = [counterOf(compiled, "kills"), counterOf(compiled, "skaven")].sort().map((c) => inc(c, 2, 1_000, `e1/${c}`));
    expect(byCounter).toStrictEqual(expected);
  });

  it("counts a second event with the same id in one buffer once", () => {
    const compiled = compile([kills, skaven]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_000, id: "e1", tags: { creature: "skaven" } });
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_000, id: "e1", tags: { creature: "skaven" } });
    // A replay with other fields is still the same event: the first one stands.
    buffer.add({ type: "kill", subject: "p1", amount: 9, at: 1_500, id: "e1" });
    // pendingEvents counts add calls (the host's applied-events metric); the increments count once.
    expect(buffer.pendingEvents).toBe(3);
    expect(buffer.pendingIncrements).toBe(2);
    const increments = plain(buffer.drain()).subjects[0]?.increments ?? [];
    expect(increments.map((i) => [i.counter, i.amount, i.at, i.eventId]).sort()).toStrictEqual(
      [counterOf(compiled, "kills"), counterOf(compiled, "skaven")].map((c) => [c, 2, 1_000, `e1/${c}`]).sort(),
    );
  });

  it("counts the same id again after a drain (deduping across batches is the backend's job)", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    const counter = counterOf(compiled, "kills");
    buffer.add({ type: "kill", subject: "p1", at: 1_000, id: "e1" });
    buffer.drain();
    buffer.add({ type: "kill", subject: "p1", at: 1_000, id: "e1" });
    expect(plain(buffer.drain()).subjects[0]?.increments).toStrictEqual([inc(counter, 1, 1_000, `e1/${counter}`)]);
  });
});

describe("CoalescingBuffer: validation", () => {
  const good = { type: "kill", subject: "p1", at: 1_000, tags: { creature: "skaven" } };

  it.each<[string, unknown, string]>([
    ["amount 0", { ...good, amount: 0 }, ErrorCode.InvalidQuantity],
    ["a negative amount", { ...good, amount: -3 }, ErrorCode.InvalidQuantity],
    ["a fractional amount", { ...good, amount: 1.5 }, ErrorCode.InvalidQuantity],
    ["an unsafe amount", { ...good, amount: Number.MAX_SAFE_INTEGER + 1 }, ErrorCode.InvalidQuantity],
    ["a NaN amount", { ...good, amount: Number.NaN }, ErrorCode.InvalidQuantity],
    ["a string amount", { ...good, amount: "2" }, ErrorCode.InvalidQuantity],
    ["an empty subject", { ...good, subject: "" }, ErrorCode.InvalidInput],
    ["a 201-character subject", { ...good, subject: "s".repeat(201) }, ErrorCode.InvalidInput],
    ["a numeric subject", { ...good, subject: 42 }, ErrorCode.InvalidInput],
    ["a type with a space", { ...good, type: "kill monsters" }, ErrorCode.InvalidInput],
    ["an empty type", { ...good, type: "" }, ErrorCode.InvalidInput],
    ["a numeric type", { ...good, type: 7 }, ErrorCode.InvalidInput],
    ["a numeric tag value (next to a matching tag)", { ...good, tags: { creature: "skaven", zone: 5 } }, ErrorCode.InvalidInput],
    ["an own __proto__ tag key (as JSON.parse makes it)", { ...good, tags: JSON.parse('{"creature":"skaven","__proto__":"x"}') as unknown }, ErrorCode.InvalidInput],
    ["a constructor tag key", { ...good, tags: { creature: "skaven", constructor: "x" } }, ErrorCode.InvalidInput],
    ["a tag key with a space", { ...good, tags: { creature: "skaven", "bad key": "x" } }, ErrorCode.InvalidInput],
    ["tags as an array", { ...good, tags: ["skaven"] }, ErrorCode.InvalidInput],
    ["tags as a Map", { ...good, tags: new Map([["creature", "skaven"]]) }, ErrorCode.InvalidInput],
    ["a negative at", { ...good, at: -1 }, ErrorCode.InvalidInput],
    ["a fractional at", { ...good, at: 1_000.5 }, ErrorCode.InvalidInput],
    ["a string at", { ...good, at: "1000" }, ErrorCode.InvalidInput],
    ["an invalid Date at", { ...good, at: new Date("not a date") }, ErrorCode.InvalidInput],
    ["an empty id", { ...good, id: "" }, ErrorCode.InvalidInput],
    ["null", null, ErrorCode.InvalidInput],
  ])("rejects %s with a typed error and leaves the buffer as it was", (_name, event, code) => {
    const compiled = compile([kills, skaven]);
    const buffer = bufferFor(compiled);
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_000, tags: { creature: "skaven" } });
    buffer.add({ type: "kill", subject: "p2", amount: 3, at: 1_000 });
    expect([buffer.pendingEvents, buffer.pendingIncrements]).toStrictEqual([2, 3]);

    const error = rejection(buffer, event);
    expect(error.code).toBe(code);

    expect([buffer.pendingEvents, buffer.pendingIncrements]).toStrictEqual([2, 3]);
    const batch = buffer.drain();
    const k = counterOf(compiled, "kills");
    const s = counterOf(compiled, "skaven");
    expect(plain(batch)).toStrictEqual({
      batchId: batch.batchId,
      events: 2,
      planVersion: compiled.plan.version,
      subjects: [
        { subject: "p1", catchUp: false, increments: [inc(k, 2, 1_000), inc(s, 2, 1_000)] },
        { subject: "p2", catchUp: false, increments: [inc(k, 3, 1_000)] },
      ],
    });
  });
});

describe("CoalescingBuffer: counts, drains and batch ids", () => {
  it("counts pending events and increments, and a drain empties the buffer", () => {
    const compiled = compile([kills, loot]);
    const buffer = bufferFor(compiled);
    expect([buffer.pendingEvents, buffer.pendingIncrements]).toStrictEqual([0, 0]);
    buffer.add({ type: "kill", subject: "p1", at: 1_000 });
    buffer.add({ type: "kill", subject: "p1", at: 1_500 });
    expect([buffer.pendingEvents, buffer.pendingIncrements]).toStrictEqual([2, 1]);
    buffer.add({ type: "loot", subject: "p1", at: 1_500 });
    buffer.add({ type: "kill", subject: "p2", at: 1_500 });
    buffer.add({ type: "kill", subject: "p1", at: 2_500 });
    expect([buffer.pendingEvents, buffer.pendingIncrements]).toStrictEqual([5, 4]);
    const first = buffer.drain();
    expect(first.events).toBe(5);
    expect(first.subjects.map((s) => [s.subject, s.increments.length])).toStrictEqual([
      ["p1", 3],
      ["p2", 1],
    ]);
    expect([buffer.pendingEvents, buffer.pendingIncrements]).toStrictEqual([0, 0]);
    const second = buffer.drain();
    expect(plain(second)).toStrictEqual({ batchId: second.batchId, events: 0, planVersion: undefined, subjects: [] });
  });

  it("starts a fresh increment after a drain instead of adding to the drained one", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    const counter = counterOf(compiled, "kills");
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_000 });
    const first = buffer.drain();
    buffer.add({ type: "kill", subject: "p1", amount: 3, at: 1_100 });
    expect(plain(buffer.drain()).subjects[0]?.increments).toStrictEqual([inc(counter, 3, 1_100)]);
    // The first batch may still be retried: it must not have changed.
    expect(plain(first).subjects[0]?.increments).toStrictEqual([inc(counter, 2, 1_000)]);
  });

  it("gives every drain a new batch id", () => {
    const buffer = bufferFor(compile([kills]));
    const ids = [buffer.drain().batchId];
    buffer.add({ type: "kill", subject: "p1", at: 1_000 });
    ids.push(buffer.drain().batchId, buffer.drain().batchId, bufferFor(compile([kills])).drain().batchId);
    for (const id of ids) expect(id).toMatch(BATCH_ID);
    expect(new Set(ids).size).toBe(4);
  });

  it("nextBatchId is unique over many calls and shares one producer prefix", () => {
    const ids = Array.from({ length: 20_000 }, () => nextBatchId());
    expect(new Set(ids).size).toBe(20_000);
    expect(new Set(ids.map((id) => id.split("-")[0])).size).toBe(1);
    for (const id of ids.slice(0, 50)) expect(id).toMatch(BATCH_ID);
  });

  it("touch(subject) adds a subject with no increments, once, and keeps existing increments", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled);
    buffer.touch("p1");
    buffer.touch("p1");
    expect([buffer.pendingEvents, buffer.pendingIncrements]).toStrictEqual([0, 0]);
    buffer.add({ type: "kill", subject: "p2", amount: 2, at: 1_000 });
    buffer.touch("p2");
    buffer.add({ type: "kill", subject: "p1", amount: 3, at: 1_000 });
    const batch = buffer.drain();
    const counter = counterOf(compiled, "kills");
    expect(plain(batch).subjects).toStrictEqual([
      { subject: "p1", catchUp: false, increments: [inc(counter, 3, 1_000)] },
      { subject: "p2", catchUp: false, increments: [inc(counter, 2, 1_000)] },
    ]);
  });

  it("drains a touch-only buffer as the subject with no increments and no plan version", () => {
    const buffer = bufferFor(compile([kills]));
    buffer.touch("p1");
    const batch = buffer.drain();
    expect(plain(batch)).toStrictEqual({ batchId: batch.batchId, events: 0, planVersion: undefined, subjects: [{ subject: "p1", catchUp: false, increments: [] }] });
  });
});

describe("CoalescingBuffer: reload between adds", () => {
  const before = compile([kills]);
  const after = compile([kills, milestone("kills_50", "kill", { type: "count", threshold: 50 }), loot]);

  it("compiles two different plan versions for the test", () => {
    expect(after.plan.version).not.toBe(before.plan.version);
  });

  it("reports no plan version for a batch routed with two plans, and the new version for the next one", () => {
    let current = before;
    const buffer = new CoalescingBuffer(() => current, () => 0, SLOT_MS);
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_000 });
    current = after;
    buffer.add({ type: "loot", subject: "p1", amount: 3, at: 1_100 });
    buffer.add({ type: "kill", subject: "p1", amount: 4, at: 1_200 });
    const mixed = buffer.drain();
    expect(mixed.planVersion).toBeUndefined();
    // The kill counter kept its id and index, so both kills still share one increment.
    expect(plain(mixed).subjects[0]?.increments).toStrictEqual([inc(counterOf(after, "loot"), 3, 1_100), inc(counterOf(after, "kills"), 6, 1_200)]);

    buffer.add({ type: "kill", subject: "p1", at: 2_000 });
    expect(buffer.drain().planVersion).toBe(after.plan.version);
  });

  it("reports the plan version when a reload happened before the first add", () => {
    let current = before;
    const buffer = new CoalescingBuffer(() => current, () => 0, SLOT_MS);
    current = after;
    buffer.add({ type: "kill", subject: "p1", at: 1_000 });
    buffer.add({ type: "loot", subject: "p1", at: 1_000 });
    expect(buffer.drain().planVersion).toBe(after.plan.version);
  });

  // A reload that moves a counter to another index leaves two increments of one (counter, slot) in
  // different places; retiring the newer one must merge into the older, not overwrite it.
  it("keeps every kill when a reload moves a counter to another index", () => {
    const first = compile([kills]); // kills counter at index 0
    const moved = compile([loot, kills]); // same kills counter, now at index 1
    expect(counterOf(moved, "kills")).toBe(counterOf(first, "kills"));
    let current = first;
    const buffer = new CoalescingBuffer(() => current, () => 0, SLOT_MS);
    buffer.add({ type: "kill", subject: "p1", amount: 1, at: 5_000 });
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 6_000 }); // slot 5 retires as "<kills>:5"
    current = moved;
    buffer.add({ type: "kill", subject: "p1", amount: 4, at: 5_000 });
    buffer.add({ type: "kill", subject: "p1", amount: 8, at: 6_000 }); // retires another "<kills>:5"
    const pending = buffer.pendingIncrements;
    const increments = plain(buffer.drain()).subjects[0]?.increments ?? [];
    const perSlot = (slotStart: number) => increments.filter((i) => i.at >= slotStart && i.at < slotStart + SLOT_MS).reduce((sum, i) => sum + i.amount, 0);
    expect([perSlot(5_000), perSlot(6_000)]).toStrictEqual([5, 10]);
    expect(increments.length).toBe(pending);
  });
});

describe("CoalescingBuffer: history", () => {
  it("rolls every event up per (type, tags, UTC day), also events no counter counts", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled, 0, true);
    const day = 86_400_000;
    buffer.add({ type: "kill", subject: "p1", amount: 2, at: 1_000, tags: { zone: "north", creature: "rat" } });
    buffer.add({ type: "kill", subject: "p1", amount: 7, at: 500, tags: { creature: "rat", zone: "north" } });
    buffer.add({ type: "kill", subject: "p1", amount: 1, at: day + 5 });
    buffer.add({ type: "dance", subject: "p2", at: 3_000 });
    buffer.add({ type: "quest", subject: "p2", id: "q1", at: 4_000 });
    buffer.add({ type: "quest", subject: "p2", id: "q1", at: 4_000 });
    const batch = buffer.drain();
    const rollups = (subject: string) =>
      batch.subjects
        .find((s) => s.subject === subject)
        ?.history?.map(({ type, tags, day, count, sum, firstAt, lastAt, maxAmount, eventId }) => ({ type, tags, day, count, sum, firstAt, lastAt, maxAmount, eventId }));
    expect(rollups("p1")).toStrictEqual([
      { type: "kill", tags: '{"creature":"rat","zone":"north"}', day: 0, count: 2, sum: 9, firstAt: 500, lastAt: 1_000, maxAmount: 7, eventId: undefined },
      { type: "kill", tags: "", day: 1, count: 1, sum: 1, firstAt: day + 5, lastAt: day + 5, maxAmount: 1, eventId: undefined },
    ]);
    expect(rollups("p2")).toStrictEqual([
      { type: "dance", tags: "", day: 0, count: 1, sum: 1, firstAt: 3_000, lastAt: 3_000, maxAmount: 1, eventId: undefined },
      { type: "quest", tags: "", day: 0, count: 1, sum: 1, firstAt: 4_000, lastAt: 4_000, maxAmount: 1, eventId: "q1" },
    ]);
    expect(batch.subjects.find((s) => s.subject === "p2")?.increments).toEqual([]);
  });
});

describe("CoalescingBuffer: history of a busy subject", () => {
  it("keeps one rollup per distinct tags however many a flush holds, and is not fooled by a reused tags object", () => {
    const compiled = compile([kills]);
    const buffer = bufferFor(compiled, 0, true);
    const tags: Record<string, string> = { zone: "z" };
    for (let round = 0; round < 2; round += 1) {
      for (let n = 0; n < 40; n += 1) {
        tags.zone = `z${n}`; // the same object, changed between events
        buffer.add({ type: "kill", subject: "p1", at: 1_000 + n, tags });
      }
    }
    const history = buffer.drain().subjects[0]?.history ?? [];
    expect(history).toHaveLength(40);
    expect(new Set(history.map((rollup) => rollup.tags)).size).toBe(40);
    expect(history.every((rollup) => rollup.count === 2)).toBe(true);
    expect(history.find((rollup) => rollup.tags === '{"zone":"z7"}')).toMatchObject({ count: 2, firstAt: 1_007, lastAt: 1_007 });
  });
});
