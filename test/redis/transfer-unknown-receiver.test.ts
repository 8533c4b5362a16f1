import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

/**
 * A transfer to a subject this store has never seen (no balance, hold, award, counter or history) is
 * refused with UNKNOWN_SUBJECT inside the transfer script, unless the request allows a new receiver.
 */
describe("redis backend: transfer to an unknown receiver", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  async function sender(options: Parameters<typeof redisBackendForTest>[0] = {}): Promise<ProgressionBackend> {
    const fixture = await redisBackendForTest(options);
    cleanup = fixture.cleanup;
    await fixture.backend.acquire({ idempotencyKey: "a", subject: "a", item: "gold", quantity: 10, now: T0 });
    return fixture.backend;
  }

  it("refuses it naming the receiver, changes nothing and leaves the key unused; allowNewReceiver lets it through", async () => {
    const backend = await sender();
    const request = { idempotencyKey: "t", from: "a", to: "ghost", item: "gold", quantity: 4, now: T0 };
    const refused = await backend.transfer(request).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: ErrorCode.UnknownSubject, message: expect.stringMatching(/"ghost".*allowNewReceiver/) });
    expect((await backend.balance("a", "gold", T0)).balance.free).toBe(10);
    expect((await backend.list("ghost", T0)).balances).toEqual([]);

    const gift = await backend.transfer({ ...request, allowNewReceiver: true });
    expect(gift).toMatchObject({ replayed: false, balances: [{ subject: "a", free: 6 }, { subject: "ghost", free: 4 }] });
    // The flag is a permission, not part of the request: a retry without it replays the gift.
    expect((await backend.transfer(request)).replayed).toBe(true);
    // Now known: no flag needed.
    expect((await backend.transfer({ ...request, idempotencyKey: "t2", quantity: 1 })).balances).toMatchObject([{ free: 5 }, { free: 5 }]);
  });

  it("accepts a receiver known by its progress only (an applied batch)", async () => {
    const backend = await sender();
    const plan = planOf(counter("kills001", "sum", [check("k5", 5)]));
    await backend.apply({ batchId: "b", now: T0, plan, subjects: [{ subject: "player", catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] }] });
    const moved = await backend.transfer({ idempotencyKey: "t", from: "a", to: "player", item: "gold", quantity: 1, now: T0 });
    expect(moved.balances).toMatchObject([{ subject: "a", free: 9 }, { subject: "player", free: 1 }]);
  });

  it("reports a due hold of the sender that the refused transfer released", async () => {
    const backend = await sender();
    const { hold } = await backend.hold({ idempotencyKey: "h", subject: "a", item: "gold", quantity: 2, ttlMs: 1000, now: T0 });
    const refused = await backend.transfer({ idempotencyKey: "t", from: "a", to: "ghost", item: "gold", quantity: 1, now: T0 + 5000 }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: ErrorCode.UnknownSubject, details: { expiredHolds: [{ holdId: hold.holdId, state: "expired" }] } });
    expect((await backend.balance("a", "gold", T0 + 5000)).expiredHolds).toEqual([]);
  });

  it("with a restore hook: a receiver the loader has no snapshot for is still unknown", async () => {
    const backend = await sender({ loader: async () => null });
    await expect(backend.transfer({ idempotencyKey: "t", from: "a", to: "ghost", item: "gold", quantity: 1, now: T0 })).rejects.toMatchObject({
      code: ErrorCode.UnknownSubject,
    });
    expect((await backend.balance("a", "gold", T0)).balance.free).toBe(10);
  });
});
