import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { memoryBackendMaker, redisBackendMaker, runBackendModel } from "../../loadtest/faults/ledger-attack.ts";
import { testRedisUrl } from "../support/redis-prefix.ts";

/**
 * The fault suite's model-based ledger test (loadtest/faults/ledger-*.ts) at a small scale: 4,000
 * generated calls per backend (concurrency, replays and conflicts, invalid quantities, values next
 * to 2^53, holds expiring at every boundary) against a plain model, every expiry announced once.
 * A failure names the first diverging call and the seed; replay it with
 * `npm run faults -- --only ledger --seed <seed>`. `FAULTS_SEED` fixes the seed here too.
 */
const seed = process.env.FAULTS_SEED === undefined ? randomBytes(3).readUIntBE(0, 3) : Number(process.env.FAULTS_SEED);

describe("the ledger against a plain model (fault suite, small)", () => {
  for (const [name, make] of [
    ["memory", () => memoryBackendMaker()],
    ["redis", () => redisBackendMaker(testRedisUrl())],
  ] as const) {
    it(`${name}: 4,000 calls, 0 breaks, every expiry reported once (seed ${seed})`, async () => {
      const figures = await runBackendModel(name, make(), { operations: 4_000, episodeSize: 2_000, seed, concurrency: 4, log: () => undefined });
      expect(figures.firstBreaks, `seed ${seed}: replay with FAULTS_SEED=${seed}`).toEqual([]);
      expect(figures.expiries.reported).toBe(figures.expiries.expected);
      expect(figures.expiries.events).toBe(figures.expiries.expected);
    }, 60_000);
  }
});
