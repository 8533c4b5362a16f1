import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { T0, check, counter, planOf } from "./redis-backend-fixtures.ts";

/** Many clients (own connections) on one prefix, racing over the same subjects and balance. */
describe("redis backend: concurrency", () => {
  const CLIENTS = 8;
  let clients: Redis[] = [];
  let prefix = "";
  afterEach(async () => {
    await deleteKeysWithPrefix(clients[0] as Redis, prefix);
    for (const client of clients) client.disconnect();
    clients = [];
  });

  function backends(): ProgressionBackend[] {
    prefix = randomPrefix("conc");
    clients = Array.from({ length: CLIENTS }, () => new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 }));
    return clients.map((redis) => createRedisBackend({ redis, prefix, useServerTime: false, subjectsPerCall: 2 }));
  }

  it("exact counts and one award per check when clients apply for the same subjects at once", async () => {
    const all = backends();
    const plan = planOf(counter("kills001", "sum", [check("k50", 50), check("k100", 100), check("k150", 150)]));
    const subjects = ["s0", "s1", "s2", "s3", "s4"];
    const BATCHES = 20;
    const request = (c: number, b: number) => ({
      batchId: `c${c}-b${b}`,
      now: T0,
      plan,
      subjects: subjects.map((subject) => ({ subject, catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 + b }] })),
    });
    // Each client applies its batches in order and retries each one once right away (as a flusher
    // does after a timeout); other clients' batches interleave, fewer than the 16 remembered.
    const perClient = await Promise.all(
      all.map(async (backend, c) => {
        const applied = [];
        for (let b = 0; b < BATCHES; b += 1) {
          applied.push(await backend.apply(request(c, b)));
          const retried = await (all[(c + 1) % CLIENTS] as ProgressionBackend).apply(request(c, b));
          expect(retried.every((r) => r.duplicate)).toBe(true);
        }
        return applied;
      }),
    );
    const results = perClient.flat();

    for (const subject of subjects) {
      const state = await (all[0] as ProgressionBackend).readState(subject);
      expect(state.counters.get("kills001")).toMatchObject({ value: CLIENTS * BATCHES });
      const awarded = results.flat().filter((r) => r.subject === subject).flatMap((r) => r.reached.map((a) => a.code));
      expect(awarded.sort()).toEqual(["k100", "k150", "k50"]);
    }
  });

  it("no negative balance and conserved totals when clients fight over one balance", async () => {
    const all = backends();
    const first = all[0] as ProgressionBackend;
    await first.acquire({ idempotencyKey: "seed", subject: "bank", item: "gold", quantity: 100, now: T0 });
    let consumed = 0;
    const outcomes = await Promise.all(
      all.flatMap((backend, c) =>
        Array.from({ length: 15 }, async (_, i) => {
          const quantity = 1 + ((c * 7 + i * 3) % 9);
          const idempotencyKey = `c${c}-${i}`;
          try {
            if (i % 3 === 0) {
              await backend.consume({ idempotencyKey, subject: "bank", item: "gold", quantity, now: T0 });
              consumed += quantity;
            } else if (i % 3 === 1) {
              await backend.transfer({ idempotencyKey, from: "bank", to: `p${c}`, item: "gold", quantity, now: T0, allowNewReceiver: true });
            } else {
              const { hold } = await backend.hold({ idempotencyKey, subject: "bank", item: "gold", quantity, ttlMs: 60_000, now: T0 });
              if (c % 2 === 0) {
                await backend.commit({ holdId: hold.holdId, now: T0 });
                consumed += quantity;
              }
            }
            return "ok";
          } catch (error) {
            if (isProgressionError(error, ErrorCode.Insufficient)) return "insufficient";
            throw error;
          }
        }),
      ),
    );
    expect(outcomes).toContain("insufficient");
    expect(outcomes).toContain("ok");

    const bank = (await first.balance("bank", "gold", T0)).balance;
    expect(bank.free).toBeGreaterThanOrEqual(0);
    let received = 0;
    for (let c = 0; c < CLIENTS; c += 1) received += (await first.balance(`p${c}`, "gold", T0)).balance.free;
    expect(bank.free + bank.held + received + consumed).toBe(100);
  });
});
