import { expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { BackendFactory } from "../support/backend-factories.ts";
import { DAY, milestone, useEngines } from "./engine-fixture.ts";

const tiers = [
  milestone("kills_1", "kill", { type: "count", threshold: 1 }),
  milestone("kills_10", "kill", { type: "count", threshold: 10 }),
  milestone("kills_100", "kill", { type: "count", threshold: 100 }),
];

/** Rarity (docs/semantics.md, "Rarity"): of the players active in the window, the share holding each award. */
export function rarityConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);

  it("is the share of the window's active players holding each award", async () => {
    const { progression } = await engine(tiers);
    expect(await progression.rarity()).toEqual({
      kills_1: { percent: 0, holders: 0, activePlayers: 0, windowDays: 30 },
      kills_10: { percent: 0, holders: 0, activePlayers: 0, windowDays: 30 },
      kills_100: { percent: 0, holders: 0, activePlayers: 0, windowDays: 30 },
    });
    await progression.recordBatch([
      { type: "kill", subject: "p1", amount: 10 },
      { type: "kill", subject: "p2" },
      { type: "kill", subject: "p3" },
      { type: "kill", subject: "p4", amount: 12 },
      { type: "kill", subject: "p5", amount: 2 },
      { type: "kill", subject: "p6" },
    ]);
    const rarity = await progression.rarity();
    expect(rarity.kills_1).toEqual({ percent: 100, holders: 6, activePlayers: 6, windowDays: 30 });
    expect(rarity.kills_10).toEqual({ percent: 33.3, holders: 2, activePlayers: 6, windowDays: 30 });
    expect(rarity.kills_100?.holders).toBe(0);
  });

  it("counts a player while its latest apply is in the window, and once again when it comes back", async () => {
    const { progression, clock } = await engine(tiers, { rarity: { windowDays: 30 } });
    await progression.record({ type: "kill", subject: "veteran", amount: 10 });
    clock.advance(29 * DAY); // the window is today and the 29 days before: still in
    await progression.record({ type: "kill", subject: "newcomer" });
    expect((await progression.rarity()).kills_10).toMatchObject({ holders: 1, activePlayers: 2, percent: 50 });
    clock.advance(DAY); // the veteran's day leaves the window
    await progression.record({ type: "kill", subject: "late", at: clock.now });
    expect((await progression.rarity()).kills_10).toMatchObject({ holders: 0, activePlayers: 2, percent: 0 });
    // Back: counted under today, not twice (its old day no longer counts it).
    await progression.record({ type: "kill", subject: "veteran" });
    await progression.record({ type: "kill", subject: "veteran" });
    expect((await progression.rarity()).kills_10).toMatchObject({ holders: 1, activePlayers: 3 });
    expect((await progression.rarity()).kills_1).toMatchObject({ holders: 3, activePlayers: 3, percent: 100 });
  });

  it("counts an award made on a later day once, and moves a player's awards with its activity", async () => {
    const { progression, clock } = await engine(tiers, { rarity: { windowDays: 7 } });
    await progression.record({ type: "kill", subject: "p1", amount: 9 });
    clock.advance(3 * DAY);
    await progression.record({ type: "kill", subject: "p1" }); // kills_10 today; kills_1 moves from day 0
    clock.advance(5 * DAY); // day 0 has left the window, day 3 has not
    const rarity = await progression.rarity();
    expect([rarity.kills_1?.holders, rarity.kills_10?.holders, rarity.kills_1?.activePlayers]).toEqual([1, 1, 1]);
  });

  it("counts nothing twice for a replayed batch, and takes an erased player out", async () => {
    const { progression } = await engine(tiers);
    const buffer = progression.createBuffer();
    buffer.add({ type: "kill", subject: "p1", amount: 10 });
    buffer.add({ type: "kill", subject: "p2" });
    const batch = buffer.drain();
    await progression.applyBatch(batch);
    await progression.applyBatch(batch);
    await progression.applyBatch(batch, { retried: true });
    expect((await progression.rarity()).kills_1).toMatchObject({ holders: 2, activePlayers: 2 });
    await progression.erase("p1");
    const after = await progression.rarity();
    expect([after.kills_1?.holders, after.kills_10?.holders, after.kills_1?.activePlayers]).toEqual([1, 0, 1]);
  });

  it("counts catch-up and backfill awards for the player who earned them", async () => {
    const { progression } = await engine(tiers);
    await progression.recordBatch(Array.from({ length: 5 }, () => ({ type: "kill", subject: "p1", tags: { creature: "troll" } })));
    await progression.record({ type: "kill", subject: "p2" });
    progression.reload({
      definitions: [
        ...tiers,
        milestone("kills_5", "kill", { type: "count", threshold: 5 }), // the tiers' counter: catch-up
        milestone("troll_slayer", "kill", { type: "count", threshold: 5, where: { creature: "troll" } }), // new counter: backfill
      ],
    });
    await progression.backfill();
    await progression.catchUp("p1");
    const rarity = await progression.rarity();
    expect([rarity.kills_5?.holders, rarity.troll_slayer?.holders, rarity.kills_5?.activePlayers]).toEqual([1, 1, 2]);
  });

  it("refuses a window outside 1-366 days, naming the option", () => {
    for (const windowDays of [0, 367, 1.5]) {
      expect(() => createProgression({ definitions: tiers, rarity: { windowDays } })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput, message: expect.stringContaining("rarity.windowDays") }));
    }
  });
}
