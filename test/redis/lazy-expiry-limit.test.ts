import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import type { HoldRecord } from "../../src/model/hold.ts";
import { T0, redisBackendForTest } from "./redis-backend-fixtures.ts";

/** One call expires at most 1000 holds lazily (includes/ledger.lua); more due holds than that. */
const MORE_THAN_THE_LIMIT = 1001;

/**
 * A call about one hold judges it by its expiry even when the subject has more due holds than one call
 * expires lazily: a due hold is never committed, nor read as held.
 */
describe("redis backend: a due hold beyond the lazy expiry limit", () => {
  let backend: ProgressionBackend;
  let cleanup: () => Promise<void>;
  let last: HoldRecord;
  beforeEach(async () => {
    ({ backend, cleanup } = await redisBackendForTest());
    await backend.acquire({ idempotencyKey: "a", subject: "p", item: "gold", quantity: MORE_THAN_THE_LIMIT, now: T0 });
    const holds: HoldRecord[] = [];
    for (let start = 0; start < MORE_THAN_THE_LIMIT; start += 100) {
      const chunk = Array.from({ length: Math.min(100, MORE_THAN_THE_LIMIT - start) }, (_, i) => start + i);
      // ttl grows with i: the last hold is the last one due.
      holds.push(...(await Promise.all(chunk.map(async (i) => (await backend.hold({ idempotencyKey: `h${i}`, subject: "p", item: "gold", quantity: 1, ttlMs: 1000 + i, now: T0 })).hold))));
    }
    last = holds[holds.length - 1] as HoldRecord;
  }, 30_000);
  afterEach(async () => cleanup());

  it("commit of it is HOLD_EXPIRED, and reports it expired with the others", async () => {
    const refused = await backend.commit({ holdId: last.holdId, now: T0 + 5000 }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: ErrorCode.HoldExpired });
    const reported = (refused as { details: { expiredHolds: HoldRecord[] } }).details.expiredHolds;
    expect(reported).toHaveLength(1001);
    expect(reported.at(-1)).toMatchObject({ holdId: last.holdId, state: "expired" });
    expect((await backend.balance("p", "gold", T0 + 5000)).balance).toEqual({ subject: "p", item: "gold", free: MORE_THAN_THE_LIMIT, held: 0 });
  });

  it("getHold of it reads it expired", async () => {
    const read = await backend.getHold(last.holdId, T0 + 5000);
    expect(read.hold).toMatchObject({ state: "expired", settledAt: T0 + 5000 });
    expect(read.expiredHolds).toHaveLength(1001);
  });
});
