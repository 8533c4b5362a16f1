import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import type { HoldRecord } from "../../src/model/hold.ts";
import { T0, redisBackendForTest } from "./redis-backend-fixtures.ts";

/** A hold settled lazily is reported once, by the call that settled it: getHold and expireHolds too. */
describe("redis backend: expiries found by getHold and the expiry job", () => {
  let backend: ProgressionBackend;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ backend, cleanup } = await redisBackendForTest());
    await backend.acquire({ idempotencyKey: "a", subject: "p", item: "gem", quantity: 10, now: T0 });
  });
  afterEach(async () => cleanup());

  it("getHold settles a hold found past its expiry and reports it, with its balance, once", async () => {
    const { hold } = await backend.hold({ idempotencyKey: "h", subject: "p", item: "gem", quantity: 3, ttlMs: 1000, now: T0 });
    const expired = { ...hold, state: "expired", settledAt: T0 + 2000 };
    expect(await backend.getHold(hold.holdId, T0 + 2000)).toEqual({
      hold: expired,
      balances: [{ subject: "p", item: "gem", free: 10, held: 0 }],
      expiredHolds: [expired],
    });
    // Read again: the same hold, nothing new to report; the expiry job finds nothing.
    expect(await backend.getHold(hold.holdId, T0 + 2001)).toEqual({ hold: expired, balances: [], expiredHolds: [] });
    expect((await backend.expireHolds(T0 + 3000, 10)).expiredHolds).toEqual([]);
    expect((await backend.balance("p", "gem", T0 + 3000)).expiredHolds).toEqual([]);
  });

  it("getHold of one hold reports every hold of the subject it settled, each item's balance once", async () => {
    await backend.acquire({ idempotencyKey: "b", subject: "p", item: "gold", quantity: 5, now: T0 });
    const gem = await backend.hold({ idempotencyKey: "h1", subject: "p", item: "gem", quantity: 3, ttlMs: 1000, now: T0 });
    const gem2 = await backend.hold({ idempotencyKey: "h2", subject: "p", item: "gem", quantity: 2, ttlMs: 1000, now: T0 });
    const gold = await backend.hold({ idempotencyKey: "h3", subject: "p", item: "gold", quantity: 5, ttlMs: 1000, now: T0 });
    const read = await backend.getHold(gem.hold.holdId, T0 + 2000);
    expect(read.hold.state).toBe("expired");
    expect(read.expiredHolds.map((h) => h.holdId).sort()).toEqual([gem.hold.holdId, gem2.hold.holdId, gold.hold.holdId].sort());
    expect(read.balances).toEqual([
      { subject: "p", item: "gem", free: 10, held: 0 },
      { subject: "p", item: "gold", free: 5, held: 0 },
    ]);
  });

  it("expireHolds releases at most `limit` holds and reports exactly those", async () => {
    const holds: HoldRecord[] = [];
    for (let i = 0; i < 3; i += 1) {
      holds.push((await backend.hold({ idempotencyKey: `h${i}`, subject: "p", item: "gem", quantity: 1, ttlMs: 1000 + i, now: T0 })).hold);
    }
    const first = (await backend.expireHolds(T0 + 5000, 1)).expiredHolds;
    expect(first.map((h) => h.holdId)).toEqual([holds[0]?.holdId]);
    // The subject's other due holds stayed held: the next job run releases and reports them.
    const second = (await backend.expireHolds(T0 + 5000, 10)).expiredHolds;
    expect(second.map((h) => h.holdId)).toEqual([holds[1]?.holdId, holds[2]?.holdId]);
    const after = await backend.balance("p", "gem", T0 + 5000);
    expect(after).toMatchObject({ balance: { free: 10, held: 0 }, expiredHolds: [] });
    expect((await backend.expireHolds(T0 + 6000, 10)).expiredHolds).toEqual([]);
  });
});
