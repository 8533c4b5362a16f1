import { createHash } from "node:crypto";
import type { RedisOptions } from "bullmq";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";

/**
 * Where BullMQ queues and workers connect: a `redis://` URL or ioredis-style options. BullMQ opens its
 * own connections from these (a worker's blocking connection needs `maxRetriesPerRequest: null`, which
 * is set here so a caller cannot get it wrong).
 */
export type QueueRedis = string | RedisOptions;

export function queueConnection(redis: QueueRedis | undefined, option = "redis"): RedisOptions {
  if (typeof redis === "string" && /^rediss?:\/\//.test(redis)) return { url: redis, maxRetriesPerRequest: null };
  if (typeof redis === "object" && redis !== null) return { ...redis, maxRetriesPerRequest: null };
  throw new ProgressionError(
    ErrorCode.InvalidInput,
    `${option} must be a redis:// URL or ioredis options, got ${JSON.stringify(redis)}: pass e.g. process.env.REDIS_URL`,
    { [option]: redis },
  );
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
