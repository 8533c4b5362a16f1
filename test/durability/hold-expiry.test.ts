import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgression } from "../../src/engine/create-progression.ts";
import { BullMQEventBus } from "../../src/durability/events/bullmq-event-bus.ts";
import { HoldExpiryJobs } from "../../src/durability/jobs/hold-expiry-jobs.ts";
import type { HoldRecord } from "../../src/model/hold.ts";
import type { HoldExpiry } from "../../src/runtime/hold-expiry.ts";
import { backendFactories } from "../support/backend-factories.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";

let redis: Redis;
const prefixes: string[] = [];

beforeAll(() => {
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const factory of backendFactories) {
  describe(`hold expiry jobs on the ${factory.name} backend`, () => {
    it("releases each expired hold once, with one hold.expired, across a worker stop and restart", async () => {
      const prefix = randomPrefix("holds");
      prefixes.push(prefix);
      const fixture = await factory.create();
      const bus = new BullMQEventBus({ redis: testRedisUrl(), prefix, queueName: "events", backoffMs: 10, onError: () => undefined });
      // The engine places holds and schedules nothing itself: only the jobs under test release them.
      const inert: HoldExpiry = { attach: () => {}, holdPlaced: () => {}, close: async () => {} };
      const progression = createProgression({ definitions: [], backend: fixture.backend, events: bus, holdExpiry: inert, onMissingTranslations: () => {} });
      const expired: HoldRecord[] = [];
      bus.on("hold.expired", "recorder", (envelope) => void expired.push(envelope.payload.hold));
      const jobsFor = (): HoldExpiryJobs => {
        const jobs = new HoldExpiryJobs({
          redis: testRedisUrl(),
          prefix,
          queueName: "hold-expiry",
          sweepIntervalMs: 300,
          sweepLimit: 2,
          concurrency: 2,
          afterJob: () => bus.enqueued(),
          onError: () => undefined,
        });
        jobs.attach({ expireHolds: (limit) => progression.ledger.expireHolds(limit) });
        return jobs;
      };
      let jobs = jobsFor();
      try {
        await progression.ledger.acquire({ subject: "shopper", item: "gem", quantity: 10, idempotencyKey: "grant" });
        const hold = async (key: string, quantity: number, ttlMs: number): Promise<HoldRecord> =>
          (await progression.ledger.hold({ subject: "shopper", item: "gem", quantity, ttlMs, idempotencyKey: key })).hold;
        const first = await hold("h1", 1, 200);
        const second = await hold("h2", 2, 900);
        const third = await hold("h3", 3, 1000); // never scheduled: only the sweep can find it
        const kept = await hold("h4", 1, 3_600_000); // not due: must stay held

        await jobs.start();
        await jobs.schedule(first);
        await jobs.schedule(second);
        await jobs.schedule(second); // same hold twice: one job
        await jobs.schedule(kept);
        await expect.poll(() => expired.map((h) => h.holdId), { timeout: 5000, interval: 20 }).toContain(first.holdId);

        await jobs.close(); // the worker stops in the middle: second and third come due while it is down
        await sleep(1100);
        jobs = jobsFor();
        await jobs.start();
        await jobs.schedule(first); // a late duplicate of an already expired hold

        await expect.poll(() => expired.length, { timeout: 5000, interval: 20 }).toBe(3);
        await sleep(700); // another sweep and any duplicate job would have run by now
        await bus.drain();
        expect(expired.map((h) => h.holdId).sort()).toEqual([first.holdId, second.holdId, third.holdId].sort());
        expect(expired.every((h) => h.state === "expired")).toBe(true);
        expect(await progression.ledger.balance("shopper", "gem")).toEqual({ subject: "shopper", item: "gem", free: 9, held: 1 });
        expect((await progression.ledger.getHold(kept.holdId)).state).toBe("held");
        expect(expired).toHaveLength(3);
      } finally {
        await jobs.close();
        await progression.close();
        await fixture.cleanup();
      }
    });
  });
}
