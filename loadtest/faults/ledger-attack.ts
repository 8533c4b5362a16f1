import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { runLedgerEpisode, type EpisodeResult, type LedgerBreak } from "./ledger-episode.ts";
import { deleteKeysWithPrefix } from "../../test/support/redis-prefix.ts";

/**
 * Attack 1: the model-based ledger test on both backends. `operations` calls per backend, in
 * episodes of `episodeSize` (each a fresh backend and seed: a break stops only its episode, so one
 * run shows every kind of break), seeds `seed`, `seed + 1`, ...
 */

export interface LedgerAttackOptions {
  readonly operations: number;
  readonly episodeSize: number;
  readonly seed: number;
  readonly concurrency: number;
  /** A Redis with AOF the runner owns; its keys go under a random prefix removed with SCAN afterwards. */
  readonly redisUrl: string | undefined;
  readonly log: (line: string) => void;
}

export interface BackendFigures {
  readonly backend: string;
  readonly episodes: number;
  readonly calls: number;
  readonly concurrentSteps: number;
  readonly callsPerSecond: number;
  readonly breaks: number;
  readonly expiries: { readonly expected: number; readonly reported: number; readonly events: number; readonly duplicates: number };
  /** The first break of each broken episode (at most 10), each with the seed that replays it. */
  readonly firstBreaks: readonly LedgerBreak[];
}

export type BackendMaker = () => Promise<{ backend: ProgressionBackend; cleanup: () => Promise<void> }>;

export function memoryBackendMaker(): BackendMaker {
  return async () => {
    const backend = createMemoryBackend();
    return { backend, cleanup: async () => undefined };
  };
}

export function redisBackendMaker(url: string): BackendMaker {
  return async () => {
    const client = new Redis(url, { maxRetriesPerRequest: 1 });
    const prefix = `faults-ledger-${randomBytes(4).toString("hex")}`;
    // The engine clock drives expiry (useServerTime: false): the model moves it to every boundary.
    const backend = createRedisBackend({ redis: client, prefix, useServerTime: false });
    return {
      backend,
      cleanup: async () => {
        await backend.close().catch(() => undefined);
        await deleteKeysWithPrefix(client, prefix);
        client.disconnect();
      },
    };
  };
}

export async function runBackendModel(name: string, make: BackendMaker, options: Omit<LedgerAttackOptions, "redisUrl">): Promise<BackendFigures> {
  const started = performance.now();
  const results: EpisodeResult[] = [];
  let calls = 0;
  for (let episode = 0; calls < options.operations; episode += 1) {
    const result = await runLedgerEpisode({
      seed: options.seed + episode,
      operations: Math.min(options.episodeSize, options.operations - calls),
      concurrency: options.concurrency,
      backend: make,
    });
    results.push(result);
    calls += result.calls;
    if (result.break !== undefined) options.log(`ledger ${name} seed ${result.seed}: BREAK at call ${result.break.call}: ${result.break.op}: ${result.break.problem}`);
  }
  const sum = (pick: (result: EpisodeResult) => number): number => results.reduce((total, result) => total + pick(result), 0);
  const broken = results.filter((result) => result.break !== undefined);
  return {
    backend: name,
    episodes: results.length,
    calls,
    concurrentSteps: sum((r) => r.concurrentSteps),
    callsPerSecond: Math.round(calls / ((performance.now() - started) / 1000)),
    breaks: broken.length,
    expiries: { expected: sum((r) => r.expiriesExpected), reported: sum((r) => r.expiriesReported), events: sum((r) => r.expiredEvents), duplicates: sum((r) => r.duplicateReports) },
    firstBreaks: broken.slice(0, 10).map((result) => result.break as LedgerBreak),
  };
}

export async function ledgerAttack(options: LedgerAttackOptions): Promise<{ ok: boolean; figures: BackendFigures[] }> {
  const figures = [await runBackendModel("memory", memoryBackendMaker(), options)];
  if (options.redisUrl !== undefined) figures.push(await runBackendModel("redis", redisBackendMaker(options.redisUrl), options));
  for (const figure of figures) {
    options.log(`ledger ${figure.backend}: ${figure.calls} calls in ${figure.episodes} episodes (${figure.callsPerSecond}/s), ${figure.breaks} broken, expiries ${figure.expiries.reported}/${figure.expiries.expected} reported, ${figure.expiries.events} events`);
  }
  return { ok: figures.every((figure) => figure.breaks === 0), figures };
}
