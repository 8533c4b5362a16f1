import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import type { HoldRecord } from "../../src/model/hold.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { T0, redisBackendForTest } from "./redis-backend-fixtures.ts";

const MAX = Number.MAX_SAFE_INTEGER;

/**
 * Credits keep free + held at most the largest safe integer (conformance suite), so through the API a
 * hold can always return to free. A balance an earlier version stored past that (free MAX, held 100) is
 * still handled safely, as the memory backend would: a release that would pass it is refused with
 * INVALID_QUANTITY and changes nothing; an expiry that would pass it does not happen (the hold stays
 * held, reported by nobody) until free has room.
 */
describe("redis backend: returning held quantity past the largest safe integer", () => {
  let backend: ProgressionBackend;
  let cleanup: () => Promise<void>;
  let hold: HoldRecord;
  beforeEach(async () => {
    let client, prefix;
    ({ backend, cleanup, client, prefix } = await redisBackendForTest());
    await backend.acquire({ idempotencyKey: "a1", subject: "p", item: "gold", quantity: 100, now: T0 });
    ({ hold } = await backend.hold({ idempotencyKey: "h1", subject: "p", item: "gold", quantity: 100, ttlMs: 1000, now: T0 }));
    // As an earlier version could leave it: free MAX next to held 100 (an acquire now refuses this).
    await expect(backend.acquire({ idempotencyKey: "a2", subject: "p", item: "gold", quantity: MAX, now: T0 })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
    await client.hset(createRedisKeys(prefix).subject("p").balances, "f:gold", String(MAX));
  });
  afterEach(async () => cleanup());

  const balanceAt = async (now: number) => (await backend.balance("p", "gold", now)).balance;

  it("refuses a release with INVALID_QUANTITY and leaves the balance and the hold as they were", async () => {
    await expect(backend.release({ holdId: hold.holdId, now: T0 + 10 })).rejects.toMatchObject({
      code: ErrorCode.InvalidQuantity,
      message: expect.stringContaining("largest safe integer"),
    });
    expect(await balanceAt(T0 + 10)).toEqual({ subject: "p", item: "gold", free: MAX, held: 100 });
    expect((await backend.list("p", T0 + 10)).openHolds).toEqual([hold]);
    // Once free has room, the same release goes through.
    await backend.consume({ idempotencyKey: "c1", subject: "p", item: "gold", quantity: 100, now: T0 + 20 });
    const released = await backend.release({ holdId: hold.holdId, now: T0 + 30 });
    expect(released).toMatchObject({ replayed: false, hold: { state: "released" }, balances: [{ free: MAX, held: 0 }] });
  });

  it("does not expire a due hold whose quantity would not fit: neither lazily nor by expireHolds", async () => {
    const due = T0 + 5000;
    const lazily = await backend.balance("p", "gold", due);
    expect(lazily.expiredHolds).toEqual([]);
    expect(lazily.balance).toEqual({ subject: "p", item: "gold", free: MAX, held: 100 });
    expect((await backend.list("p", due)).expiredHolds).toEqual([]);
    expect((await backend.expireHolds(due, 10)).expiredHolds).toEqual([]);
    expect(await balanceAt(due)).toEqual({ subject: "p", item: "gold", free: MAX, held: 100 });

    // Room again: the next call touching the subject expires it, and reports it once.
    const reported: HoldRecord[] = [];
    reported.push(...(await backend.consume({ idempotencyKey: "c1", subject: "p", item: "gold", quantity: 100, now: due + 1 })).expiredHolds);
    reported.push(...(await backend.balance("p", "gold", due + 2)).expiredHolds);
    reported.push(...((await backend.expireHolds(due + 3, 10)).expiredHolds));
    expect(reported).toEqual([{ ...hold, state: "expired", settledAt: due + 2 }]);
    expect(await balanceAt(due + 4)).toEqual({ subject: "p", item: "gold", free: MAX, held: 0 });
  });

  it("expireHolds passes over a hold that does not fit to the ones behind it, within its limit", async () => {
    await backend.acquire({ idempotencyKey: "a3", subject: "q", item: "gem", quantity: 6, now: T0 });
    // Both due after the one that does not fit: the job must not stop at the head of the index.
    const second = await backend.hold({ idempotencyKey: "h2", subject: "q", item: "gem", quantity: 5, ttlMs: 2000, now: T0 });
    const third = await backend.hold({ idempotencyKey: "h3", subject: "q", item: "gem", quantity: 1, ttlMs: 3000, now: T0 });
    expect(((await backend.expireHolds(T0 + 5000, 1)).expiredHolds).map((h) => h.holdId)).toEqual([second.hold.holdId]);
    expect(((await backend.expireHolds(T0 + 5000, 10)).expiredHolds).map((h) => h.holdId)).toEqual([third.hold.holdId]);
    expect(await balanceAt(T0 + 5000)).toEqual({ subject: "p", item: "gold", free: MAX, held: 100 });
  });
});
