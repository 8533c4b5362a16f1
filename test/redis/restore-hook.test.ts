import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { DAY, T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

describe("redis backend: restore hook", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  const plan = planOf(
    counter("kills001", "sum", [check("k5", 5), check("k10", 10)]),
    counter("days0001", "days", [check("d3", 3)]),
  );
  const snapshot: SubjectSnapshot = {
    subject: "p",
    counters: new Map([
      ["kills001", { kind: "sum", value: 7, at: T0 }],
      ["days0001", { kind: "days", value: 2, lastDay: Math.floor(T0 / DAY), at: T0 }],
    ]),
    awards: new Map([["k5", { code: "k5", earnedAt: T0 - 5, retroactive: false, claimedAt: null }]]),
    balances: [{ subject: "p", item: "gold", free: 4, held: 2 }],
    holds: [{ holdId: "h0123456789abcdef:p", subject: "p", item: "gold", quantity: 2, createdAt: T0, expiresAt: T0 + 2 * DAY, state: "held", settledAt: null }],
  };

  it("loads a missing subject once, before applying anything, and never repeats an award", async () => {
    const loaded: string[] = [];
    const fixture = await redisBackendForTest({
      loader: async (subject) => {
        loaded.push(subject);
        return subject === "p" ? snapshot : null;
      },
    });
    cleanup = fixture.cleanup;
    const { backend } = fixture;
    const result = await backend.apply({
      batchId: "b1",
      now: T0 + DAY,
      plan,
      subjects: [
        { subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 3, at: T0 + DAY }, { counter: "days0001", amount: 1, at: T0 + DAY }] },
        { subject: "fresh", catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 + DAY }] },
      ],
    });
    expect(result[0]?.reached.map((a) => a.code)).toEqual(["k10", "d3"]);
    expect(loaded.sort()).toEqual(["fresh", "p"]);
    // Ledger state came back too: balances and the open hold (committable).
    expect((await backend.balance("p", "gold", T0 + DAY)).balance).toEqual({ subject: "p", item: "gold", free: 4, held: 2 });
    expect((await backend.commit({ holdId: "h0123456789abcdef:p", now: T0 + DAY })).hold.state).toBe("committed");
    await backend.acquire({ idempotencyKey: "k", subject: "p", item: "gold", quantity: 1, now: T0 + DAY });
    expect(loaded).toHaveLength(2);
    // The restored award counts once, next to the two earned since.
    expect(await backend.milestoneStats()).toEqual(
      new Map([
        ["k5", { reached: 1, claimed: 0 }],
        ["k10", { reached: 1, claimed: 0 }],
        ["d3", { reached: 1, claimed: 0 }],
      ]),
    );
  });

  it("counts a restored subject's awards once when two processes restore it at the same time", async () => {
    const first = await redisBackendForTest({ loader: async () => snapshot });
    cleanup = first.cleanup;
    const second = createRedisBackend({ redis: first.client, prefix: first.prefix, useServerTime: false, loader: async () => ({ ...snapshot, awards: new Map([...snapshot.awards, ["k10", { code: "k10", earnedAt: T0, retroactive: false, claimedAt: T0 }]]) }) });
    await Promise.all([first.backend.balance("p", "gold", T0), second.balance("p", "gold", T0), first.backend.readState("p")]);
    const stats = await first.backend.milestoneStats();
    // Whichever import won installed its snapshot; the other found the subject present and counted nothing.
    const state = await first.backend.readState("p");
    expect(stats.get("k5")).toEqual({ reached: 1, claimed: 0 });
    expect(stats.get("k10")).toEqual(state.awards.has("k10") ? { reached: 1, claimed: 1 } : undefined);
  });
});

describe("redis backend: restore hook failing", () => {
  it("applies nothing when the loader fails, and says which subject could not be restored", async () => {
    let failing = true;
    const fixture = await redisBackendForTest({
      loader: async () => {
        if (failing) throw new Error("postgres unreachable");
        return null;
      },
    });
    try {
      const plan = planOf(counter("kills001", "sum", [check("k1", 1)]));
      const request = { batchId: "b", now: T0, plan, subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] }] };
      await expect(fixture.backend.apply(request)).rejects.toMatchObject({
        code: ErrorCode.BackendUnavailable,
        message: expect.stringContaining('restore of "p"'),
      });
      expect(await fixture.client.keys(`${fixture.prefix}:*`)).toEqual([]);
      failing = false;
      const [result] = await fixture.backend.apply(request);
      expect(result?.reached.map((a) => a.code)).toEqual(["k1"]);
    } finally {
      await fixture.cleanup();
    }
  });
});
