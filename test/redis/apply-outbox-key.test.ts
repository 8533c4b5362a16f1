import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { createRedisKeys, type SubjectKeys } from "../../src/backends/redis/redis-keys.ts";
import { T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

/**
 * The apply outbox lives in its own key (`<prefix>:o:{subject}`), not in the state hash: its values pass
 * the 64-byte listpack limit and would turn the state hash into a hashtable for good. The key exists only
 * while one of the subject's last 16 batches (the batch ring) had a non-empty outcome.
 */
describe("redis backend: the apply outbox key", () => {
  let backend: ProgressionBackend;
  let client: Redis;
  let prefix: string;
  let cleanup: () => Promise<void>;
  let k: SubjectKeys;
  beforeEach(async () => {
    ({ backend, client, prefix, cleanup } = await redisBackendForTest());
    k = createRedisKeys(prefix).subject("p");
  });
  afterEach(async () => cleanup());

  // Long codes and an autoClaim credit, so the outcome text is well over 64 bytes.
  const codes = ["kills_first_blood_award", "kills_first_blood_award_2", "kills_first_blood_award_3"];
  const plan = planOf(
    counter("kills001", "sum", [
      check(codes[0] ?? "", 1, { autoClaimRewards: [{ item: "gold", quantity: 5 }] }),
      check(codes[1] ?? "", 1),
      check(codes[2] ?? "", 1),
      check("k_later", 100),
    ]),
  );
  const apply = (batchId: string, amount = 1) =>
    backend.apply({ batchId, now: T0, plan, subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount, at: T0 }] }] });

  it("exists after an award, answers a duplicate, and is gone once the batch leaves the ring of 16", async () => {
    const [first] = await apply("award");
    expect(first?.reached.map((r) => r.code)).toEqual(codes);
    expect(await client.exists(k.outbox)).toBe(1);
    expect(await client.hlen(k.outbox)).toBe(1);
    // The state hash keeps only the short slot mask, and stays a listpack.
    expect(Object.keys(await client.hgetall(k.state)).filter((field) => field.startsWith("~o"))).toEqual([]);
    expect(await client.object("ENCODING", k.state)).toBe("listpack");

    const [duplicate] = await apply("award");
    expect(duplicate).toMatchObject({ duplicate: true, reached: first?.reached, balances: [{ subject: "p", item: "gold", free: 5, held: 0 }] });

    // 15 batches without awards: the award's batch is still in the ring, so is its entry.
    for (let i = 0; i < 15; i += 1) await apply(`quiet-${i}`);
    expect(await client.hlen(k.outbox)).toBe(1);
    // The 16th pushes it out: the last entry goes, and the key and the mask with it.
    await apply("quiet-15");
    expect(await client.exists(k.outbox)).toBe(0);
    expect(await client.hexists(k.state, "~p")).toBe(0);
    expect(await client.object("ENCODING", k.state)).toBe("listpack");
  });

  it("drops each entry as its batch leaves the ring, and keeps the others", async () => {
    await apply("award-1");
    for (let i = 0; i < 7; i += 1) await apply(`quiet-${i}`);
    // 99 more reaches k_later: a second non-empty outcome, eight batches after the first.
    const [second] = await apply("award-2", 99);
    expect(second?.reached.map((r) => r.code)).toEqual(["k_later"]);
    expect(await client.hlen(k.outbox)).toBe(2);
    for (let i = 7; i < 15; i += 1) await apply(`quiet-${i}`);
    // award-1 has left the ring (16 batches since), award-2 has not.
    expect(await client.hlen(k.outbox)).toBe(1);
    const [duplicate] = await apply("award-2");
    expect(duplicate).toMatchObject({ duplicate: true, reached: second?.reached });
    const [gone] = await apply("award-1");
    expect(gone?.duplicate).toBe(false);
  });

  it("is deleted by erase with the subject's other keys", async () => {
    await apply("award");
    expect(await client.exists(k.outbox)).toBe(1);
    await backend.eraseSubject("p");
    expect(await client.exists(k.outbox)).toBe(0);
    expect(await client.keys(`${prefix}:*{p}*`)).toEqual([]);
  });
});
