import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { DAY, T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

/** The Redis backend through the contract (the shared conformance suites add the full matrix). */
describe("redis backend: apply", () => {
  let backend: ProgressionBackend;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ backend, cleanup } = await redisBackendForTest());
  });
  afterEach(async () => cleanup());

  const kills = counter("kills001", "sum", [check("k10", 10), check("k100", 100)]);
  const plan = planOf(kills);

  it("counts, awards once with earnedAt, reports progress, and dedupes a retried batch", async () => {
    const first = await backend.apply({
      batchId: "b1",
      now: T0,
      plan,
      subjects: [{ subject: "p1", catchUp: false, increments: [{ counter: "kills001", amount: 4, at: T0 }, { counter: "kills001", amount: 7, at: T0 + 5 }] }],
    });
    expect(first).toEqual([
      {
        subject: "p1",
        duplicate: false,
        reached: [{ code: "k10", earnedAt: T0 + 5, retroactive: false, claimedAt: null }],
        progress: [{ code: "k100", current: 11 }],
        balances: [],
      },
    ]);
    const again = await backend.apply({
      batchId: "b1",
      now: T0,
      plan,
      subjects: [{ subject: "p1", catchUp: false, increments: [{ counter: "kills001", amount: 4, at: T0 }] }],
    });
    expect(again[0]?.duplicate).toBe(true);
    const state = await backend.readState("p1");
    expect(state.counters.get("kills001")).toEqual({ kind: "sum", value: 11, at: T0 + 5 });
    expect(state.awards.get("k10")).toEqual({ code: "k10", earnedAt: T0 + 5, retroactive: false, claimedAt: null });
  });

  it("awards a tier added later as retroactive, and catch-up awards met checks", async () => {
    await backend.apply({ batchId: "a", now: T0, plan, subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 50, at: T0 }] }] });
    const withNewTier = planOf(counter("kills001", "sum", [check("k10", 10), check("k20", 20), check("k100", 100)]));
    const next = await backend.apply({
      batchId: "b",
      now: T0 + DAY,
      plan: withNewTier,
      subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 + DAY }] }],
    });
    expect(next[0]?.reached).toEqual([{ code: "k20", earnedAt: T0, retroactive: true, claimedAt: null }]);

    const withAnother = planOf(counter("kills001", "sum", [check("k10", 10), check("k20", 20), check("k50", 50), check("k100", 100)]));
    const caught = await backend.apply({ batchId: "c", now: T0 + 2 * DAY, plan: withAnother, subjects: [{ subject: "p", catchUp: true, increments: [] }] });
    expect(caught[0]?.reached).toEqual([{ code: "k50", earnedAt: T0 + DAY, retroactive: true, claimedAt: null }]);
  });

  it("window, days and gap counters", async () => {
    const p = planOf(
      counter("win00001", "window", [check("w3in2", 3, { windowDays: 2 })], 2),
      counter("days0001", "days", [check("d3", 3)]),
      counter("gap00001", "gap", [check("back2d", 2 * DAY)]),
    );
    const apply = (batchId: string, at: number, counters: string[]) =>
      backend.apply({ batchId, now: at, plan: p, subjects: [{ subject: "s", catchUp: false, increments: counters.map((c) => ({ counter: c, amount: 1, at })) }] });
    await apply("1", T0, ["win00001", "days0001", "gap00001"]);
    await apply("2", T0 + 2 * DAY, ["win00001", "days0001"]);
    const third = await apply("3", T0 + 3 * DAY, ["win00001", "days0001", "gap00001"]);
    expect(third[0]?.reached.map((r) => r.code)).toEqual(["d3", "back2d"]);
    expect(third[0]?.progress).toEqual([{ code: "w3in2", current: 2 }]);
    const fourth = await apply("4", T0 + 3 * DAY + 1000, ["win00001"]);
    expect(fourth[0]?.reached).toEqual([{ code: "w3in2", earnedAt: T0 + 3 * DAY + 1000, retroactive: false, claimedAt: null }]);
    const state = await backend.readState("s");
    expect(state.counters.get("gap00001")).toEqual({ kind: "gap", last: T0 + 3 * DAY, maxGap: 3 * DAY, maxGapAt: T0 + 3 * DAY });
    expect(state.counters.get("days0001")).toMatchObject({ kind: "days", value: 3 });
    const win = state.counters.get("win00001");
    expect(win?.kind === "window" ? [...win.buckets] : null).toEqual([[Math.floor((T0 + 2 * DAY) / DAY), 1], [Math.floor((T0 + 3 * DAY) / DAY), 2]]);
  });

  it("applies a subject listed twice in one request once, merged, reporting the later entry as duplicate", async () => {
    const result = await backend.apply({
      batchId: "twice",
      now: T0,
      plan,
      subjects: [
        { subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 6, at: T0 + 1 }] },
        { subject: "q", catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] },
        { subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 5, at: T0 }] },
      ],
    });
    expect(result.map((r) => [r.subject, r.duplicate, r.reached.map((a) => [a.code, a.earnedAt])])).toEqual([
      ["p", false, [["k10", T0 + 1]]],
      ["q", false, []],
      ["p", true, []],
    ]);
    expect((await backend.readState("p")).counters.get("kills001")).toMatchObject({ value: 11 });
  });

  it("skips a replayed event id, and rejects bad input before any script runs", async () => {
    const inc = { counter: "kills001", amount: 1, at: T0, eventId: "e-1" };
    await backend.apply({ batchId: "x1", now: T0, plan, subjects: [{ subject: "p", catchUp: false, increments: [inc] }] });
    await backend.apply({ batchId: "x2", now: T0, plan, subjects: [{ subject: "p", catchUp: false, increments: [inc, { ...inc, eventId: "e-2" }] }] });
    expect((await backend.readState("p")).counters.get("kills001")).toMatchObject({ value: 2 });
    await expect(
      backend.apply({ batchId: "x3", now: T0, plan, subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "nope", amount: 1, at: T0 }] }] }),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    await expect(
      backend.apply({ batchId: "x4", now: T0, plan, subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: -1, at: T0 }] }] }),
    ).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
  });

  it("autoClaim grants rewards in the same step; claim is idempotent per key", async () => {
    const p = planOf(
      counter("kills001", "sum", [
        check("auto", 1, { autoClaimRewards: [{ item: "gold", quantity: 5 }] }),
        check("manual", 2),
      ]),
    );
    const result = await backend.apply({ batchId: "1", now: T0 + 9, plan: p, subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 2, at: T0 }] }] });
    expect(result[0]?.reached).toEqual([
      { code: "auto", earnedAt: T0, retroactive: false, claimedAt: T0 + 9 },
      { code: "manual", earnedAt: T0, retroactive: false, claimedAt: null },
    ]);
    expect(result[0]?.balances).toEqual([{ subject: "p", item: "gold", free: 5, held: 0 }]);

    await expect(backend.claim({ subject: "p", code: "none", idempotencyKey: "c0", rewards: [], now: T0 })).rejects.toMatchObject({ code: ErrorCode.NotCompleted });
    const claim = { subject: "p", code: "manual", idempotencyKey: "c1", rewards: [{ item: "gold", quantity: 3 }], now: T0 + 10 };
    const claimed = await backend.claim(claim);
    expect(claimed).toMatchObject({ claimedAt: T0 + 10, replayed: false, balances: [{ subject: "p", item: "gold", free: 8, held: 0 }] });
    expect(await backend.claim({ ...claim, now: T0 + 20 })).toMatchObject({ claimedAt: T0 + 10, replayed: true });
    await expect(backend.claim({ ...claim, idempotencyKey: "c2" })).rejects.toMatchObject({ code: ErrorCode.AlreadyClaimed });
    await expect(backend.claim({ ...claim, code: "auto" })).rejects.toMatchObject({ code: ErrorCode.IdempotencyConflict });
    expect((await backend.balance("p", "gold", T0)).balance.free).toBe(8);
  });
});

describe("redis backend: ledger", () => {
  let backend: ProgressionBackend;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ backend, cleanup } = await redisBackendForTest());
  });
  afterEach(async () => cleanup());

  it("acquire, consume, transfer with idempotency and no negative balance", async () => {
    const acquire = { idempotencyKey: "k1", subject: "a", item: "gem", quantity: 10, now: T0 };
    expect(await backend.acquire(acquire)).toEqual({ replayed: false, balances: [{ subject: "a", item: "gem", free: 10, held: 0 }], expiredHolds: [] });
    expect((await backend.acquire(acquire)).replayed).toBe(true);
    await expect(backend.acquire({ ...acquire, quantity: 11 })).rejects.toMatchObject({ code: ErrorCode.IdempotencyConflict });
    await expect(backend.consume({ ...acquire, idempotencyKey: "k2", quantity: 11 })).rejects.toMatchObject({ code: ErrorCode.Insufficient });
    const moved = await backend.transfer({ idempotencyKey: "k2", from: "a", to: "b", item: "gem", quantity: 4, now: T0, allowNewReceiver: true });
    expect(moved.balances).toEqual([
      { subject: "a", item: "gem", free: 6, held: 0 },
      { subject: "b", item: "gem", free: 4, held: 0 },
    ]);
    await expect(backend.transfer({ idempotencyKey: "k3", from: "a", to: "a", item: "gem", quantity: 1, now: T0 })).rejects.toMatchObject({
      code: ErrorCode.InvalidInput,
    });
    expect((await backend.list("b", T0)).balances).toEqual([{ subject: "b", item: "gem", free: 4, held: 0 }]);
  });

  it("holds commit, release, and expire lazily and through expireHolds, each reported once", async () => {
    await backend.acquire({ idempotencyKey: "k", subject: "a", item: "gem", quantity: 10, now: T0 });
    const h1 = await backend.hold({ idempotencyKey: "h1", subject: "a", item: "gem", quantity: 3, ttlMs: 1000, now: T0 });
    expect(h1.balances).toEqual([{ subject: "a", item: "gem", free: 7, held: 3 }]);
    expect(h1.hold).toMatchObject({ subject: "a", state: "held", createdAt: T0, expiresAt: T0 + 1000, settledAt: null });
    const committed = await backend.commit({ holdId: h1.hold.holdId, now: T0 + 10 });
    expect(committed).toMatchObject({ replayed: false, hold: { state: "committed", settledAt: T0 + 10 }, balances: [{ free: 7, held: 0 }] });
    expect((await backend.commit({ holdId: h1.hold.holdId, now: T0 + 11 })).replayed).toBe(true);
    await expect(backend.release({ holdId: h1.hold.holdId, now: T0 + 11 })).rejects.toMatchObject({ code: ErrorCode.HoldClosed });

    const h2 = await backend.hold({ idempotencyKey: "h2", subject: "a", item: "gem", quantity: 2, ttlMs: 1000, now: T0 });
    const h3 = await backend.hold({ idempotencyKey: "h3", subject: "a", item: "gem", quantity: 1, ttlMs: 5000, now: T0 });
    const lazily = await backend.balance("a", "gem", T0 + 2000);
    expect(lazily.balance).toEqual({ subject: "a", item: "gem", free: 6, held: 1 });
    expect(lazily.expiredHolds).toEqual([{ ...h2.hold, state: "expired", settledAt: T0 + 2000 }]);
    expect((await backend.getHold(h2.hold.holdId, T0 + 2001)).hold.state).toBe("expired");
    await expect(backend.commit({ holdId: h2.hold.holdId, now: T0 + 2001 })).rejects.toMatchObject({ code: ErrorCode.HoldExpired });
    expect((await backend.release({ holdId: h2.hold.holdId, now: T0 + 2001 })).replayed).toBe(true);

    expect((await backend.expireHolds(T0 + 4000, 10)).expiredHolds).toEqual([]);
    const byJob = (await backend.expireHolds(T0 + 6000, 10)).expiredHolds;
    expect(byJob.map((h) => [h.holdId, h.state])).toEqual([[h3.hold.holdId, "expired"]]);
    expect((await backend.expireHolds(T0 + 7000, 10)).expiredHolds).toEqual([]);
    await expect(backend.commit({ holdId: "h0123456789abcdef:a", now: T0 })).rejects.toMatchObject({ code: ErrorCode.HoldUnknown });
  });

  it("exports snapshots and tracks dirty subjects", async () => {
    await backend.acquire({ idempotencyKey: "k", subject: "a", item: "gem", quantity: 10, now: T0 });
    const held = await backend.hold({ idempotencyKey: "h", subject: "a", item: "gem", quantity: 4, ttlMs: DAY, now: T0 });
    expect(await backend.dirtyCount()).toBe(1);
    expect(await backend.takeDirtySubjects(10)).toEqual(["a"]);
    expect(await backend.dirtyCount()).toBe(0);
    const [snapshot] = await backend.exportSubjects(["a"]);
    expect(snapshot?.balances).toEqual([{ subject: "a", item: "gem", free: 6, held: 4 }]);
    expect(snapshot?.holds).toEqual([held.hold]);
  });
});

describe("redis backend: server time", () => {
  it("decides hold times on Redis TIME by default, whatever `now` the caller passes", async () => {
    const { backend, cleanup } = await redisBackendForTest({ useServerTime: true });
    try {
      await backend.acquire({ idempotencyKey: "k", subject: "a", item: "gem", quantity: 5, now: 0 });
      const before = Date.now();
      const { hold } = await backend.hold({ idempotencyKey: "h", subject: "a", item: "gem", quantity: 2, ttlMs: 60_000, now: 0 });
      expect(Math.abs(hold.createdAt - before)).toBeLessThan(5_000);
      expect(hold.expiresAt - hold.createdAt).toBe(60_000);
      // A caller clock far ahead does not expire it: Redis' clock decides.
      expect((await backend.balance("a", "gem", before + 10 * DAY)).expiredHolds).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});
