import { describe, expect, it } from "vitest";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const SETTLED = 3_000;

/**
 * The embedded backend stays O(1) per ledger call with memory bounded by the retention period: settled
 * holds are forgotten from a queue ordered by forget time, a bounded number per call, never by
 * scanning a subject's holds (counts from `ledgerStats()`, not timings).
 */
describe("memory backend: settled holds", () => {
  const settleMany = async (backend: ReturnType<typeof createMemoryBackend>, subject: string, now: number) => {
    await backend.acquire({ idempotencyKey: "seed", subject, item: "gold", quantity: SETTLED, now });
    for (let i = 0; i < SETTLED; i += 1) {
      const { hold } = await backend.hold({ idempotencyKey: `h${i}`, subject, item: "gold", quantity: 1, ttlMs: 60_000, now });
      if (i % 2 === 0) await backend.commit({ holdId: hold.holdId, now });
      else await backend.release({ holdId: hold.holdId, now });
    }
  };

  it("no call looks at the settled holds of a subject while they are remembered", async () => {
    const backend = createMemoryBackend();
    await settleMany(backend, "p1", T0);
    expect(backend.ledgerStats()).toMatchObject({ holds: SETTLED, openHolds: 0 });
    const visited = backend.ledgerStats().holdsVisited;
    await backend.acquire({ idempotencyKey: "x", subject: "p1", item: "gem", quantity: 1, now: T0 + 1 });
    await backend.balance("p1", "gold", T0 + 1);
    await backend.list("p1", T0 + 1);
    expect(backend.ledgerStats().holdsVisited).toBe(visited);
  });

  it("settled holds past the retention are forgotten without being looked up, a bounded number per call", async () => {
    const backend = createMemoryBackend({ idempotencyRetentionMs: 1_000 });
    await settleMany(backend, "p1", T0);
    const kept = (await backend.hold({ idempotencyKey: "kept", subject: "p1", item: "gold", quantity: 1, ttlMs: 60_000, now: T0 })).hold;
    const later = T0 + 1_000;
    // One call on another subject forgets some of them, and looks at no more than its bound.
    const before = backend.ledgerStats();
    await backend.acquire({ idempotencyKey: "x0", subject: "p2", item: "gem", quantity: 1, now: later });
    const after = backend.ledgerStats();
    expect(after.holdsVisited - before.holdsVisited).toBeLessThanOrEqual(64);
    expect(after.holds).toBeLessThan(before.holds);
    expect(before.holds - after.holds).toBeLessThanOrEqual(64);
    // Enough calls (on any subject) drain the whole backlog: memory is back to what is open.
    for (let i = 1; i < 200; i += 1) await backend.acquire({ idempotencyKey: `x${i}`, subject: "p2", item: "gem", quantity: 1, now: later });
    expect(backend.ledgerStats()).toMatchObject({ holds: 1, openHolds: 1 });
    // Only the keys used at `later` are still remembered.
    expect(backend.ledgerStats().pendingForget).toBe(200);
    // A later call has nothing left to look at.
    const settledVisited = backend.ledgerStats().holdsVisited;
    await backend.acquire({ idempotencyKey: "y", subject: "p1", item: "gem", quantity: 1, now: later });
    expect(backend.ledgerStats().holdsVisited).toBe(settledVisited);
    // What is open stays; a forgotten key is free again (a new hold, not a replay).
    expect((await backend.getHold(kept.holdId, later)).hold.state).toBe("held");
    expect(await backend.hold({ idempotencyKey: "h0", subject: "p1", item: "gold", quantity: 1, ttlMs: 1_000, now: later })).toMatchObject({ replayed: false, hold: { createdAt: later } });
  });

  it("a settled hold is HOLD_UNKNOWN once forgotten, whoever drained it", async () => {
    const backend = createMemoryBackend({ idempotencyRetentionMs: 1_000 });
    await backend.acquire({ idempotencyKey: "a", subject: "p1", item: "gold", quantity: 5, now: T0 });
    const { hold } = await backend.hold({ idempotencyKey: "h", subject: "p1", item: "gold", quantity: 5, ttlMs: 500, now: T0 });
    const expired = (await backend.expireHolds(T0 + 500, 10)).expiredHolds;
    expect(expired.map((h) => h.holdId)).toEqual([hold.holdId]);
    await expect(backend.commit({ holdId: hold.holdId, now: T0 + 1_499 })).rejects.toMatchObject({ code: ErrorCode.HoldExpired });
    await backend.acquire({ idempotencyKey: "b", subject: "p2", item: "gold", quantity: 1, now: T0 + 1_500 });
    expect(backend.ledgerStats().holds).toBe(0);
    await expect(backend.commit({ holdId: hold.holdId, now: T0 + 1_500 })).rejects.toMatchObject({ code: ErrorCode.HoldUnknown });
  });

  it("the expiry job finds due holds without looking at the others", async () => {
    const backend = createMemoryBackend();
    await backend.acquire({ idempotencyKey: "a", subject: "p1", item: "gold", quantity: SETTLED, now: T0 });
    for (let i = 0; i < SETTLED; i += 1) await backend.hold({ idempotencyKey: `h${i}`, subject: "p1", item: "gold", quantity: 1, ttlMs: i < 10 ? 1_000 : 60_000, now: T0 });
    const visited = backend.ledgerStats().holdsVisited;
    expect((await backend.expireHolds(T0 + 1_000, 4)).expiredHolds).toHaveLength(4);
    expect((await backend.balance("p1", "gold", T0 + 1_000)).expiredHolds).toHaveLength(6);
    expect(backend.ledgerStats().holdsVisited - visited).toBe(10);
    expect(backend.ledgerStats().openHolds).toBe(SETTLED - 10);
  });
});
