import { Cluster, Redis } from "ioredis";
import { CLUSTER_BULL_PREFIX, SINGLE_REDIS_BULL_PREFIX } from "../../src/durability/jobs/queue-connection.ts";

/**
 * The Redis a load test runs on: one redis-server (its URL) or a Redis Cluster (some of its nodes), and
 * how each party reaches it: the demo server's environment, the store check's backend options, a client.
 */
export type RunRedis =
  | { readonly kind: "single"; readonly url: string }
  | { readonly kind: "cluster"; readonly nodes: readonly { readonly host: string; readonly port: number }[] };

/** The demo server's variables for it (rooms/demo-server.ts); the other one removed. */
export function serverRedisEnv(redis: RunRedis): Record<string, string | undefined> {
  return redis.kind === "single"
    ? { REDIS_URL: redis.url, REDIS_CLUSTER_NODES: undefined }
    : { REDIS_URL: undefined, REDIS_CLUSTER_NODES: redis.nodes.map((node) => `${node.host}:${node.port}`).join(",") };
}

/** `createRedisBackend` options reaching it (the server's default clusterShards on both sides). */
export function backendRedisOptions(redis: RunRedis): { url: string } | { clusterNodes: { host: string; port: number }[] } {
  return redis.kind === "single" ? { url: redis.url } : { clusterNodes: redis.nodes.map((node) => ({ ...node })) };
}

/** A plain client (the caller disconnects it). */
export function redisClient(redis: RunRedis): Redis | Cluster {
  return redis.kind === "single"
    ? new Redis(redis.url, { maxRetriesPerRequest: 1 })
    : new Cluster(redis.nodes.map((node) => ({ ...node })), { redisOptions: { maxRetriesPerRequest: 1 } });
}

/** The BullMQ prefix the demo's durability uses there (its default). */
export function bullPrefixOn(redis: RunRedis): string {
  return redis.kind === "single" ? SINGLE_REDIS_BULL_PREFIX : CLUSTER_BULL_PREFIX;
}

export function describeRedis(redis: RunRedis): string {
  return redis.kind === "single" ? `redis ${redis.url}` : `Redis Cluster ${redis.nodes.map((node) => `${node.host}:${node.port}`).join(",")}`;
}
