import { afterEach, describe, expect, it } from "vitest";
import type { HoldRecord } from "../../src/model/hold.ts";
import type { SubjectSnapshot } from "../../src/model/subject-state.ts";
import { packr } from "../../src/backends/redis/apply-request-codec.ts";
import { runScript } from "../../src/backends/redis/redis-commands.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { transferArgs } from "../../src/backends/redis/script-args.ts";
import { ScriptStatus } from "../../src/backends/redis/script-errors.ts";
import { T0, redisBackendForTest } from "./redis-backend-fixtures.ts";

/**
 * A transfer to a subject this Redis holds nothing for asks for its snapshot, then runs again. The
 * sender's due holds must be expired by the run that completes (and reported by it), never by a run
 * that is refused: a refused run's writes would stay in Redis unreported.
 */
describe("redis backend: transfer to a subject that needs a restore", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it("reports the sender's expired hold exactly once", async () => {
    const loaded: string[] = [];
    const receiver: SubjectSnapshot = {
      subject: "b",
      counters: new Map(),
      awards: new Map(),
      balances: [{ subject: "b", item: "gem", free: 1, held: 0 }],
      holds: [],
    };
    const fixture = await redisBackendForTest({
      useServerTime: false,
      loader: async (subject) => {
        loaded.push(subject);
        return subject === "b" ? receiver : null;
      },
    });
    cleanup = fixture.cleanup;
    const { backend } = fixture;
    await backend.acquire({ idempotencyKey: "a1", subject: "a", item: "gem", quantity: 10, now: T0 });
    const { hold } = await backend.hold({ idempotencyKey: "h1", subject: "a", item: "gem", quantity: 3, ttlMs: 1000, now: T0 });
    expect(loaded).toEqual(["a"]);

    const reported: HoldRecord[] = [];
    const moved = await backend.transfer({ idempotencyKey: "t1", from: "a", to: "b", item: "gem", quantity: 2, now: T0 + 5000 });
    reported.push(...moved.expiredHolds);
    expect(loaded).toEqual(["a", "b"]);
    expect(moved.balances).toEqual([
      { subject: "a", item: "gem", free: 8, held: 0 },
      { subject: "b", item: "gem", free: 3, held: 0 },
    ]);
    // Whatever touches `a` afterwards, and the expiry job, may report it only if nobody did yet.
    reported.push(...(await backend.balance("a", "gem", T0 + 6000)).expiredHolds);
    reported.push(...(await backend.list("a", T0 + 6000)).expiredHolds);
    reported.push(...((await backend.expireHolds(T0 + 10_000, 100)).expiredHolds));

    expect(reported.map((h) => [h.holdId, h.state])).toEqual([[hold.holdId, "expired"]]);
    expect((await backend.getHold(hold.holdId, T0 + 10_000)).hold.state).toBe("expired");
  });

  it("refuses before writing anything, naming every subject to restore at once", async () => {
    const fixture = await redisBackendForTest({ useServerTime: false, loader: async () => null });
    cleanup = fixture.cleanup;
    const { backend, client, prefix } = fixture;
    await backend.acquire({ idempotencyKey: "a1", subject: "a", item: "gem", quantity: 10, now: T0 });
    const { hold } = await backend.hold({ idempotencyKey: "h1", subject: "a", item: "gem", quantity: 3, ttlMs: 1000, now: T0 });
    const keys = createRedisKeys(prefix);
    const settings = { keys, useServerTime: false, idempotencyRetentionMs: 60_000, checkRestore: true };
    const snapshotOfA = async () => [await client.hgetall(keys.subject("a").holds), await client.hgetall(keys.subject("a").balances), await client.zscore(keys.shardOf("a").holdExpiryIndex, hold.holdId)];
    const before = await snapshotOfA();

    const transfer = (from: string, to: string) => transferArgs(settings, { from, to, item: "gem", quantity: 1, idempotencyKey: "t", now: T0 + 5000, allowNewReceiver: false });
    const decode = (raw: Buffer) => packr.unpack(raw) as [number, string, unknown];
    // `a` has a due hold, `b` needs a restore: the hold must not be expired by the refused call.
    expect(decode(await runScript(client, transfer("a", "b")))).toEqual([ScriptStatus.RestoreNeeded, expect.any(String), ["b"]]);
    expect(await snapshotOfA()).toEqual(before);
    expect(decode(await runScript(client, transfer("c", "d")))).toEqual([ScriptStatus.RestoreNeeded, expect.any(String), ["c", "d"]]);
    expect(await client.exists(keys.idempotency("a", "t"), keys.subject("c").state, keys.subject("d").state)).toBe(0);
  });
});
