import { ColyseusSDK } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { RedisBackendOptions } from "../../src/backends/redis/redis-backend-options.ts";
import { startRedisServer } from "../support/redis-server.ts";
import { startRedisCluster } from "../support/redis-cluster.ts";
import { freePort, newPlayerId, TestClient } from "./support/arena-server.ts";
import { runScript, type SpawnedScript } from "./support/spawned-process.ts";

/** Where the demo processes keep everything: its env for them, the backend options that read it, and its stop. */
interface SharedStore {
  readonly env: Record<string, string>;
  readonly backend: Pick<RedisBackendOptions, "url" | "clusterNodes">;
  stop(): Promise<void>;
}

/**
 * Two demo processes with PUBLIC_ADDRESS on one store: shared matchmaking (RedisDriver) besides the
 * presence. The driver keeps its room list under a global key, so each run has a Redis of its own: a
 * redis-server, then a 3-master Redis Cluster (backend, BullMQ, presence and driver all on it).
 */
const stores: Record<string, () => Promise<SharedStore>> = {
  "one Redis": async () => {
    const redis = await startRedisServer({ useEnv: false });
    return { env: { REDIS_URL: redis.url }, backend: { url: redis.url }, stop: () => redis.stop() };
  },
  "a Redis Cluster": async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    const nodes = cluster.nodes.map((node) => `${node.host}:${node.port}`);
    return { env: { REDIS_CLUSTER_NODES: nodes.join(",") }, backend: { clusterNodes: nodes }, stop: () => cluster.stop() };
  },
};

const tracked = (client: TestClient): TestClient => {
  client.room.reconnection.enabled = false;
  return client;
};

for (const [label, startStore] of Object.entries(stores)) {
  describe(`demo processes sharing matchmaking (PUBLIC_ADDRESS) on ${label}`, () => {
    let store: SharedStore;
    const prefix = `shared-${Date.now().toString(36)}`;
    const processes: { script: SpawnedScript; port: number; sdk: ColyseusSDK }[] = [];

    beforeAll(async () => {
      store = await startStore();
      for (let i = 0; i < 2; i += 1) {
        const port = await freePort();
        const script = runScript("rooms/demo-server.ts", { PORT: String(port), ...store.env, REDIS_PREFIX: prefix, PUBLIC_ADDRESS: `127.0.0.1:${port}` });
        processes.push({ script, port, sdk: new ColyseusSDK(`ws://127.0.0.1:${port}`) });
      }
      await Promise.all(processes.map(({ script }) => script.waitForOutput("arena room ready")));
    }, 60_000);

    afterAll(async () => {
      for (const { script } of processes) script.kill();
      await Promise.all(processes.map(({ script }) => script.exited));
      await store?.stop();
    });

    it("a join through one process lands in a room of the other, and the client talks to that process", async () => {
      const [a, b] = processes as [(typeof processes)[0], (typeof processes)[0]];
      const host = tracked(new TestClient(await b.sdk.create("arena", { playerId: newPlayerId("owner") })));
      await host.waitFor("progression:snapshot");
      const guest = tracked(new TestClient(await a.sdk.joinById(host.room.roomId, { playerId: newPlayerId("guest") })));
      await guest.waitFor("progression:snapshot");
      expect(guest.room.roomId).toBe(host.room.roomId);
      // Its WebSocket went to b, the room's process, not to a.
      expect(String((guest.room.connection as unknown as { transport?: { ws?: { url?: string } } }).transport?.ws?.url ?? "")).toContain(`:${b.port}/`);
      await Promise.all([host.leave(), guest.leave()]);
    });

    it("a player recording in two rooms on two processes at once: counts exact, each unlock once to every client", async () => {
      const [a, b] = processes as [(typeof processes)[0], (typeof processes)[0]];
      const playerId = newPlayerId("both");
      const onA = tracked(new TestClient(await a.sdk.create("arena", { playerId })));
      const onB = tracked(new TestClient(await b.sdk.create("arena", { playerId })));
      await Promise.all([onA.waitFor("progression:snapshot"), onB.waitFor("progression:snapshot")]);
      expect(onA.room.roomId).not.toBe(onB.room.roomId);
      // 60 kills from each side, interleaved: slayer_100 is crossed by whichever lands 100th.
      for (let i = 0; i < 60; i += 1) {
        onA.send("kill", { creature: "goblin" });
        onB.send("kill", { creature: "goblin" });
        if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      for (const client of [onA, onB]) await client.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "slayer_100", 10_000);
      const reader = createArenaProgression({ backend: createRedisBackend({ ...store.backend, prefix }), onMissingTranslations: () => undefined });
      try {
        const deadline = Date.now() + 10_000;
        let kills = 0;
        while (Date.now() < deadline && (kills = (await reader.progress(playerId)).find((m) => m.code === "slayer_1000")?.current ?? 0) < 120) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(kills).toBe(120);
      } finally {
        await reader.close();
      }
      await Promise.all([onA.roundTrip(), onB.roundTrip()]);
      for (const client of [onA, onB]) {
        const codes = client.messages<UnlockedMessage>("progression:unlocked").map((u) => u.code).filter((code) => ["first_blood", "slayer_10", "slayer_100"].includes(code));
        expect(codes.sort()).toEqual(["first_blood", "slayer_10", "slayer_100"]);
      }
      await Promise.all([onA.leave(), onB.leave()]);
    }, 30_000);
  });
}
