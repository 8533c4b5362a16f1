import { describe, expect, it } from "vitest";
import type { BackendFactory } from "../support/backend-factories.ts";
import { codes, DAY, milestone, T0, useEngines } from "./engine-fixture.ts";

/** `boss` (one boss kill) is the precondition of `veteran` (three kills), which `legend` (five kills) requires in turn. */
const boss = milestone("boss", "boss_kill", { type: "count", threshold: 1 });
const veteran = milestone("veteran", "kill", { type: "count", threshold: 3 }, { requires: ["boss"] });
const legend = milestone("legend", "kill", { type: "count", threshold: 5, where: { zone: "north" } }, { requires: ["veteran"] });
const kills3 = milestone("kills_3", "kill", { type: "count", threshold: 3 });

const kills = (subject: string, count: number, from: number, tags: Record<string, string> = {}) =>
  Array.from({ length: count }, (_, i) => ({ type: "kill", subject, tags, at: from + i * 1000 }));

/** Preconditions (docs/semantics.md, "Preconditions"): the same cases on every backend. */
export function preconditionsConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);

  describe("a pair", () => {
    it("keeps counting a dependent that qualifies first and awards it when the precondition lands, stamped with the later time", async () => {
      const { progression, delivered } = await engine([boss, veteran]);
      expect(codes(await progression.recordBatch(kills("p1", 4, T0)))).toEqual([]);
      expect((await progression.progress("p1")).find((p) => p.code === "veteran")).toMatchObject({ current: 4, status: "in_progress" });
      const landed = await progression.record({ type: "boss_kill", subject: "p1", at: T0 + 60_000 });
      expect(landed.map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([
        ["boss", T0 + 60_000, false],
        ["veteran", T0 + 60_000, false],
      ]);
      expect(codes(await progression.recordBatch(kills("p1", 2, T0 + 120_000)))).toEqual([]);
      expect(delivered.get("milestone.reached")?.map((e) => e.payload.code)).toEqual(["boss", "veteran"]);
      expect(await progression.milestoneStats()).toMatchObject({ boss: { reached: 1 }, veteran: { reached: 1 } });
    });

    it("inside one batch: a dependent that passed earlier in the batch is awarded with the precondition", async () => {
      const { progression } = await engine([boss, veteran]);
      const landed = await progression.recordBatch([...kills("p1", 3, T0), { type: "boss_kill", subject: "p1", at: T0 + 30_000 }, ...kills("p1", 1, T0 + 40_000)]);
      expect(landed.map((u) => [u.code, u.earnedAt])).toEqual([
        ["boss", T0 + 30_000],
        ["veteran", T0 + 30_000],
      ]);
    });

    it("with the precondition held, the dependent is awarded at its own crossing", async () => {
      const { progression } = await engine([boss, veteran]);
      await progression.record({ type: "boss_kill", subject: "p1", at: T0 });
      const crossed = await progression.recordBatch(kills("p1", 3, T0 + 10_000));
      expect(crossed.map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([["veteran", T0 + 12_000, false]]);
    });

    it("a dependent waits for every code it requires", async () => {
      const both = milestone("champion", "kill", { type: "count", threshold: 1 }, { requires: ["boss", "kills_3"] });
      const { progression } = await engine([boss, kills3, both]);
      expect(codes(await progression.record({ type: "boss_kill", subject: "p1", at: T0 }))).toEqual(["boss"]);
      expect(codes(await progression.recordBatch(kills("p1", 2, T0 + 1000)))).toEqual([]);
      const landed = await progression.record({ type: "kill", subject: "p1", at: T0 + 5000 });
      expect(landed.map((u) => [u.code, u.earnedAt])).toEqual([
        ["kills_3", T0 + 5000],
        ["champion", T0 + 5000],
      ]);
    });
  });

  describe("chains", () => {
    it("resolves a chain in one apply when its first link lands last", async () => {
      const { progression } = await engine([boss, veteran, legend]);
      expect(codes(await progression.recordBatch(kills("p1", 6, T0, { zone: "north" })))).toEqual([]);
      const landed = await progression.record({ type: "boss_kill", subject: "p1", at: T0 + DAY });
      expect(landed.map((u) => [u.code, u.earnedAt])).toEqual([
        ["boss", T0 + DAY],
        ["veteran", T0 + DAY],
        ["legend", T0 + DAY],
      ]);
      const state = await progression.backend.readState("p1");
      expect([...state.awards.keys()].sort()).toEqual(["boss", "legend", "veteran"]);
    });

    it("stops at a link whose own check does not pass, and resumes when it does", async () => {
      const { progression } = await engine([boss, veteran, legend]);
      await progression.recordBatch(kills("p1", 2, T0, { zone: "north" }));
      expect(codes(await progression.record({ type: "boss_kill", subject: "p1", at: T0 + 10_000 }))).toEqual(["boss"]);
      const landed = await progression.recordBatch(kills("p1", 3, T0 + 20_000, { zone: "north" }));
      expect(landed.map((u) => [u.code, u.earnedAt])).toEqual([
        ["veteran", T0 + 20_000],
        ["legend", T0 + 22_000],
      ]);
    });
  });

  describe("catch-up", () => {
    it("awards a precondition and its dependent retroactive, the dependent stamped with the later time", async () => {
      const sleepingBoss = { ...boss, active: false };
      const { progression } = await engine([kills3, sleepingBoss], { history: false });
      await progression.recordBatch(kills("p1", 3, T0));
      await progression.record({ type: "boss_kill", subject: "p1", at: T0 + 50_000 });
      progression.reload({ definitions: [kills3, boss, veteran] });
      const caught = await progression.catchUp("p1");
      expect(caught.map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([
        ["boss", T0 + 50_000, true],
        ["veteran", T0 + 50_000, true],
      ]);
      expect(await progression.catchUp("p1")).toEqual([]);
    });

    it("awards a dependent whose precondition was held before it was defined", async () => {
      const { progression } = await engine([boss, kills3], { history: false });
      await progression.record({ type: "boss_kill", subject: "p1", at: T0 });
      await progression.recordBatch(kills("p1", 3, T0 + DAY));
      progression.reload({ definitions: [boss, kills3, veteran] });
      expect((await progression.catchUp("p1")).map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([["veteran", T0 + DAY + 2000, true]]);
    });
  });

  describe("exactly once", () => {
    it("a duplicate batch awards nothing twice, and a retry announces the dependent with its precondition", async () => {
      const { progression, delivered } = await engine([boss, veteran, legend]);
      await progression.recordBatch(kills("p1", 5, T0, { zone: "north" }));
      const buffer = progression.createBuffer();
      buffer.add({ type: "boss_kill", subject: "p1", at: T0 + 10_000 });
      const batch = buffer.drain();
      const [first] = await progression.applyBatch(batch);
      expect(first?.reached.map((a) => a.code)).toEqual(["boss", "veteran", "legend"]);
      const [again] = await progression.applyBatch(batch);
      expect(again?.reached).toEqual([]);
      const [retried] = await progression.applyBatch(batch, { retried: true });
      expect(retried?.reached.map((a) => [a.code, a.earnedAt])).toEqual([
        ["boss", T0 + 10_000],
        ["veteran", T0 + 10_000],
        ["legend", T0 + 10_000],
      ]);
      expect(await progression.milestoneStats()).toMatchObject({ boss: { reached: 1 }, veteran: { reached: 1 }, legend: { reached: 1 } });
      expect((await progression.backend.readState("p1")).awards.size).toBe(3);
      expect(delivered.get("milestone.reached")?.filter((e) => e.payload.code === "veteran").length).toBeGreaterThanOrEqual(1);
    });
  });

  describe("an inactive precondition", () => {
    it("blocks its dependents while it is not awarded", async () => {
      const { progression } = await engine([{ ...boss, active: false }, veteran]);
      await progression.record({ type: "boss_kill", subject: "p1", at: T0 });
      expect(codes(await progression.recordBatch(kills("p1", 5, T0 + 1000)))).toEqual([]);
      expect(await progression.catchUp("p1")).toEqual([]);
      expect((await progression.progress("p1")).find((p) => p.code === "veteran")).toMatchObject({ current: 5, status: "in_progress" });
    });

    it("counts when it was awarded before it was deactivated (awards are receipts)", async () => {
      const { progression } = await engine([boss, veteran]);
      await progression.record({ type: "boss_kill", subject: "p1", at: T0 });
      progression.reload({ definitions: [{ ...boss, active: false }, veteran] });
      expect(codes(await progression.recordBatch(kills("p1", 3, T0 + 1000)))).toEqual(["veteran"]);
    });
  });

  describe("history", () => {
    const history = (subject: string) => [...kills(subject, 4, T0 - 5 * DAY), { type: "boss_kill", subject, at: T0 - 2 * DAY }];

    it("backfills a precondition and a dependent both new, the dependent on the precondition's day", async () => {
      const { progression } = await engine([milestone("first_kill", "kill", { type: "count", threshold: 1, where: { zone: "none" } })]);
      await progression.recordBatch(history("p1"));
      progression.reload({ definitions: [boss, veteran] });
      const result = await progression.backfill();
      expect(result).toMatchObject({ seeded: 1, awarded: 2 });
      const awards = (await progression.backend.readState("p1")).awards;
      expect([awards.get("boss")?.earnedAt, awards.get("veteran")?.earnedAt]).toEqual([T0 - 2 * DAY, T0 - 2 * DAY]);
      expect(awards.get("veteran")?.retroactive).toBe(true);
    });

    it("a backfilled precondition awards a dependent whose stored counter already passes, in the same step", async () => {
      const { progression, delivered } = await engine([kills3]);
      await progression.recordBatch(history("p1"));
      // `veteran` shares kills_3's counter (kept); `boss` counts on a new one, replayed from history.
      progression.reload({ definitions: [kills3, boss, veteran] });
      await progression.backfill();
      const awards = (await progression.backend.readState("p1")).awards;
      expect([awards.get("boss")?.earnedAt, awards.get("veteran")?.earnedAt]).toEqual([T0 - 2 * DAY, T0 - 2 * DAY]);
      expect(delivered.get("milestone.reached")?.map((e) => e.payload.code)).toEqual(["kills_3", "boss", "veteran"]);
      expect(await progression.catchUp("p1")).toEqual([]);
    });

    it("a backfilled dependent whose precondition is not held waits, and is awarded when it lands", async () => {
      const { progression } = await engine([kills3]);
      await progression.recordBatch(kills("p1", 4, T0 - 5 * DAY, { zone: "north" }));
      const northVeteran = milestone("north_veteran", "kill", { type: "count", threshold: 3, where: { zone: "north" } }, { requires: ["boss"] });
      progression.reload({ definitions: [kills3, boss, northVeteran] });
      expect(await progression.backfill()).toMatchObject({ seeded: 1, awarded: 0 });
      expect([...(await progression.backend.readState("p1")).awards.keys()]).toEqual(["kills_3"]);
      expect((await progression.progress("p1")).find((p) => p.code === "north_veteran")).toMatchObject({ current: 4, status: "in_progress" });
      const landed = await progression.record({ type: "boss_kill", subject: "p1", at: T0 });
      expect(landed.map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([
        ["boss", T0, false],
        ["north_veteran", T0, false],
      ]);
    });

    it("simulates a dependent as qualifying only with its precondition held or qualifying", async () => {
      const { progression } = await engine([kills3]);
      await progression.recordBatch(history("p1"));
      await progression.recordBatch(kills("p2", 4, T0 - 5 * DAY));
      const report = await progression.simulate([kills3, boss, veteran]);
      const of = (code: string) => report.milestones.find((m) => m.code === code);
      expect(of("boss")).toMatchObject({ qualifying: 1, wouldAward: 1 });
      expect(of("veteran")).toMatchObject({ qualifying: 1, wouldAward: 1, examples: ["p1"] });
      const inactiveBoss = await progression.simulate([kills3, { ...boss, active: false }, veteran]);
      expect(inactiveBoss.milestones.find((m) => m.code === "veteran")).toMatchObject({ qualifying: 0, wouldAward: 0 });
    });
  });
}
