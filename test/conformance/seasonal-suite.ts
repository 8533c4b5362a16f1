import { describe, expect, it } from "vitest";
import type { BackendFactory } from "../support/backend-factories.ts";
import { codes, DAY, milestone, T0, useEngines } from "./engine-fixture.ts";

/** The season: two UTC days after T0's (2026-01-06 and 01-07); `availableUntil` is exclusive. */
const OPENS = Date.UTC(2026, 0, 6);
const CLOSES = Date.UTC(2026, 0, 8);
const HOUR = 3_600_000;
const season = { availableFrom: "2026-01-06T00:00:00Z", availableUntil: "2026-01-08T00:00:00Z" };
const winter = milestone("winter_hunt", "kill", { type: "count", threshold: 3 }, season);
const kills100 = milestone("kills_100", "kill", { type: "count", threshold: 100 });
const boss = milestone("boss", "boss_kill", { type: "count", threshold: 1 });

const killsAt = (subject: string, times: readonly number[]) => times.map((at) => ({ type: "kill", subject, at }));
const current = async (progression: { progress(subject: string): Promise<readonly { code: string; current: number; status: string }[]> }, subject: string, code: string) =>
  (await progression.progress(subject)).find((p) => p.code === code);

/** Seasonal milestones (docs/semantics.md, "Seasonal milestones"): the same cases on every backend. */
export function seasonalConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);

  describe("counting", () => {
    it("counts only events inside the period (from inclusive, until exclusive), on a counter of its own", async () => {
      const { progression } = await engine([winter, kills100]);
      await progression.recordBatch(killsAt("p1", [T0, OPENS - 1, CLOSES, CLOSES + DAY]));
      expect(await current(progression, "p1", "winter_hunt")).toMatchObject({ current: 0 });
      expect(await current(progression, "p1", "kills_100")).toMatchObject({ current: 4 });
      await progression.recordBatch(killsAt("p1", [OPENS, CLOSES - 1]));
      expect(await current(progression, "p1", "winter_hunt")).toMatchObject({ current: 2, status: "in_progress" });
      expect((await progression.backend.readState("p1")).counters.size).toBe(2);
    });

    it("awards inside the period, stamped with the event that crossed it", async () => {
      const { progression, clock } = await engine([winter]);
      clock.now = OPENS + HOUR;
      expect(codes(await progression.recordBatch(killsAt("p1", [OPENS - HOUR, OPENS + HOUR, OPENS + 2 * HOUR])))).toEqual([]);
      const unlocked = await progression.record({ type: "kill", subject: "p1", at: OPENS + DAY });
      expect(unlocked.map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([["winter_hunt", OPENS + DAY, false]]);
    });

    it("keeps an award made in the period after it closes", async () => {
      const { progression, clock } = await engine([winter]);
      clock.now = OPENS + HOUR;
      expect(codes(await progression.recordBatch(killsAt("p1", [OPENS, OPENS + 1000, OPENS + 2000])))).toEqual(["winter_hunt"]);
      clock.now = CLOSES + DAY;
      expect(await progression.catchUp("p1")).toEqual([]);
      expect(codes(await progression.recordBatch(killsAt("p1", [CLOSES + DAY])))).toEqual([]);
      expect(await current(progression, "p1", "winter_hunt")).toMatchObject({ current: 3, status: "completed" });
      expect((await progression.backend.readState("p1")).awards.get("winter_hunt")?.earnedAt).toBe(OPENS + 2000);
      expect(await progression.milestoneStats()).toMatchObject({ winter_hunt: { reached: 1 } });
    });
  });

  describe("catch-up", () => {
    it("awards a milestone met in the period while it is open, and nothing once it closed", async () => {
      const { progression, clock } = await engine([{ ...winter, active: false }]);
      await progression.recordBatch([...killsAt("early", [OPENS, OPENS + 1000, OPENS + 2000]), ...killsAt("late", [OPENS, OPENS + 1000, OPENS + 2000])]);
      progression.reload({ definitions: [winter] });
      clock.now = CLOSES - 1;
      expect((await progression.catchUp("early")).map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([["winter_hunt", OPENS + 2000, true]]);
      clock.now = CLOSES;
      expect(await progression.catchUp("late")).toEqual([]);
      expect(await current(progression, "late", "winter_hunt")).toMatchObject({ current: 3 });
      expect(await progression.milestoneStats()).toMatchObject({ winter_hunt: { reached: 1 } });
    });

    it("a precondition landing after the close awards nothing for a closed seasonal dependent", async () => {
      const { progression, clock } = await engine([boss, { ...winter, requires: ["boss"] }]);
      clock.now = OPENS;
      expect(codes(await progression.recordBatch(killsAt("p1", [OPENS, OPENS + 1000, OPENS + 2000])))).toEqual([]);
      clock.now = CLOSES + HOUR;
      expect(codes(await progression.record({ type: "boss_kill", subject: "p1", at: CLOSES + HOUR }))).toEqual(["boss"]);
      expect(await progression.catchUp("p1")).toEqual([]);
    });

    it("a precondition landing while it is open awards the seasonal dependent with it", async () => {
      const { progression, clock } = await engine([boss, { ...winter, requires: ["boss"] }]);
      clock.now = OPENS + DAY;
      await progression.recordBatch(killsAt("p1", [OPENS, OPENS + 1000, OPENS + 2000]));
      const landed = await progression.record({ type: "boss_kill", subject: "p1", at: OPENS + DAY });
      expect(landed.map((u) => [u.code, u.earnedAt])).toEqual([
        ["boss", OPENS + DAY],
        ["winter_hunt", OPENS + DAY],
      ]);
    });
  });

  describe("history", () => {
    const history = (subject: string) => killsAt(subject, [T0, T0 + 1000, OPENS + HOUR, OPENS + 2 * HOUR, OPENS + DAY + HOUR, CLOSES + HOUR, CLOSES + 2 * HOUR]);

    it("backfills a seasonal milestone from the events inside its period while it is open", async () => {
      const { progression, clock } = await engine([kills100]);
      await progression.recordBatch(history("p1"));
      progression.reload({ definitions: [kills100, winter] });
      clock.now = OPENS + DAY + 2 * HOUR;
      expect(await progression.backfill()).toMatchObject({ seeded: 1, awarded: 1 });
      const award = (await progression.backend.readState("p1")).awards.get("winter_hunt");
      expect(award).toMatchObject({ earnedAt: OPENS + DAY + HOUR, retroactive: true });
      expect(await current(progression, "p1", "winter_hunt")).toMatchObject({ current: 3 });
    });

    it("backfills the counter of a closed seasonal milestone but awards nothing", async () => {
      const { progression, clock } = await engine([kills100]);
      await progression.recordBatch(history("p1"));
      progression.reload({ definitions: [kills100, winter] });
      clock.now = CLOSES + DAY;
      expect(await progression.backfill()).toMatchObject({ seeded: 1, awarded: 0 });
      expect(await current(progression, "p1", "winter_hunt")).toMatchObject({ current: 3 });
      expect((await progression.backend.readState("p1")).awards.has("winter_hunt")).toBe(false);
      expect(await progression.catchUp("p1")).toEqual([]);
    });

    it("simulates a seasonal milestone: qualifying from in-period history, awarded only while open", async () => {
      const { progression, clock } = await engine([kills100]);
      await progression.recordBatch([...history("p1"), ...killsAt("p2", [T0, CLOSES + HOUR, CLOSES + 2 * HOUR, CLOSES + 3 * HOUR])]);
      clock.now = OPENS + HOUR;
      const open = (await progression.simulate([kills100, winter])).milestones.find((m) => m.code === "winter_hunt");
      expect(open).toMatchObject({ change: "new", qualifying: 1, wouldAward: 1, examples: ["p1"] });
      clock.now = CLOSES;
      const closed = (await progression.simulate([kills100, winter])).milestones.find((m) => m.code === "winter_hunt");
      expect(closed).toMatchObject({ qualifying: 1, wouldAward: 0 });
    });
  });
}
