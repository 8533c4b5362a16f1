import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { BullMQEventBus, type DeliveryFailure } from "../../src/durability/events/bullmq-event-bus.ts";
import type { DomainEnvelope } from "../../src/events/domain-topics.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";

let redis: Redis;
const prefix = randomPrefix("bus");
const buses: BullMQEventBus[] = [];

function newBus(queueName: string, options: { runWorker?: boolean; attempts?: number; onFailure?: (f: DeliveryFailure) => void } = {}): BullMQEventBus {
  const bus = new BullMQEventBus({ redis: testRedisUrl(), prefix, queueName, backoffMs: 10, onError: () => undefined, ...options });
  buses.push(bus);
  return bus;
}

beforeAll(() => {
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const bus of buses) await bus.close();
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
});

const reached = { subject: "alice", code: "first_blood", earnedAt: 1_000, retroactive: false };

describe("BullMQEventBus", () => {
  it("delivers each envelope to every listener of its topic, with one stable id and the decoded payload", async () => {
    const bus = newBus("deliver");
    const seenByA: DomainEnvelope<"milestone.reached">[] = [];
    const seenByB: DomainEnvelope<"milestone.reached">[] = [];
    const claims: unknown[] = [];
    bus.on("milestone.reached", "a", (envelope) => void seenByA.push(envelope));
    bus.on("milestone.reached", "b", (envelope) => void seenByB.push(envelope));
    bus.on("reward.claimed", "c", (envelope) => void claims.push(envelope));

    bus.emit("milestone.reached", "milestone.reached:alice:first_blood", reached, 1_000);
    bus.emit("milestone.reached", "milestone.reached:bob:first_blood", { ...reached, subject: "bob" }, 1_001);
    await bus.drain();

    expect(seenByA.map((e) => e.payload.subject).sort()).toEqual(["alice", "bob"]);
    expect(seenByB.map((e) => e.id).sort()).toEqual(seenByA.map((e) => e.id).sort());
    expect(new Set(seenByA.map((e) => e.id)).size).toBe(2);
    const alice = seenByA.find((e) => e.payload.subject === "alice");
    expect(alice).toMatchObject({
      topic: "milestone.reached",
      idempotencyKey: "milestone.reached:alice:first_blood",
      occurredAt: 1_000,
      attempt: 1,
      payload: reached,
    });
    expect(claims).toEqual([]);
  });

  it("retries a throwing listener with backoff under the same envelope id, without re-running the others", async () => {
    const bus = newBus("retry", { attempts: 4 });
    const attempts: { id: string; attempt: number }[] = [];
    let healthyRuns = 0;
    bus.on("milestone.reached", "flaky", (envelope) => {
      attempts.push({ id: envelope.id, attempt: envelope.attempt });
      if (envelope.attempt < 3) throw new Error("webhook timed out");
    });
    bus.on("milestone.reached", "healthy", () => void (healthyRuns += 1));

    bus.emit("milestone.reached", "k1", reached, 1_000);
    await bus.drain();

    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    expect(healthyRuns).toBe(1);
    expect(await bus.failedDeliveries()).toEqual([]);
  });

  it("makes the final failure visible: a failed job with the error, and onFailure called once", async () => {
    const reported: DeliveryFailure[] = [];
    const bus = newBus("final-failure", { attempts: 3, onFailure: (failure) => reported.push(failure) });
    let runs = 0;
    bus.on("hold.expired", "always-fails", () => {
      runs += 1;
      throw new Error("listener is broken");
    });
    const hold = {
      holdId: "h0123456789abcdef:alice",
      subject: "alice",
      item: "gem",
      quantity: 1,
      createdAt: 1,
      expiresAt: 2,
      state: "expired" as const,
      settledAt: 2,
    };
    bus.emit("hold.expired", `hold.expired:${hold.holdId}`, { hold }, 2);
    await bus.drain();

    expect(runs).toBe(3);
    const failed = await bus.failedDeliveries();
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      listenerName: "always-fails",
      attempts: 3,
      error: "listener is broken",
      envelope: { topic: "hold.expired", idempotencyKey: `hold.expired:${hold.holdId}`, payload: { hold } },
    });
    await expect.poll(() => reported.length).toBe(1);
    expect(reported[0]?.envelope.id).toBe(failed[0]?.envelope.id);
  });

  it("keeps emitted envelopes in Redis until a worker with listeners picks them up", async () => {
    const emitter = newBus("durable", { runWorker: false });
    emitter.emit("milestone.reached", "k-durable", reached, 1_000);
    await emitter.enqueued();
    await emitter.close();

    const seen: DomainEnvelope<"milestone.reached">[] = [];
    const consumer = newBus("durable");
    consumer.on("milestone.reached", "late-listener", (envelope) => void seen.push(envelope));
    await consumer.drain();
    expect(seen.map((e) => e.idempotencyKey)).toEqual(["k-durable"]);
  });

  it("rejects unknown topics, empty idempotency keys and duplicate listener names with typed errors", () => {
    const bus = newBus("validation", { runWorker: false });
    const codeOf = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        return isProgressionError(error) ? error.code : error;
      }
      return "no error";
    };
    expect(codeOf(() => bus.emit("milestone.unknown" as "milestone.reached", "k", reached, 1))).toBe(ErrorCode.InvalidInput);
    expect(codeOf(() => bus.emit("milestone.reached", "", reached, 1))).toBe(ErrorCode.InvalidInput);
    bus.on("milestone.reached", "same", () => undefined);
    expect(codeOf(() => bus.on("milestone.reached", "same", () => undefined))).toBe(ErrorCode.InvalidInput);
  });
});
