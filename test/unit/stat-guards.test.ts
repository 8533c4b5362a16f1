import { describe, expect, it } from "vitest";
import { createProgression } from "../../src/engine/create-progression.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { StatGuards } from "../../src/runtime/stat-guards.ts";
import { jsonTopicCodecs } from "../../src/durability/events/topic-codecs.ts";

const definitions = [{ code: "kills_10", title: "k.title", description: "k.description", icon: "k.png", trigger: "kill", rule: { type: "count" as const, threshold: 10 } }];

function created(statGuards: unknown): () => unknown {
  return () => createProgression({ definitions, statGuards: statGuards as StatGuards, onMissingTranslations: () => {} });
}

describe("statGuards option", () => {
  it.each([
    ["a guard with no limit", { kill: {} }, "statGuards.kill sets no guard"],
    ["a zero maxAmount", { kill: { maxAmount: 0 } }, "statGuards.kill.maxAmount must be a positive safe integer"],
    ["a fractional window amount", { kill: { maxPerWindow: { amount: 1.5, windowMs: 1000 } } }, "statGuards.kill.maxPerWindow.amount must be a positive safe integer"],
    ["a window without its length", { kill: { maxPerWindow: { amount: 600 } } }, "statGuards.kill.maxPerWindow.windowMs must be a positive safe integer"],
    ["a misspelt option", { kill: { maxamount: 10 } }, "statGuards.kill.maxamount is not a stat guard option"],
    ["a misspelt window option", { kill: { maxPerWindow: { amount: 10, window: 1000 } } }, "statGuards.kill.maxPerWindow.window is not a window option"],
    ["a window given as a number", { kill: { maxPerWindow: 600 } }, "statGuards.kill.maxPerWindow must be an object"],
    ["a trigger that is no event type", { "kill rat": { maxAmount: 1 } }, '"kill rat" is not an event type'],
    ["a list instead of an object", [{ kill: { maxAmount: 1 } }], "statGuards must be an object of guards by trigger"],
  ])("refuses %s at creation, naming the trigger and field", (_case, statGuards, message) => {
    expect(created(statGuards)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput, message: expect.stringContaining(message) }));
  });

  it("accepts either limit alone or both", async () => {
    for (const statGuards of [{ kill: { maxAmount: 10 } }, { kill: { maxPerWindow: { amount: 600, windowMs: 60_000 } } }, { kill: { maxAmount: 10, maxPerWindow: { amount: 600, windowMs: 60_000 } }, loot: { maxAmount: 99 } }]) {
      const progression = created(statGuards)() as { close(): Promise<void> };
      await progression.close();
    }
  });
});

describe("progression.suspicious across the BullMQ bus", () => {
  it("encodes and decodes both kinds of refusal, and refuses a payload of another shape", () => {
    const codec = jsonTopicCodecs["progression.suspicious"];
    const window = { subject: "p1", trigger: "kill", guard: "maxPerWindow" as const, limit: 600, windowMs: 60_000, value: 601, at: 1_700_000_000_000 };
    const amount = { subject: "p1", trigger: "kill", guard: "maxAmount" as const, limit: 10, value: 50, at: 1_700_000_000_000 };
    expect(codec.decode(codec.encode(window))).toEqual(window);
    expect(codec.decode(codec.encode(amount))).toEqual(amount);
    expect(() => codec.decode(JSON.stringify({ ...amount, guard: "maxSpeed" }))).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput }));
  });
});
