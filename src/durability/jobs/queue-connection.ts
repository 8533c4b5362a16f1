import { createHash } from "node:crypto";
import type { RedisOptions } from "bullmq";
import { Cluster, type ClusterOptions } from "ioredis";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";

/**
 * A Redis Cluster for the BullMQ queues: some of its nodes, as `"host:port"` or `{ host, port }` (the
 * client discovers the rest), and ioredis `Cluster` options (TLS, NAT map, passwords in `redisOptions`).
 * Durability creates the `Cluster` clients BullMQ needs from it and closes them.
 */
export interface QueueClusterRedis {
  readonly cluster: readonly (string | { readonly host: string; readonly port: number })[];
  readonly options?: ClusterOptions;
}

/**
 * Where BullMQ queues and workers connect: a `redis://` URL, ioredis-style options, or a Redis Cluster
 * (`{ cluster: nodes, options? }`). Data, not a client: durability opens what BullMQ needs and closes
 * what it opened, and sets `maxRetriesPerRequest: null` (a worker's blocking connection needs it) so a
 * caller cannot get it wrong. A client configured for the backend (bounded retries) would be wrong here.
 */
export type QueueRedis = string | RedisOptions | QueueClusterRedis;

/** The BullMQ key prefix on a single Redis (BullMQ's own default). */
export const SINGLE_REDIS_BULL_PREFIX = "bull";
/**
 * The BullMQ key prefix on a Redis Cluster: a hash tag, so every key of a queue hashes to one slot, as
 * BullMQ's multi-key scripts require (BullMQ docs, "Redis Cluster"). Every durability queue then lives
 * on the master that holds that slot.
 */
export const CLUSTER_BULL_PREFIX = "{bull}";

/** One queue's (and its worker's) BullMQ connection, and the release of what was opened for it. */
export interface QueueConnection {
  /**
   * BullMQ's `connection` option: options (BullMQ opens and closes its own connections from them), or on
   * a Cluster the `Cluster` client opened here, which the `Queue` and `Worker` share and BullMQ duplicates
   * for the worker's blocking connection (the duplicate is BullMQ's to close, this one is not).
   */
  readonly connection: RedisOptions | Cluster;
  /** Closes the Cluster client opened here; call it after the queue and worker using it closed. Nothing otherwise. */
  close(): Promise<void>;
}

export function isClusterRedis(redis: unknown): redis is QueueClusterRedis {
  return typeof redis === "object" && redis !== null && "cluster" in redis;
}

/** Checks `redis` without connecting anywhere: a ProgressionError naming the option and the fix. */
export function requireQueueRedis(redis: unknown, option = "redis"): QueueRedis {
  if (typeof redis === "string" && /^rediss?:\/\//.test(redis)) return redis;
  if (redis instanceof Cluster || isClient(redis)) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `${option} must be connection data, not an ioredis client: pass a redis:// URL, ioredis options, or { cluster: ["host:port", ...], options } (durability opens BullMQ's connections and closes them)`,
      { [option]: "ioredis client" },
    );
  }
  if (isClusterRedis(redis)) {
    clusterNodes(redis.cluster, `${option}.cluster`);
    if (redis.options?.keyPrefix !== undefined || redis.options?.redisOptions?.keyPrefix !== undefined) throw keyPrefixRefused(`${option}.options`);
    return redis;
  }
  if (typeof redis === "object" && redis !== null) {
    if ((redis as RedisOptions).keyPrefix !== undefined) throw keyPrefixRefused(option);
    return redis as RedisOptions;
  }
  throw new ProgressionError(
    ErrorCode.InvalidInput,
    `${option} must be a redis:// URL, ioredis options or { cluster: ["host:port", ...] }, got ${JSON.stringify(redis)}: pass e.g. process.env.REDIS_URL`,
    { [option]: redis },
  );
}

/**
 * The BullMQ key prefix for `redis`: `prefix` when given, else `"bull"` on a single Redis and `"{bull}"` on
 * a Cluster. On a Cluster a prefix without a hash tag is refused (BullMQ's scripts would fail with CROSSSLOT).
 */
export function bullPrefixFor(redis: QueueRedis, prefix: string | undefined, option = "bullPrefix"): string {
  if (prefix === undefined) return isClusterRedis(redis) ? CLUSTER_BULL_PREFIX : SINGLE_REDIS_BULL_PREFIX;
  if (typeof prefix !== "string" || prefix.length === 0 || prefix.length > 100) {
    throw new ProgressionError(ErrorCode.InvalidInput, `${option} must be a 1-100 character string, got ${JSON.stringify(prefix)}`, { [option]: prefix });
  }
  if (isClusterRedis(redis) && !hasHashTag(prefix)) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `${option} ${JSON.stringify(prefix)} has no hash tag: on a Redis Cluster every key of a BullMQ queue must hash to one slot; ` +
        `wrap it in braces (e.g. ${JSON.stringify(`{${prefix.replace(/[{}]/g, "")}}`)}) or leave ${option} out for ${JSON.stringify(CLUSTER_BULL_PREFIX)}`,
      { [option]: prefix },
    );
  }
  return prefix;
}

/**
 * Whether keys starting with `prefix` hash by a tag inside it (Redis Cluster's rule: the text between the
 * first `{` and the first `}` after it, when not empty). Queue names cannot hold braces (requireQueueName).
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf("{");
  if (open < 0) return false;
  const close = prefix.indexOf("}", open + 1);
  return close > open + 1;
}

/** Opens what one queue and its worker connect with (see QueueConnection). */
export function openQueueConnection(redis: QueueRedis | undefined, option = "redis"): QueueConnection {
  const checked = requireQueueRedis(redis, option);
  if (typeof checked === "string") return { connection: { url: checked, maxRetriesPerRequest: null }, close: async () => undefined };
  if (!isClusterRedis(checked)) return { connection: { ...checked, maxRetriesPerRequest: null }, close: async () => undefined };
  const options = checked.options ?? {};
  const cluster = new Cluster(clusterNodes(checked.cluster, `${option}.cluster`), {
    ...options,
    // Blocking commands (a worker's BZPOPMIN, on BullMQ's duplicate of this client) need it; BullMQ refuses otherwise.
    redisOptions: { ...options.redisOptions, maxRetriesPerRequest: null },
  });
  // BullMQ reports errors through the queue's and worker's "error" events while they are open.
  cluster.on("error", () => undefined);
  let closing: Promise<void> | undefined;
  return {
    connection: cluster,
    close: () => {
      closing ??= (async () => {
        if (cluster.status === "end") return;
        // QUIT waits for replies in flight; a node that does not answer must not hold shutdown up.
        await Promise.race([cluster.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, QUIT_TIMEOUT_MS).unref())]);
        cluster.disconnect();
      })();
      return closing;
    },
  };
}

/** Where the queues connect, for messages (no credentials). */
export function queueRedisAddress(redis: QueueRedis): string {
  if (typeof redis === "string") {
    try {
      const url = new URL(redis);
      return `${url.hostname}:${url.port || 6379}`;
    } catch {
      return "(unparsable URL)";
    }
  }
  if (isClusterRedis(redis)) return `the Redis Cluster at ${redis.cluster.map((node) => (typeof node === "string" ? node : `${node.host}:${node.port}`)).join(",")}`;
  return `${redis.host ?? "localhost"}:${redis.port ?? 6379}`;
}

const QUIT_TIMEOUT_MS = 2_000;

function clusterNodes(nodes: unknown, option: string): { host: string; port: number }[] {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new ProgressionError(ErrorCode.InvalidInput, `${option} must list at least one node, as "host:port" or { host, port }, got ${JSON.stringify(nodes)}`, { [option]: nodes });
  }
  return nodes.map((node: unknown) => {
    const parsed = typeof node === "string" ? /^([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(node) : null;
    const host = parsed?.[1] ?? (typeof node === "object" && node !== null ? (node as { host?: unknown }).host : undefined);
    const port = parsed?.[2] !== undefined ? Number(parsed[2]) : typeof node === "object" && node !== null ? (node as { port?: unknown }).port : undefined;
    if (typeof host !== "string" || host.length === 0 || !Number.isInteger(port) || (port as number) < 1 || (port as number) > 65_535) {
      throw new ProgressionError(ErrorCode.InvalidInput, `${option} holds ${JSON.stringify(node)}: give each node as "host:port" or { host, port } with a port from 1 to 65535`, { [option]: nodes });
    }
    return { host: host.replace(/^\[(.*)\]$/, "$1"), port: port as number };
  });
}

function keyPrefixRefused(option: string): ProgressionError {
  return new ProgressionError(
    ErrorCode.InvalidInput,
    `${option} sets an ioredis keyPrefix, which BullMQ does not support: remove it and set bullPrefix (BullMQ's own prefix) instead`,
    { [option]: "keyPrefix" },
  );
}

/** An ioredis (or similar) client rather than options: BullMQ's own test for one. */
function isClient(value: unknown): boolean {
  return typeof value === "object" && value !== null && ["connect", "disconnect", "duplicate"].every((name) => typeof (value as Record<string, unknown>)[name] === "function");
}

/** A BullMQ custom job id from any string: ids may not contain ':' nor be integers, so hash. */
export function jobIdFor(kind: string, key: string): string {
  return `${kind}-${createHash("sha256").update(key).digest("hex").slice(0, 32)}`;
}

/** Queue names become part of Redis keys; keep them to a safe alphabet. */
export function requireQueueName(name: unknown, option: string): string {
  if (typeof name !== "string" || !/^[A-Za-z0-9_.-]{1,100}$/.test(name)) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `${option} ${JSON.stringify(name)} is not a valid queue name: use 1-100 letters, digits, '_', '.', '-'`,
      { [option]: name },
    );
  }
  return name;
}
