import { describe, expect, it } from "vitest";
import type { GuardCheck } from "../../src/backends/contract/progression-backend.ts";
import { compileMilestones } from "../../src/definitions/compile-milestones.ts";
import { loadDefinitions } from "../../src/definitions/load-definitions.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { ProgressionError } from "../../src/errors/progression-error.ts";
import type { Progression } from "../../src/engine/progression.ts";
import type { DomainTopics } from "../../src/events/domain-topics.ts";
import { tagsText } from "../../src/model/history.ts";
import type { StatGuards } from "../../src/runtime/stat-guards.ts";
import type { BackendFactory } from "../support/backend-factories.ts";
import { milestone, T0, useEngines } from "./engine-fixture.ts";

const MINUTE = 60_000;
const definitions = [
  milestone("kills_100", "kill", { type: "count", threshold: 100 }),
  milestone("troll_hunter", "kill", { type: "count", threshold: 100, where: { creature: "troll" } }),
  milestone("looter", "loot", { type: "count", threshold: 100 }),
];
/** At most 10 kills per player per (epoch-aligned) minute; T0 starts a minute. */
const statGuards: StatGuards = { kill: { maxAmount: 8, maxPerWindow: { amount: 10, windowMs: MINUTE } } };

type Suspicious = DomainTopics["progression.suspicious"];

/** The `progression.suspicious` events delivered so far. */
function suspiciousOf(progression: Progression): () => Promise<Suspicious[]> {
  const seen: Suspicious[] = [];
  progression.events.on("progression.suspicious", `guards-test-${Math.random()}`, (envelope) => {
    seen.push(envelope.payload);
  });
  return async () => {
    await progression.events.drain();
    return seen;
  };
}

async function current(progression: Progression, subject: string): Promise<Record<string, number>> {
  return Object.fromEntries((await progression.progress(subject)).map((entry) => [entry.code, entry.current]));
}

const kills = (subject: string, amounts: readonly number[], tags: Record<string, string> = {}) =>
  amounts.map((amount) => ({ type: "kill", subject, amount, tags }));

/** Stat guards (docs/semantics.md, "Stat guards"): maxAmount at record(), maxPerWindow inside the atomic apply. */
export function guardsConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);

  describe("maxPerWindow", () => {
    it("applies what stays under the limit and counts it across batches", async () => {
      const { progression, clock } = await engine(definitions, { statGuards });
      const suspicious = suspiciousOf(progression);
      await progression.recordBatch(kills("p1", [4]));
      clock.advance(10_000);
      await progression.recordBatch(kills("p1", [3, 3]));
      expect((await current(progression, "p1"))["kills_100"]).toBe(10);
      expect(await suspicious()).toEqual([]);
      // The 11th kill of the minute passes the limit: not applied, reported with what the window would reach.
      clock.advance(10_000);
      await progression.record({ type: "kill", subject: "p1" });
      expect((await current(progression, "p1"))["kills_100"]).toBe(10);
      expect(await suspicious()).toEqual([
        { subject: "p1", trigger: "kill", guard: "maxPerWindow", limit: 10, windowMs: MINUTE, value: 11, at: T0 + 20_000 },
      ]);
    });

    it("refuses a batch part that would pass the limit whole, for that trigger only: other triggers and players still apply, no history rows of it", async () => {
      const { progression } = await engine(definitions, { statGuards });
      const suspicious = suspiciousOf(progression);
      await progression.recordBatch(kills("p1", [4], { creature: "troll" }));
      // 4 + 7 = 11 > 10: both kill counters of p1 are refused together, its loot and p2's kills are applied.
      await progression.recordBatch([
        ...kills("p1", [3], { creature: "troll" }),
        ...kills("p1", [3]),
        { type: "kill", subject: "p1", amount: 1, id: "kill-1" },
        { type: "loot", subject: "p1", amount: 5 },
        ...kills("p2", [6]),
      ]);
      expect(await current(progression, "p1")).toEqual({ kills_100: 4, troll_hunter: 4, looter: 5 });
      expect((await current(progression, "p2"))["kills_100"]).toBe(6);
      expect((await progression.history("p1")).map((rollup) => [rollup.type, rollup.tags, rollup.sum])).toEqual([
        ["kill", tagsText({ creature: "troll" }), 4],
        ["loot", tagsText({}), 5],
      ]);
      expect((await suspicious()).map((event) => [event.subject, event.value])).toEqual([["p1", 11]]);
      // What the refused part would have added is not counted in the window either: 6 more still fit, the
      // event with an id among them (refused, so never seen).
      await progression.recordBatch([...kills("p1", [5]), { type: "kill", subject: "p1", amount: 1, id: "kill-1" }]);
      expect((await current(progression, "p1"))["kills_100"]).toBe(10);
      expect((await progression.history("p1")).filter((rollup) => rollup.type === "kill").reduce((sum, rollup) => sum + rollup.sum, 0)).toBe(10);
    });

    it("starts every window fresh", async () => {
      const { progression, clock } = await engine(definitions, { statGuards });
      const suspicious = suspiciousOf(progression);
      clock.advance(MINUTE - 1); // the last millisecond of the first window
      await progression.recordBatch(kills("p1", [8, 2]));
      clock.advance(1);
      await progression.recordBatch(kills("p1", [8, 2]));
      expect((await current(progression, "p1"))["kills_100"]).toBe(20);
      await progression.record({ type: "kill", subject: "p1" });
      expect((await current(progression, "p1"))["kills_100"]).toBe(20);
      expect((await suspicious()).map((event) => [event.value, event.at])).toEqual([[11, T0 + MINUTE]]);
    });

    it("reports nothing and applies nothing for a duplicate batch, and counts a batch's usage once", async () => {
      const { progression } = await engine(definitions, { statGuards });
      const suspicious = suspiciousOf(progression);
      const buffer = progression.createBuffer();
      buffer.add({ type: "kill", subject: "p1", amount: 6 });
      const applied = buffer.drain();
      expect(applied.subjects[0]?.guards).toEqual([{ trigger: "kill", amount: 6, limit: 10, windowMs: MINUTE, counters: expect.any(Array) }]);
      await progression.applyBatch(applied);
      await progression.applyBatch(applied, { retried: true });
      for (const amount of [5, 6]) buffer.add({ type: "kill", subject: "p1", amount });
      const refused = buffer.drain();
      await progression.applyBatch(refused);
      await progression.applyBatch(refused);
      await progression.applyBatch(refused, { retried: true });
      expect((await suspicious()).map((event) => event.value)).toEqual([17]);
      // 6 of 10 used, once: 4 more fit.
      await progression.recordBatch(kills("p1", [4]));
      expect((await current(progression, "p1"))["kills_100"]).toBe(10);
    });

    it("lets two engines on one store not pass the limit together", async () => {
      const first = await engine(definitions, { statGuards });
      const shared = new Proxy(first.fixture.backend, {
        get(target, property) {
          if (property === "close") return async () => {};
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const second = await engine(definitions, { statGuards, backend: shared });
      const suspicious = [suspiciousOf(first.progression), suspiciousOf(second.progression)];
      // Each engine alone stays under the limit (6 of 10); together they would pass it.
      const batches = [first.progression, second.progression].map((progression) => {
        const buffer = progression.createBuffer();
        buffer.add({ type: "kill", subject: "p1", amount: 6 });
        return { progression, batch: buffer.drain() };
      });
      await Promise.all(batches.map(({ progression, batch }) => progression.applyBatch(batch)));
      expect((await current(first.progression, "p1"))["kills_100"]).toBe(6);
      const reports = [...(await suspicious[0]?.()) ?? [], ...(await suspicious[1]?.()) ?? []];
      expect(reports.map((event) => [event.subject, event.value])).toEqual([["p1", 12]]);
    });

    it("reports each refused trigger in the backend's `guarded`, with the value it would have reached", async () => {
      const { fixture } = await engine(definitions);
      const { plan } = compileMilestones(loadDefinitions(definitions), new Map());
      const counterOf = (trigger: string) => [...plan.counters].filter(([, spec]) => spec.trigger === trigger).map(([id]) => id);
      const [killCounter] = counterOf("kill");
      const [lootCounter] = counterOf("loot");
      if (killCounter === undefined || lootCounter === undefined) throw new Error("the plan has no kill or loot counter");
      const guard = (trigger: string, amount: number, limit: number): GuardCheck => ({ trigger, amount, limit, windowMs: MINUTE, counters: counterOf(trigger) });
      const apply = (batchId: string, killAmount: number, lootAmount: number) =>
        fixture.backend.apply({
          batchId,
          now: T0,
          plan,
          subjects: [
            {
              subject: "p1",
              catchUp: false,
              increments: [
                { counter: killCounter, amount: killAmount, at: T0 },
                { counter: lootCounter, amount: lootAmount, at: T0 },
              ],
              guards: [guard("kill", killAmount, 10), guard("loot", lootAmount, 100)],
            },
          ],
        });
      expect((await apply("b1", 9, 50))[0]?.guarded ?? []).toEqual([]);
      const [refused] = await apply("b2", 2, 60);
      expect(refused?.guarded).toEqual([
        { trigger: "kill", limit: 10, windowMs: MINUTE, value: 11 },
        { trigger: "loot", limit: 100, windowMs: MINUTE, value: 110 },
      ]);
      const [duplicate] = await apply("b2", 2, 60);
      expect([duplicate?.duplicate, duplicate?.guarded ?? []]).toEqual([true, []]);
      const state = await fixture.backend.readState("p1");
      const sum = (id: string) => {
        const counter = state.counters.get(id);
        return counter?.kind === "sum" ? counter.value : undefined;
      };
      expect([sum(killCounter), sum(lootCounter)]).toEqual([9, 50]);
    });
  });

  describe("maxAmount", () => {
    it("refuses an event carrying more than the most per event with GUARD_EXCEEDED, keeping nothing of the call", async () => {
      const { progression } = await engine(definitions, { statGuards });
      const suspicious = suspiciousOf(progression);
      const refused = progression.recordBatch([...kills("p1", [3]), ...kills("p1", [9])]);
      await expect(refused).rejects.toBeInstanceOf(ProgressionError);
      await expect(refused).rejects.toMatchObject({ code: ErrorCode.GuardExceeded, message: expect.stringContaining("statGuards.kill.maxAmount") });
      const buffer = progression.createBuffer();
      expect(() => buffer.add({ type: "kill", subject: "p1", amount: 9, at: T0 - 1 })).toThrow(expect.objectContaining({ code: ErrorCode.GuardExceeded }));
      expect(buffer.pendingEvents).toBe(0);
      expect((await current(progression, "p1"))["kills_100"]).toBe(0);
      expect(await progression.history("p1")).toEqual([]);
      expect(await suspicious()).toEqual([
        { subject: "p1", trigger: "kill", guard: "maxAmount", limit: 8, value: 9, at: T0 },
        { subject: "p1", trigger: "kill", guard: "maxAmount", limit: 8, value: 9, at: T0 - 1 },
      ]);
      // Up to the limit is fine, and other triggers have no guard.
      await progression.recordBatch([...kills("p1", [8]), { type: "loot", subject: "p1", amount: 1_000 }]);
      expect(await current(progression, "p1")).toMatchObject({ kills_100: 8, looter: 1_000 });
    });
  });
}
