import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

/** A claim whose rewards would take a balance past the largest safe integer is refused whole. */
describe("redis backend: claim rewards past the largest safe integer", () => {
  let backend: ProgressionBackend;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ backend, cleanup } = await redisBackendForTest());
    const plan = planOf(counter("kills001", "sum", [check("manual", 1)]));
    await backend.apply({ batchId: "b", now: T0, plan, subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] }] });
  });
  afterEach(async () => cleanup());

  const unchanged = async (gold: number) => {
    expect((await backend.readState("p")).awards.get("manual")?.claimedAt).toBeNull();
    expect((await backend.balance("p", "gold", T0)).balance.free).toBe(gold);
    expect((await backend.balance("p", "gem", T0)).balance.free).toBe(0);
  };

  it("refuses with INVALID_QUANTITY before granting any reward, and leaves the key unused", async () => {
    const gold = Number.MAX_SAFE_INTEGER - 2;
    await backend.acquire({ idempotencyKey: "a", subject: "p", item: "gold", quantity: gold, now: T0 });
    const claim = { subject: "p", code: "manual", idempotencyKey: "c", now: T0 + 1 };
    // The first reward fits; the second does not: neither may be granted.
    await expect(backend.claim({ ...claim, rewards: [{ item: "gem", quantity: 1 }, { item: "gold", quantity: 5 }] })).rejects.toMatchObject({
      code: ErrorCode.InvalidQuantity,
    });
    await unchanged(gold);
    // Two rewards of one item, each fitting alone, together too many.
    await expect(backend.claim({ ...claim, rewards: [{ item: "gold", quantity: 2 }, { item: "gold", quantity: 1 }] })).rejects.toMatchObject({
      code: ErrorCode.InvalidQuantity,
    });
    await unchanged(gold);
    // A refused claim uses up nothing: the same key claims once the rewards fit.
    const claimed = await backend.claim({ ...claim, rewards: [{ item: "gem", quantity: 1 }, { item: "gold", quantity: 2 }] });
    expect(claimed).toMatchObject({ replayed: false, claimedAt: T0 + 1 });
    expect(claimed.balances).toEqual([
      { subject: "p", item: "gem", free: 1, held: 0 },
      { subject: "p", item: "gold", free: Number.MAX_SAFE_INTEGER, held: 0 },
    ]);
  });
});
