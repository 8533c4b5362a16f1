import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { ProgressionError } from "../../src/errors/progression-error.ts";
import type { BackendFactory } from "../support/backend-factories.ts";
import { codes, DAY, milestone, T0, useEngines } from "./engine-fixture.ts";

const killTiers = [
  milestone("kills_1", "kill", { type: "count", threshold: 1 }),
  milestone("kills_10", "kill", { type: "count", threshold: 10 }),
  milestone("kills_100", "kill", { type: "count", threshold: 100 }),
];

/** Milestone rules, awards, catch-up and claims: the same cases on every backend. */
export function progressionConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);

  describe("count rule", () => {
    it("awards once when the threshold is crossed, stamped with the crossing event's time", async () => {
      const { progression, clock } = await engine(killTiers);
      expect(codes(await progression.record({ type: "kill", subject: "p1", at: T0 - 5000 }))).toEqual(["kills_1"]);
      const batch = Array.from({ length: 8 }, (_, i) => ({ type: "kill", subject: "p1", at: T0 + i * 10_000 }));
      expect(codes(await progression.recordBatch(batch))).toEqual([]);
      clock.advance(100_000);
      const crossing = await progression.record({ type: "kill", subject: "p1", at: T0 + 90_000 });
      expect(crossing.map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([["kills_10", T0 + 90_000, false]]);
      expect(codes(await progression.record({ type: "kill", subject: "p1" }))).toEqual([]);
      const progress = await progression.progress("p1");
      expect(progress.map((p) => [p.code, p.current, p.target, p.status])).toEqual([
        ["kills_1", 11, 1, "completed"],
        ["kills_10", 11, 10, "completed"],
        ["kills_100", 11, 100, "in_progress"],
      ]);
    });

    it("tiers with the same trigger and filter share one counter", async () => {
      const { progression } = await engine(killTiers);
      const buffer = progression.createBuffer();
      buffer.add({ type: "kill", subject: "p1", amount: 100 });
      expect(buffer.pendingIncrements).toBe(1);
      const [outcome] = await progression.applyBatch(buffer.drain());
      expect(outcome?.reached.map((a) => a.code)).toEqual(["kills_1", "kills_10", "kills_100"]);
      const state = await progression.backend.readState("p1");
      expect(state.counters.size).toBe(1);
    });

    it("counts only events whose tags match every `where` entry", async () => {
      const { progression } = await engine([
        milestone("skaven_slayer", "kill", { type: "count", threshold: 3, where: { creature: "skaven_warrior" } }),
        milestone("elite_skaven", "kill", { type: "count", threshold: 2, where: { creature: "skaven_warrior", rank: "elite" } }),
      ]);
      await progression.recordBatch([
        { type: "kill", subject: "p1", tags: { creature: "rat" } },
        { type: "kill", subject: "p1", tags: { creature: "skaven_warrior" } },
        { type: "kill", subject: "p1", tags: { creature: "skaven_warrior", rank: "elite" } },
        { type: "kill", subject: "p1", tags: { rank: "elite" } },
      ]);
      const unlocked = await progression.record({ type: "kill", subject: "p1", tags: { creature: "skaven_warrior", rank: "elite" } });
      expect(codes(unlocked).sort()).toEqual(["elite_skaven", "skaven_slayer"]);
    });

    it("sums event amounts and keeps subjects apart", async () => {
      const { progression } = await engine([milestone("rich", "loot", { type: "count", threshold: 500 })]);
      await progression.recordBatch([
        { type: "loot", subject: "a", amount: 300 },
        { type: "loot", subject: "b", amount: 100 },
      ]);
      expect(codes(await progression.record({ type: "loot", subject: "a", amount: 200 }))).toEqual(["rich"]);
      expect((await progression.progress("b"))[0]?.current).toBe(100);
    });

    it("accepts unknown event types and counts nothing for them", async () => {
      const { progression } = await engine(killTiers);
      expect(await progression.record({ type: "dance", subject: "p1" })).toEqual([]);
      expect((await progression.backend.readState("p1")).counters.size).toBe(0);
    });
  });

  describe("window rule", () => {
    const windowed = [milestone("rampage", "kill", { type: "window", count: 3, days: 2 })];

    it("needs the count within the event's UTC day and the days-1 before it", async () => {
      const { progression } = await engine(windowed);
      const day0 = Date.UTC(2026, 0, 10, 23, 59);
      await progression.record({ type: "kill", subject: "p1", at: day0 });
      await progression.record({ type: "kill", subject: "p1", at: day0 + 2 * DAY }); // day 2: day 0 is outside a 2-day window
      expect(codes(await progression.record({ type: "kill", subject: "p1", at: day0 + 2 * DAY + 1000 }))).toEqual([]);
      const unlocked = await progression.record({ type: "kill", subject: "p1", at: Date.UTC(2026, 0, 13, 0, 1) }); // day 3: days 2+3
      expect(unlocked.map((u) => [u.code, u.earnedAt])).toEqual([["rampage", Date.UTC(2026, 0, 13, 0, 1)]]);
    });

    it("counts events at both ends of the window (day start and day end)", async () => {
      const { progression } = await engine(windowed);
      await progression.recordBatch([
        { type: "kill", subject: "p1", at: Date.UTC(2026, 0, 10, 0, 0, 0) },
        { type: "kill", subject: "p1", at: Date.UTC(2026, 0, 10, 0, 0, 1) },
      ]);
      expect(codes(await progression.record({ type: "kill", subject: "p1", at: Date.UTC(2026, 0, 11, 23, 59, 59) }))).toEqual(["rampage"]);
    });

    it("reports the current window in progress", async () => {
      const { progression, clock } = await engine(windowed);
      clock.now = Date.UTC(2026, 0, 10, 12);
      await progression.record({ type: "kill", subject: "p1", amount: 2 });
      expect((await progression.progress("p1"))[0]?.current).toBe(2);
      clock.advance(3 * DAY);
      expect((await progression.progress("p1"))[0]?.current).toBe(0);
    });
  });

  describe("daily rule", () => {
    it("counts distinct UTC days, never resets, and counts a day once even out of order", async () => {
      const { progression } = await engine([milestone("regular", "login", { type: "daily", days: 3 })]);
      const day = (d: number, h = 12) => Date.UTC(2026, 0, d, h);
      await progression.recordBatch([
        { type: "login", subject: "p1", at: day(1, 1) },
        { type: "login", subject: "p1", at: day(1, 23) },
        { type: "login", subject: "p1", at: day(20) },
      ]);
      expect(codes(await progression.record({ type: "login", subject: "p1", at: day(1, 5) }))).toEqual([]);
      const unlocked = await progression.record({ type: "login", subject: "p1", at: day(4) });
      expect(unlocked.map((u) => [u.code, u.earnedAt])).toEqual([["regular", day(4)]]);
    });
  });

  describe("returnAfterGap rule", () => {
    const comeback = [milestone("welcome_back", "login", { type: "returnAfterGap", days: 7 })];

    it("awards when the gap since the previous trigger event reaches the days", async () => {
      const { progression } = await engine(comeback);
      expect(codes(await progression.record({ type: "login", subject: "p1", at: T0 }))).toEqual([]);
      expect(codes(await progression.record({ type: "login", subject: "p1", at: T0 + 6 * DAY }))).toEqual([]);
      expect(codes(await progression.record({ type: "login", subject: "p1", at: T0 + 13 * DAY - 1 }))).toEqual([]);
      const unlocked = await progression.record({ type: "login", subject: "p1", at: T0 + 20 * DAY });
      expect(unlocked.map((u) => [u.code, u.earnedAt, u.retroactive])).toEqual([["welcome_back", T0 + 20 * DAY, false]]);
    });

    it("ignores a late event older than the last one", async () => {
      const { progression } = await engine(comeback);
      await progression.record({ type: "login", subject: "p1", at: T0 + 10 * DAY });
      expect(codes(await progression.record({ type: "login", subject: "p1", at: T0 }))).toEqual([]);
      expect(codes(await progression.record({ type: "login", subject: "p1", at: T0 + 11 * DAY }))).toEqual([]);
    });

    it("runs on catch-up (join) with the join time", async () => {
      const { progression, clock } = await engine(comeback);
      await progression.catchUp("p1");
      clock.advance(8 * DAY);
      expect(codes(await progression.catchUp("p1"))).toEqual(["welcome_back"]);
    });
  });

  describe("custom rule", () => {
    it("counts the amounts of events its registered evaluator accepts, with the definition's params", async () => {
      const { progression } = await engine(
        [milestone("swordsman", "kill", { type: "custom", evaluator: "weaponPrefix", threshold: 2, params: { prefix: "sword" } })],
        { evaluators: { weaponPrefix: (event, params) => (event.tags.weapon ?? "").startsWith(String(params.prefix)) } },
      );
      await progression.recordBatch([
        { type: "kill", subject: "p1", tags: { weapon: "axe" } },
        { type: "kill", subject: "p1", tags: { weapon: "sword_of_doom" } },
      ]);
      expect(codes(await progression.record({ type: "kill", subject: "p1", tags: { weapon: "swordfish" } }))).toEqual(["swordsman"]);
    });
  });

  describe("award once", () => {
    it("applies a retried batch once", async () => {
      const { progression } = await engine(killTiers);
      const buffer = progression.createBuffer();
      for (let i = 0; i < 10; i += 1) buffer.add({ type: "kill", subject: "p1" });
      const batch = buffer.drain();
      const first = await progression.applyBatch(batch);
      const retry = await progression.applyBatch(batch);
      expect(first[0]?.reached.map((a) => a.code)).toEqual(["kills_1", "kills_10"]);
      expect(retry[0]?.reached).toEqual([]);
      expect((await progression.progress("p1"))[0]?.current).toBe(10);
    });

    /** An engine whose backend applies a batch, then loses the reply when told to (the first engine owns the backend). */
    const lossyEngine = async (definitions: Parameters<typeof engine>[0]) => {
      const first = await engine(definitions);
      const control = { loseNextReply: false };
      const real = first.fixture.backend;
      const lossy = new Proxy(real, {
        get(target, property) {
          if (property === "apply") {
            return async (request: Parameters<typeof real.apply>[0]) => {
              const results = await target.apply(request);
              if (!control.loseNextReply) return results;
              control.loseNextReply = false;
              throw new ProgressionError(ErrorCode.BackendUnavailable, "the reply was lost on the way back");
            };
          }
          if (property === "close") return async () => {};
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const second = await engine(definitions, { backend: lossy });
      return { ...second, control, reload: (next: Parameters<typeof engine>[0]) => second.progression.reload({ definitions: next }) };
    };
    const bounty = milestone("kills_25", "kill", { type: "count", threshold: 25 }, { autoClaim: true, rewards: [{ item: "gem", quantity: 3 }] });

    /** 30 kills, then kills_25 (autoClaim) is added: the next batch awards it retroactive, with kills_100. */
    const lostBatch = async () => {
      const lossy = await lossyEngine(killTiers);
      await lossy.progression.recordBatch(Array.from({ length: 30 }, (_, i) => ({ type: "kill", subject: "p1", at: T0 + i * 1000 })));
      lossy.reload([...killTiers, bounty]);
      await lossy.progression.events.drain();
      const buffer = lossy.progression.createBuffer();
      buffer.add({ type: "kill", subject: "p1", amount: 70, at: T0 + 100_000 });
      const batch = buffer.drain();
      const announced: string[] = [];
      lossy.progression.effects.subscribe((effects) => {
        if (effects.cause !== "apply") return;
        for (const subject of effects.subjects) {
          for (const award of subject.reached) announced.push(`reached ${award.code}`);
          for (const claim of subject.claimed) announced.push(`claimed ${claim.code}`);
          for (const balance of subject.inventory) announced.push(`${balance.item} ${balance.free}`);
        }
      });
      lossy.control.loseNextReply = true;
      await expect(lossy.progression.applyBatch(batch)).rejects.toMatchObject({ code: ErrorCode.BackendUnavailable });
      return { ...lossy, batch, announced };
    };

    it("announces once, on the retry, everything a batch whose reply was lost did: retroactive awards and autoClaim balances too", async () => {
      const { progression, batch, announced, delivered } = await lostBatch();
      // The caller retries the same batch and says so: the backend answers what the lost reply carried.
      const [retry] = await progression.applyBatch(batch, { retried: true });
      expect(retry?.reached.map((a) => [a.code, a.earnedAt, a.retroactive, a.claimedAt !== null])).toEqual([
        ["kills_25", T0 + 29_000, true, true],
        ["kills_100", T0 + 100_000, false, false],
      ]);
      expect(retry?.inventory).toEqual([{ subject: "p1", item: "gem", free: 3, held: 0 }]);
      expect(announced).toEqual(["reached kills_25", "reached kills_100", "claimed kills_25", "gem 3"]);
      // Applied once: the counter, the balance and the stats.
      expect((await progression.applyBatch(batch))[0]?.reached).toEqual([]);
      expect((await progression.progress("p1"))[0]?.current).toBe(100);
      expect(await progression.ledger.balance("p1", "gem")).toMatchObject({ free: 3 });
      expect((await progression.milestoneStats()).kills_25).toEqual({ reached: 1, claimed: 1 });
      await progression.events.drain();
      expect(announced).toHaveLength(4);
      expect(delivered.get("milestone.reached")?.map((e) => e.payload.code)).toEqual(["kills_1", "kills_10", "kills_25", "kills_100"]);
      expect(delivered.get("reward.claimed")?.map((e) => e.payload.code)).toEqual(["kills_25"]);
    });

    it("announces nothing for a duplicate the caller does not say is a retry", async () => {
      const { progression, batch, announced } = await lostBatch();
      const [again] = await progression.applyBatch(batch);
      expect([again?.reached, again?.inventory]).toEqual([[], []]);
      expect(announced).toEqual([]);
    });

    it("keeps each subject's outcome of a batch: a retry of a batch whose reply arrived gets it again", async () => {
      const { progression } = await engine([...killTiers, bounty]);
      const buffer = progression.createBuffer();
      buffer.add({ type: "kill", subject: "p1", amount: 30, at: T0 });
      buffer.add({ type: "kill", subject: "p2", amount: 1, at: T0 });
      const batch = buffer.drain();
      const [first] = await progression.applyBatch(batch);
      const results = await progression.applyBatch(batch, { retried: true });
      expect(results.map((r) => r.reached.map((a) => a.code))).toEqual([["kills_1", "kills_10", "kills_25"], ["kills_1"]]);
      expect(results[0]?.reached).toEqual(first?.reached);
      expect(results[0]?.inventory).toEqual([{ subject: "p1", item: "gem", free: 3, held: 0 }]);
      // Progress is not kept: it is a hint, the next flush or snapshot carries it.
      expect(results[0]?.progress).toEqual([]);
    });

    it("a lost reply of an autoClaim the balance refused announces the award unclaimed", async () => {
      const { progression, control } = await lossyEngine([bounty]);
      await progression.ledger.acquire({ subject: "p1", item: "gem", quantity: Number.MAX_SAFE_INTEGER - 1, idempotencyKey: "fill" });
      const buffer = progression.createBuffer();
      buffer.add({ type: "kill", subject: "p1", amount: 25, at: T0 });
      const batch = buffer.drain();
      control.loseNextReply = true;
      await expect(progression.applyBatch(batch)).rejects.toMatchObject({ code: ErrorCode.BackendUnavailable });
      const [retry] = await progression.applyBatch(batch, { retried: true });
      expect(retry?.reached.map((a) => [a.code, a.claimedAt])).toEqual([["kills_25", null]]);
      expect(retry?.inventory).toEqual([]);
      expect(await progression.ledger.balance("p1", "gem")).toMatchObject({ free: Number.MAX_SAFE_INTEGER - 1 });
    });

    it("counts an event with an id once, even when recorded again", async () => {
      const { progression } = await engine(killTiers);
      await progression.record({ type: "kill", subject: "p1", id: "evt-1", amount: 5 });
      await progression.record({ type: "kill", subject: "p1", id: "evt-1", amount: 5 });
      await progression.recordBatch([{ type: "kill", subject: "p1", id: "evt-2" }, { type: "kill", subject: "p1", id: "evt-2" }]);
      expect((await progression.progress("p1"))[0]?.current).toBe(6);
    });

    it("awards exactly once when many concurrent records cross the threshold", async () => {
      const { progression, delivered } = await engine(killTiers);
      const results = await Promise.all(Array.from({ length: 40 }, () => progression.record({ type: "kill", subject: "p1", amount: 5 })));
      expect(results.flat().filter((u) => u.code === "kills_100")).toHaveLength(1);
      expect(results.flat().filter((u) => u.code === "kills_10")).toHaveLength(1);
      await progression.events.drain();
      expect(delivered.get("milestone.reached")?.map((e) => e.idempotencyKey).sort()).toEqual([
        "milestone.reached:p1:kills_1",
        "milestone.reached:p1:kills_10",
        "milestone.reached:p1:kills_100",
      ]);
    });
  });

  describe("catch-up", () => {
    it("awards a milestone added later, retroactive and backdated to the last counted event", async () => {
      const { progression, clock } = await engine(killTiers);
      await progression.recordBatch(Array.from({ length: 50 }, (_, i) => ({ type: "kill", subject: "p1", at: T0 + i * 1000 })));
      clock.advance(10 * DAY);
      progression.reload({ definitions: [...killTiers, milestone("kills_25", "kill", { type: "count", threshold: 25 })] });
      const unlocked = await progression.catchUp("p1");
      expect(unlocked.map((u) => [u.code, u.retroactive, u.earnedAt])).toEqual([["kills_25", true, T0 + 49_000]]);
      expect(await progression.catchUp("p1")).toEqual([]);
      expect((await progression.progress("p1")).find((p) => p.code === "kills_25")?.status).toBe("completed");
    });

    it("flags as retroactive a later milestone first met by an ordinary increment", async () => {
      const { progression } = await engine(killTiers);
      await progression.record({ type: "kill", subject: "p1", amount: 30, at: T0 });
      progression.reload({ definitions: [...killTiers, milestone("kills_20", "kill", { type: "count", threshold: 20 })] });
      const unlocked = await progression.record({ type: "kill", subject: "p1", at: T0 + 5000 });
      expect(unlocked.map((u) => [u.code, u.retroactive, u.earnedAt])).toEqual([["kills_20", true, T0]]);
    });

    it("awards re-activated milestones whose counter kept counting while inactive", async () => {
      const definitions = [milestone("hoarder", "loot", { type: "count", threshold: 3 }, { active: false })];
      const { progression } = await engine(definitions);
      expect(await progression.record({ type: "loot", subject: "p1", amount: 5 })).toEqual([]);
      expect(await progression.progress("p1")).toEqual([]);
      progression.reload({ definitions: [{ ...definitions[0]!, active: true }] });
      expect(codes(await progression.catchUp("p1"))).toEqual(["hoarder"]);
    });
  });

  describe("claim", () => {
    const rewarded = [
      milestone("first_blood", "kill", { type: "count", threshold: 1 }, { rewards: [{ item: "gold", quantity: 50 }, { item: "potion", quantity: 1 }] }),
      milestone("veteran", "kill", { type: "count", threshold: 5 }, { rewards: [{ item: "gold", quantity: 10 }] }),
    ];

    it("moves completed to claimed and grants the rewards in the same step", async () => {
      const { progression, delivered } = await engine(rewarded);
      await progression.record({ type: "kill", subject: "p1" });
      const claim = await progression.claim("p1", "first_blood", "claim-1");
      expect(claim.replayed).toBe(false);
      expect(claim.balances).toEqual([
        { subject: "p1", item: "gold", free: 50, held: 0 },
        { subject: "p1", item: "potion", free: 1, held: 0 },
      ]);
      expect((await progression.progress("p1"))[0]?.status).toBe("claimed");
      await progression.events.drain();
      expect(delivered.get("reward.claimed")?.map((e) => e.payload)).toEqual([
        { subject: "p1", code: "first_blood", rewards: [{ item: "gold", quantity: 50 }, { item: "potion", quantity: 1 }], claimedAt: claim.claimedAt, auto: false },
      ]);
    });

    it("is retry-safe per key and refuses a second claim under another key", async () => {
      const { progression, clock } = await engine(rewarded);
      await progression.record({ type: "kill", subject: "p1" });
      const first = await progression.claim("p1", "first_blood", "claim-1");
      clock.advance(1000);
      const retry = await progression.claim("p1", "first_blood", "claim-1");
      expect(retry).toMatchObject({ replayed: true, claimedAt: first.claimedAt, balances: first.balances });
      await expect(progression.claim("p1", "first_blood", "claim-2")).rejects.toMatchObject({ code: ErrorCode.AlreadyClaimed });
      expect(await progression.ledger.balance("p1", "gold")).toEqual({ subject: "p1", item: "gold", free: 50, held: 0 });
    });

    it("rejects a claim before completion, of an unknown code, and a key reused for another milestone", async () => {
      const { progression } = await engine(rewarded);
      await progression.record({ type: "kill", subject: "p1" });
      await expect(progression.claim("p1", "veteran", "k")).rejects.toMatchObject({ code: ErrorCode.NotCompleted });
      await expect(progression.claim("p1", "nope", "k")).rejects.toMatchObject({ code: ErrorCode.UnknownMilestone });
      await progression.claim("p1", "first_blood", "k");
      await progression.record({ type: "kill", subject: "p1", amount: 4 });
      await expect(progression.claim("p1", "veteran", "k")).rejects.toMatchObject({ code: ErrorCode.IdempotencyConflict });
      expect((await progression.progress("p1"))[1]?.status).toBe("completed");
    });

    it("claims autoClaim milestones as they are reached", async () => {
      const { progression, delivered } = await engine([
        milestone("starter_pack", "login", { type: "count", threshold: 1 }, { autoClaim: true, rewards: [{ item: "gem", quantity: 3 }] }),
      ]);
      const [unlock] = await progression.catchUp("p1");
      expect(unlock).toMatchObject({ code: "starter_pack", claimed: true });
      expect(await progression.ledger.balance("p1", "gem")).toEqual({ subject: "p1", item: "gem", free: 3, held: 0 });
      await expect(progression.claim("p1", "starter_pack", "again")).rejects.toMatchObject({ code: ErrorCode.AlreadyClaimed });
      await progression.events.drain();
      expect(delivered.get("reward.claimed")?.[0]?.payload).toMatchObject({ code: "starter_pack", auto: true });
    });
  });

  describe("rewards past the largest safe balance", () => {
    const MAX = Number.MAX_SAFE_INTEGER;
    const hoard = [
      milestone("hoarder", "kill", { type: "count", threshold: 1 }, { autoClaim: true, rewards: [{ item: "gem", quantity: 5 }] }),
      milestone("collector", "kill", { type: "count", threshold: 2 }, { rewards: [{ item: "gem", quantity: 5 }, { item: "coin", quantity: 1 }] }),
    ];

    it("an autoClaim reward that would pass it leaves the award completed, grants nothing, and the kill still counts", async () => {
      const { progression } = await engine(hoard);
      await progression.ledger.acquire({ subject: "p1", item: "gem", quantity: MAX - 2, idempotencyKey: "fill" });
      const [unlock] = await progression.record({ type: "kill", subject: "p1" });
      expect(unlock).toMatchObject({ code: "hoarder", claimed: false });
      expect(await progression.ledger.balance("p1", "gem")).toMatchObject({ free: MAX - 2 });
      const progress = await progression.progress("p1");
      expect(progress.map((p) => [p.code, p.current, p.status])).toEqual([
        ["hoarder", 1, "completed"],
        ["collector", 1, "in_progress"],
      ]);
      // Claimable once there is room again.
      await progression.ledger.consume({ subject: "p1", item: "gem", quantity: 10, idempotencyKey: "spend" });
      const claimed = await progression.claim("p1", "hoarder", "later");
      expect(claimed.balances).toEqual([{ subject: "p1", item: "gem", free: MAX - 7, held: 0 }]);
    });

    it("a claim whose rewards would pass it is refused with INVALID_QUANTITY and changes nothing", async () => {
      const { progression } = await engine(hoard);
      await progression.recordBatch([{ type: "kill", subject: "p1" }, { type: "kill", subject: "p1" }]); // hoarder grants 5 gems
      await progression.ledger.acquire({ subject: "p1", item: "gem", quantity: MAX - 9, idempotencyKey: "fill" });
      await expect(progression.claim("p1", "collector", "c1")).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
      expect((await progression.progress("p1")).find((p) => p.code === "collector")?.status).toBe("completed");
      expect(await progression.ledger.list("p1")).toEqual([{ subject: "p1", item: "gem", free: MAX - 4, held: 0 }]);
      // The refused key was not used up: the same key claims once there is room.
      await progression.ledger.consume({ subject: "p1", item: "gem", quantity: 1, idempotencyKey: "spend" });
      const claimed = await progression.claim("p1", "collector", "c1");
      expect(claimed.balances).toEqual([
        { subject: "p1", item: "gem", free: MAX, held: 0 },
        { subject: "p1", item: "coin", free: 1, held: 0 },
      ]);
    });
  });

  describe("presentation", () => {
    it("masks hidden milestones until reached and sends no progress for them", async () => {
      const { progression } = await engine([milestone("secret", "kill", { type: "count", threshold: 2 }, { hidden: true })], {
        catalogs: { defaultLocale: "en", locales: { en: { "secret.title": "Secret", "progression.hidden.title": "???" } } },
      });
      const buffer = progression.createBuffer();
      buffer.add({ type: "kill", subject: "p1" });
      const [outcome] = await progression.applyBatch(buffer.drain());
      expect(outcome?.progress).toEqual([]);
      expect((await progression.progress("p1"))[0]).toMatchObject({ masked: true, title: "???", current: 0, target: 0, icon: "hidden" });
      await progression.record({ type: "kill", subject: "p1" });
      expect((await progression.progress("p1"))[0]).toMatchObject({ masked: false, title: "Secret", current: 2, target: 2 });
    });

    it("resolves texts per locale with fallback to the default locale, then to the key", async () => {
      const { progression } = await engine([milestone("first_blood", "kill", { type: "count", threshold: 1 })], {
        catalogs: { defaultLocale: "en", locales: { en: { "first_blood.title": "First Blood", "first_blood.description": "Win a fight" }, de: { "first_blood.title": "Erstes Blut" } } },
      });
      const [unlock] = await progression.record({ type: "kill", subject: "p1" }, "de-AT");
      expect(unlock).toMatchObject({ title: "Erstes Blut", description: "Win a fight", locale: "de" });
      expect(progression.preview("first_blood", "fr")).toMatchObject({ title: "First Blood", locale: "en" });
    });

    it("previews an unlock without awarding anything", async () => {
      const { progression } = await engine(killTiers);
      expect(progression.preview("kills_10")).toMatchObject({ code: "kills_10", icon: "kills_10.png", animation: { kind: "confetti" } });
      expect(await progression.progress("admin")).toSatisfy((list: readonly { status: string }[]) => list.every((p) => p.status === "in_progress"));
      expect(() => progression.preview("nope")).toThrow(expect.objectContaining({ code: ErrorCode.UnknownMilestone }));
    });

    it("reports progress of visible milestones whose counters moved in a flush", async () => {
      const { progression } = await engine(killTiers);
      const buffer = progression.createBuffer();
      buffer.add({ type: "kill", subject: "p1", amount: 3 });
      const [outcome] = await progression.applyBatch(buffer.drain());
      expect(outcome?.progress).toEqual([
        { code: "kills_10", current: 3, target: 10 },
        { code: "kills_100", current: 3, target: 100 },
      ]);
    });
  });

  describe("milestone stats", () => {
    const counted = [
      ...killTiers,
      milestone("starter_pack", "login", { type: "count", threshold: 1 }, { autoClaim: true, rewards: [{ item: "gem", quantity: 3 }] }),
      milestone("dormant", "kill", { type: "count", threshold: 1 }, { active: false }),
    ];
    const zero = { reached: 0, claimed: 0 };

    it("count awards, claims and autoClaims per milestone, every loaded code present", async () => {
      const { progression } = await engine(counted);
      expect(await progression.milestoneStats()).toEqual({ kills_1: zero, kills_10: zero, kills_100: zero, starter_pack: zero, dormant: zero });
      await progression.record({ type: "kill", subject: "p1", amount: 10 });
      await progression.record({ type: "kill", subject: "p2" });
      await progression.catchUp("p1");
      await progression.claim("p1", "kills_1", "c1");
      expect(await progression.milestoneStats()).toEqual({
        kills_1: { reached: 2, claimed: 1 },
        kills_10: { reached: 1, claimed: 0 },
        kills_100: zero,
        starter_pack: { reached: 1, claimed: 1 },
        dormant: zero,
      });
    });

    it("count a replayed batch and a replayed claim once, and refused claims not at all", async () => {
      const { progression } = await engine(counted);
      const buffer = progression.createBuffer();
      buffer.add({ type: "kill", subject: "p1", amount: 10 });
      const batch = buffer.drain();
      await progression.applyBatch(batch);
      await progression.applyBatch(batch);
      await progression.applyBatch(batch, { retried: true });
      await progression.claim("p1", "kills_10", "c1");
      await progression.claim("p1", "kills_10", "c1");
      await expect(progression.claim("p1", "kills_10", "c2")).rejects.toMatchObject({ code: ErrorCode.AlreadyClaimed });
      await expect(progression.claim("p1", "kills_100", "c3")).rejects.toMatchObject({ code: ErrorCode.NotCompleted });
      const stats = await progression.milestoneStats();
      expect([stats.kills_1, stats.kills_10, stats.kills_100]).toEqual([{ reached: 1, claimed: 0 }, { reached: 1, claimed: 1 }, zero]);
    });

    it("count catch-up and backfill awards once, an autoClaim the balance refuses as reached only", async () => {
      const { progression } = await engine(killTiers);
      const trollKills = (subject: string) => Array.from({ length: 30 }, (_, i) => ({ type: "kill", subject, tags: { creature: "troll" }, at: T0 - DAY + i * 1000 }));
      await progression.recordBatch([...trollKills("p1"), ...trollKills("p2")]);
      await progression.ledger.acquire({ subject: "p1", item: "gem", quantity: Number.MAX_SAFE_INTEGER, idempotencyKey: "fill" });
      progression.reload({
        definitions: [
          ...killTiers,
          // Same counter as the tiers: catch-up awards it; a new filter: backfilled from history.
          milestone("kills_25", "kill", { type: "count", threshold: 25 }, { autoClaim: true, rewards: [{ item: "gold", quantity: 1 }] }),
          milestone("troll_hunter", "kill", { type: "count", threshold: 20, where: { creature: "troll" } }, { autoClaim: true, rewards: [{ item: "gem", quantity: 1 }] }),
        ],
      });
      expect(codes(await progression.catchUp("p1")).sort()).toEqual(["kills_25", "troll_hunter"]);
      expect(await progression.catchUp("p1")).toEqual([]);
      // p2 is backfilled from its history without joining, then joins.
      expect(await progression.backfill()).toMatchObject({ awarded: 1 });
      await progression.catchUp("p2");
      await progression.backfill();
      const stats = await progression.milestoneStats();
      expect([stats.kills_25, stats.troll_hunter, stats.kills_10]).toEqual([{ reached: 2, claimed: 2 }, { reached: 2, claimed: 1 }, { reached: 2, claimed: 0 }]);
    });

    it("erase takes a player's awards and claims out again", async () => {
      const { progression } = await engine(counted);
      await progression.record({ type: "kill", subject: "p1", amount: 10 });
      await progression.record({ type: "kill", subject: "p2" });
      await progression.catchUp("p1");
      await progression.claim("p1", "kills_1", "c1");
      await progression.claim("p2", "kills_1", "c1");
      await progression.erase("p1");
      await progression.erase("p1");
      await progression.erase("never-seen");
      expect(await progression.milestoneStats()).toEqual({ kills_1: { reached: 1, claimed: 1 }, kills_10: zero, kills_100: zero, starter_pack: zero, dormant: zero });
      // Erased, the player starts anew and counts again.
      await progression.record({ type: "kill", subject: "p1" });
      expect((await progression.milestoneStats()).kills_1).toEqual({ reached: 2, claimed: 1 });
    });

    it("the catalog: definitions in order, texts per locale with missing ones flagged, flags and counts", async () => {
      const { progression } = await engine(
        [
          milestone("first_blood", "kill", { type: "count", threshold: 1 }),
          milestone("secret", "kill", { type: "count", threshold: 2 }, { hidden: true }),
          milestone("dormant", "kill", { type: "count", threshold: 1 }, { active: false }),
        ],
        {
          catalogs: {
            defaultLocale: "en",
            locales: {
              en: { "first_blood.title": "First Blood", "first_blood.description": "Win a fight", "secret.title": "Secret", "dormant.title": "Asleep", "dormant.description": "Zzz" },
              de: { "first_blood.title": "Erstes Blut", "secret.description": "Geheim" },
            },
          },
        },
      );
      await progression.record({ type: "kill", subject: "p1", amount: 2 });
      await progression.claim("p1", "first_blood", "c1");
      const catalog = await progression.milestoneCatalog();
      expect({ defaultLocale: catalog.defaultLocale, locales: catalog.locales }).toEqual({ defaultLocale: "en", locales: ["en", "de"] });
      expect(catalog.milestones.map((m) => [m.code, m.hidden, m.active, m.reached, m.claimed])).toEqual([
        ["first_blood", false, true, 1, 1],
        ["secret", true, true, 1, 0],
        ["dormant", false, false, 0, 0],
      ]);
      expect(catalog.milestones[0]?.definition).toMatchObject({ code: "first_blood", trigger: "kill", rule: { type: "count", threshold: 1 }, rewards: [] });
      expect(catalog.milestones[0]?.texts).toEqual({
        en: { title: "First Blood", description: "Win a fight", missing: [] },
        de: { title: "Erstes Blut", description: "Win a fight", missing: ["description"] },
      });
      expect(catalog.milestones[1]?.texts).toEqual({
        en: { title: "Secret", description: "secret.description", missing: ["description"] },
        de: { title: "Secret", description: "Geheim", missing: ["title"] },
      });
    });

    it("the catalog of an engine without catalogs shows the texts as written, nothing missing", async () => {
      const { progression } = await engine([milestone("first_blood", "kill", { type: "count", threshold: 1 }, { title: "First Blood", description: "Win a fight" })]);
      const catalog = await progression.milestoneCatalog();
      expect(catalog.locales).toEqual([progression.defaultLocale]);
      expect(catalog.milestones[0]?.texts).toEqual({ [progression.defaultLocale]: { title: "First Blood", description: "Win a fight", missing: [] } });
    });
  });

  describe("durability hooks", () => {
    it("exports snapshots of dirty subjects and restores them through the loader without repeating awards", async () => {
      const { progression } = await engine(killTiers);
      await progression.record({ type: "kill", subject: "p1", amount: 12 });
      await progression.ledger.acquire({ subject: "p1", item: "gold", quantity: 7, idempotencyKey: "g" });
      const dirty = await progression.backend.takeDirtySubjects(100);
      expect(dirty).toEqual(["p1"]);
      expect(await progression.backend.dirtyCount()).toBe(0);
      const [snapshot] = await progression.backend.exportSubjects(dirty);
      const loader = async (subject: string) => (subject === "p1" ? (snapshot ?? null) : null);
      const restored = (await engine(killTiers, {}, { loader })).progression;
      expect(codes(await restored.record({ type: "kill", subject: "p1", amount: 88 }))).toEqual(["kills_100"]);
      expect(await restored.ledger.balance("p1", "gold")).toMatchObject({ free: 7 });
      expect((await restored.progress("p1")).map((p) => p.current)).toEqual([100, 100, 100]);
      // The restored subject's awards count once, on top of the one it earned since.
      expect(await restored.milestoneStats()).toEqual({ kills_1: { reached: 1, claimed: 0 }, kills_10: { reached: 1, claimed: 0 }, kills_100: { reached: 1, claimed: 0 } });
    });
  });
}
