import { ColyseusSDK } from "@colyseus/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { isolatedRedis, testRedisUrl } from "../support/redis-prefix.ts";
import { freePort, newPlayerId, TestClient } from "./support/arena-server.ts";
import { runScript, type SpawnedScript } from "./support/spawned-process.ts";

/** Two demo server processes in Redis mode on one Redis prefix: what a scaled-out deployment looks like. */
let redis: Awaited<ReturnType<typeof isolatedRedis>>;
const started: SpawnedScript[] = [];

beforeAll(async () => {
  redis = await isolatedRedis("demo");
});

afterEach(() => {
  for (const script of started.splice(0)) script.kill();
});

afterAll(async () => {
  await redis.cleanup();
});

async function startRedisDemo(): Promise<{ script: SpawnedScript; sdk: ColyseusSDK }> {
  const port = await freePort();
  const script = runScript("rooms/demo-server.ts", { PORT: String(port), REDIS_URL: testRedisUrl(), REDIS_PREFIX: redis.prefix });
  started.push(script);
  await script.waitForOutput("arena room ready");
  expect(script.output()).toContain("REDIS MODE");
  return { script, sdk: new ColyseusSDK(`ws://127.0.0.1:${port}`) };
}

async function joinedOn(sdk: ColyseusSDK, playerId: string): Promise<TestClient> {
  const client = new TestClient(await sdk.joinOrCreate("arena", { playerId }));
  client.room.reconnection.enabled = false;
  await client.waitFor("progression:snapshot");
  return client;
}

describe("the demo server in Redis mode, two processes", () => {
  it("pushes an unlock to the player's clients in both processes, once each; SIGTERM mid-stream leaves Redis with every recorded event", async () => {
    const [first, second] = await Promise.all([startRedisDemo(), startRedisDemo()]);
    const playerId = newPlayerId("scaled");
    const onFirst = await joinedOn(first.sdk, playerId);
    const onSecond = await joinedOn(second.sdk, playerId);

    onFirst.send("kill", { creature: "goblin" });
    await onFirst.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "first_blood");
    await onSecond.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "first_blood");

    // A stream of kills on the first process, and SIGTERM while it still flows.
    let sent = 0;
    const stream = (async () => {
      while (sent < 2_000 && onFirst.room.connection.isOpen) {
        for (let i = 0; i < 50; i += 1) onFirst.send("kill", { creature: "skaven_warrior" });
        sent += 50;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await onSecond.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "skaven_slayer", 10_000);
    first.script.process.kill("SIGTERM");
    expect(await first.script.exited).toBe(0);
    await stream;

    // A clean shutdown logs no error (presence stays open until the host has published and left its topic).
    const shutdownOutput = first.script.output().slice(first.script.output().indexOf("arena room ready"));
    expect(shutdownOutput).not.toMatch(/Connection is closed|failed|error/i);
    const summary = /\[demo\] shutdown: applied=(\d+) pending=(\d+)/.exec(first.script.output());
    expect(summary, first.script.output()).not.toBeNull();
    expect(Number(summary?.[2])).toBe(0);
    const applied = Number(summary?.[1]);

    // What Redis holds is exactly what the process said it applied: nothing recorded was lost.
    const reader = createArenaProgression({
      backend: createRedisBackend({ url: testRedisUrl(), prefix: redis.prefix }),
      onMissingTranslations: () => {},
    });
    try {
      const progress = await reader.progress(playerId);
      expect(progress.find((m) => m.code === "slayer_1000")?.current).toBe(applied);
      expect(progress.find((m) => m.code === "skaven_slayer")?.status).toBe("completed");
    } finally {
      await reader.close();
    }
    expect(onSecond.messages<UnlockedMessage>("progression:unlocked").filter((u) => u.code === "skaven_slayer")).toHaveLength(1);
    expect(onSecond.messages<UnlockedMessage>("progression:unlocked").filter((u) => u.code === "first_blood")).toHaveLength(1);

    await onSecond.leave();
    second.script.process.kill("SIGTERM");
    expect(await second.script.exited).toBe(0);
  });
});
