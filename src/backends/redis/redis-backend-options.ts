import type { BackendHealth, ProgressionBackend } from "../contract/progression-backend.ts";
import type { SubjectLoader } from "../../model/subject-state.ts";
import type { ProgressionLogger } from "../../logging/logger.ts";
import type { ProgressionRedisClient } from "./redis-commands.ts";

/** Options of `createRedisBackend`; every default lives in REDIS_BACKEND_DEFAULTS below. */
export interface RedisBackendOptions {
  /**
   * An ioredis client to use (the backend defines its scripts on it and never closes it).
   * Default: none; a client is created from `url` and closed by `close()`.
   */
  readonly redis?: ProgressionRedisClient;
  /** Redis URL used when no `redis` client is given. Default: `process.env.REDIS_URL`, else `redis://127.0.0.1:6379`. */
  readonly url?: string;
  /**
   * A Redis Cluster to use instead of `url`: some of its nodes, as `"host:port"` or `{ host, port }` (the
   * client discovers the rest). The backend creates an ioredis `Cluster` and closes it in `close()`. To bring
   * your own, pass an ioredis `Cluster` as `redis`. Default: none (a single Redis).
   */
  readonly clusterNodes?: readonly (string | { readonly host: string; readonly port: number })[];
  /**
   * On a Redis Cluster: how many shards the data is laid out in (docs/deployment.md, "Redis Cluster"). A
   * subject's keys and the structures its scripts change (dirty set, hold expiry index, stats, rarity,
   * escrow) share the hash tag of its shard, so every script stays on one slot; the jobs walk every shard.
   * More shards spread hot spots over more masters, fewer make the walks cheaper. Fixed for a prefix once
   * written (a different count is refused at start). 1..1024. Default: 256.
   */
  readonly clusterShards?: number;
  /**
   * On a Redis Cluster, a transfer between subjects of two shards runs in steps (docs/semantics.md,
   * "Transfers across shards"); one whose caller stopped between them (a crash) is finished by the ledger's
   * sweep once it is this old, and the sweep looks for such transfers at most this often. Default: 10,000 ms.
   */
  readonly transferCompletionMs?: number;
  /**
   * Replicas that must have a write before it is acknowledged: every script call that changes state is
   * followed by `WAIT <replicaAcks> <replicaAckTimeoutMs>` on its node. Redis replicates asynchronously, so
   * without it a master that crashes (and is replaced by its replica) loses the writes of its last moments
   * that had not reached the replica, though players were told they succeeded; with it, a call whose
   * replicas did not confirm in time fails with BACKEND_UNAVAILABLE (it may have been written: every call is
   * idempotent, the recorder and a retry with the same key are safe). Costs one replication round trip per
   * call. 0..16. Default: 0 (do not wait; docs/deployment.md says what a failover can lose then).
   */
  readonly replicaAcks?: number;
  /** How long a write waits for `replicaAcks` replicas, in ms. Default: 1000. */
  readonly replicaAckTimeoutMs?: number;
  /** Prefix of every key (`<prefix>:<kind>:{subject}`). Default: `"progression"`. */
  readonly prefix?: string;
  /**
   * Decide hold expiry (createdAt, expiresAt, "is it expired?") on Redis `TIME` inside the script, so
   * app servers with skewed clocks agree. Set false to use the `now` the engine passes (tests with a
   * fake advancing clock). Default: `true`.
   */
  readonly useServerTime?: boolean;
  /** How long idempotency records and settled holds are remembered, in ms. Default: 24 h. */
  readonly idempotencyRetentionMs?: number;
  /** How long an event id is remembered per subject (a replayed event is skipped), in ms. Default: 7 days. */
  readonly eventIdRetentionMs?: number;
  /**
   * Restore hook: the first time a script finds no state for a subject (no restore marker), the
   * backend calls it and installs the snapshot before applying anything. Default: none (no check).
   */
  readonly loader?: SubjectLoader;
  /**
   * Told when the client this backend created loses its connection (once per outage, again after it
   * was ready). Calls fail meanwhile with BACKEND_UNAVAILABLE. Not used for an injected `redis` client:
   * its owner listens to it. Default: one line on `logger` per outage, and one when it recovers.
   */
  readonly onConnectionError?: (error: Error) => void;
  /** Where connection trouble is written (pino-compatible). Default: the console, prefixed. */
  readonly logger?: ProgressionLogger;
  /**
   * How long `ready()` / `connectRedisBackend` wait for Redis to answer at start, and `health()` for a PING.
   * Default: 5000 ms.
   */
  readonly connectTimeoutMs?: number;
  /** What set the URL, named in a start-up failure ("REDIS_URL"). Default: "url". */
  readonly source?: string;
  /**
   * Subjects per apply script call (all their keys in one call); calls are pipelined. More subjects
   * per call cost less Redis CPU per subject but block Redis longer per call. On a Cluster a call holds
   * subjects of one shard only. Default: 64.
   */
  readonly subjectsPerCall?: number;
  /**
   * Most history rollups one player may hold in Redis. Durability moves older days to PostgreSQL; while it
   * cannot (PostgreSQL down), a player at the bound makes applies refuse with BACKEND_UNAVAILABLE, so the
   * recorder keeps its events and retries (its buffer bound is the back-pressure) instead of Redis growing
   * without end. Without durability every rollup stays in Redis: raise it to what your players need.
   * Default: 10,000 (about 1.5 MB of Redis per player at the bound).
   */
  readonly historyMaxRollups?: number;
  /**
   * Run on a Redis without AOF (`INFO persistence` says `aof_enabled:0`). Without this, such a Redis is
   * refused: `connectRedisBackend` fails at start and every call of `createRedisBackend`'s backend fails
   * with VOLATILE_STORE, changing nothing. What a volatile Redis loses when it restarts or crashes: every
   * change since the subject's last PostgreSQL snapshot (with durability: at most `schedule.maxIntervalMs`
   * plus a run, more while PostgreSQL fails; without durability: everything) — counters, awards, claims,
   * balances, holds and idempotency records, though players were told they succeeded. Set it only where
   * that loss is acceptable (tests, a demo, a cache-only deployment). Default: false (AOF required:
   * `appendonly yes`; see docs/durability.md).
   */
  readonly allowVolatileRedis?: boolean;
}

export const REDIS_BACKEND_DEFAULTS = {
  url: "redis://127.0.0.1:6379",
  prefix: "progression",
  useServerTime: true,
  idempotencyRetentionMs: 24 * 60 * 60 * 1000,
  eventIdRetentionMs: 7 * 24 * 60 * 60 * 1000,
  subjectsPerCall: 64,
  clusterShards: 256,
  transferCompletionMs: 10_000,
  replicaAcks: 0,
  replicaAckTimeoutMs: 1_000,
  historyMaxRollups: 10_000,
  connectTimeoutMs: 5_000,
  allowVolatileRedis: false,
} as const;

/** The Redis backend: the backend contract, plus waiting for Redis at start. */
export interface RedisBackend extends ProgressionBackend {
  /**
   * Resolves once Redis answers and keeps its writes (AOF, unless `allowVolatileRedis`); rejects after
   * `timeoutMs` with one line naming the address (BACKEND_UNAVAILABLE), or at once with VOLATILE_STORE.
   */
  ready(timeoutMs?: number): Promise<void>;
  health(): Promise<BackendHealth>;
}
