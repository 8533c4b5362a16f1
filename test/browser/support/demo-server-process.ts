import { randomBytes } from "node:crypto";
import { freePort } from "../../support/redis-server.ts";
import type { Redis } from "ioredis";
import { isolatedRedis, testRedisUrl } from "../../support/redis-prefix.ts";
import { runScript, type SpawnedScript } from "../../e2e/support/spawned-process.ts";

export type DemoMode = "embedded" | "redis";

/** The demo server (`npm start`) as a child process: what a person opens in a browser. */
export interface DemoServer {
  readonly url: string;
  readonly adminToken: string;
  readonly script: SpawnedScript;
  /** GET/POST an admin JSON route with the token, e.g. `admin("/catalog")`. */
  admin<T>(path: string, body?: unknown): Promise<T>;
}

export interface DemoServers {
  /** Starts one more demo server process (Redis mode: on the same Redis prefix, so they push to each other's players). */
  start(): Promise<DemoServer>;
  /** Stops the processes it started and, in Redis mode, deletes the keys under its prefix. */
  close(): Promise<void>;
}

/** How long a shop purchase holds the gold in these tests: long enough to click, short enough to wait for. */
export const testHoldTtlMs = 4_000;

export async function demoServers(mode: DemoMode): Promise<DemoServers> {
  const adminToken = randomBytes(16).toString("hex");
  const redis = mode === "redis" ? await isolatedRedis("browser") : undefined;
  const started: SpawnedScript[] = [];
  return {
    async start() {
      const port = await freePort();
      const script = runScript("rooms/demo-server.ts", {
        PORT: String(port),
        ADMIN_TOKEN: adminToken,
        HOLD_TTL_MS: String(testHoldTtlMs),
        ...(redis === undefined ? {} : { REDIS_URL: testRedisUrl(), REDIS_PREFIX: redis.prefix }),
      });
      started.push(script);
      await script.waitForOutput("arena room ready", 30_000);
      if (!script.output().includes(mode === "redis" ? "REDIS MODE" : "EMBEDDED MODE")) throw new Error(`the demo server did not start in ${mode} mode:\n${script.output()}`);
      const url = `http://127.0.0.1:${port}`;
      return {
        url,
        adminToken,
        script,
        async admin<T>(path: string, body?: unknown): Promise<T> {
          const response = await fetch(`${url}/progression/admin${path}`, {
            method: body === undefined ? "GET" : "POST",
            headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          if (!response.ok) throw new Error(`admin ${path} answered ${response.status}: ${await response.text()}`);
          return (await response.json()) as T;
        },
      };
    },
    async close() {
      for (const script of started.splice(0)) {
        script.kill();
        await script.exited;
      }
      if (redis !== undefined) {
        // BullMQ's queues: bull:<queuePrefix>-events and the like (the demo server's queuePrefix is the key prefix made queue-safe).
        await deleteMatching(redis.client, `bull:${redis.prefix.replace(/[^A-Za-z0-9_-]/g, "-")}-*`);
        await redis.cleanup();
      }
    },
  };
}

/** SCAN + UNLINK of one pattern (never FLUSHALL: the Redis is the whole test run's). */
async function deleteMatching(client: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== "0");
}
