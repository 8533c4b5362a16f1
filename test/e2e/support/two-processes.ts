import { randomBytes } from "node:crypto";
import { ColyseusSDK } from "@colyseus/sdk";
import { RedisPresence } from "@colyseus/redis-presence";
import { afterAll, beforeAll } from "vitest";
import { createRedisBackend } from "../../../src/backends/redis/create-redis-backend.ts";
import type { ProgressionHostOptions } from "../../../plugins/progression-host-options.ts";
import { isolatedRedis, testRedisUrl } from "../../support/redis-prefix.ts";
import { freePort, startArena, TestClient, type ArenaServer } from "./arena-server.ts";
import { runScript, type SpawnedScript } from "./spawned-process.ts";

/**
 * Two server processes on one Redis (store and presence): this test's process ("here", with `host`
 * options) and a spawned one (`arena-process.ts`, with the admin routes under `token`). Started before the
 * file's tests, stopped after them.
 */
export interface TwoProcesses {
  readonly here: ArenaServer;
  /** The other process's port (its WebSocket and admin routes). */
  readonly otherPort: number;
  /** The other process's admin token. */
  readonly token: string;
  /** A client of `playerId` on the other process, once its snapshot arrived. */
  joinedOther(playerId: string, locale?: string): Promise<TestClient>;
  /** A client of `playerId` on this process, once its snapshot arrived. */
  joinedHere(playerId: string, locale?: string): Promise<TestClient>;
}

export function useTwoProcesses(label: string, host: Omit<ProgressionHostOptions, "presence"> = {}): TwoProcesses {
  const token = randomBytes(24).toString("hex");
  let redis: Awaited<ReturnType<typeof isolatedRedis>>;
  let presence: RedisPresence;
  let here: ArenaServer | undefined;
  let other: SpawnedScript;
  let otherPort = 0;

  beforeAll(async () => {
    redis = await isolatedRedis(label);
    presence = new RedisPresence(testRedisUrl());
    otherPort = await freePort();
    other = runScript("test/e2e/support/arena-process.ts", { PORT: String(otherPort), REDIS_URL: testRedisUrl(), REDIS_PREFIX: redis.prefix, ADMIN_TOKEN: token });
    here = await startArena("redis", {
      host: { ...host, presence },
      // The same store as the other process (its own prefixed fixture is not used).
      wrapBackend: () => createRedisBackend({ url: testRedisUrl(), prefix: redis.prefix }),
    });
    await other.waitForOutput("arena process ready");
  });

  afterAll(async () => {
    if (other.process.exitCode === null) {
      other.process.kill("SIGTERM");
      await other.exited;
    }
    await here?.close();
    presence.shutdown();
    await redis.cleanup();
  });

  const started = (): ArenaServer => {
    if (here === undefined) throw new Error("the two processes start in beforeAll");
    return here;
  };
  return {
    get here() {
      return started();
    },
    get otherPort() {
      return otherPort;
    },
    token,
    async joinedOther(playerId, locale = "en") {
      const client = new TestClient(await new ColyseusSDK(`ws://127.0.0.1:${otherPort}`).joinOrCreate("arena", { playerId, locale }));
      client.room.reconnection.enabled = false;
      await client.waitFor("progression:snapshot");
      return client;
    },
    async joinedHere(playerId, locale = "en") {
      const client = await started().join(playerId, { locale });
      await client.waitFor("progression:snapshot");
      return client;
    },
  };
}
