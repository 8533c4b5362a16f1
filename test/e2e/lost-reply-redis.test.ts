import { createServer, connect, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { describeArena, newPlayerId, settle, type ArenaServer } from "./support/arena-server.ts";

/**
 * A TCP proxy in front of the test Redis that, when armed for a player, lets the next apply script that
 * names the player through, drops Redis' reply to it and cuts the connection: the batch is applied and
 * its reply is really lost on the wire (the client reconnects and may resend it).
 */
class ReplyCutter {
  armedFor: string | undefined;
  cuts = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(target: URL) {
    this.#server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      let dropNextReply = false;
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("error", () => socket.destroy());
        socket.on("close", () => {
          this.#sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on("data", (chunk: Buffer) => {
        const text = chunk.toString("latin1");
        if (this.armedFor !== undefined && text.includes(this.armedFor) && /evalsha/i.test(text)) {
          this.armedFor = undefined;
          dropNextReply = true;
        }
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => {
        if (!dropNextReply) return void client.write(chunk);
        this.cuts += 1;
        client.destroy();
        upstream.destroy();
      });
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.#server.listen(0, "127.0.0.1", () => resolve((this.#server.address() as { port: number }).port)));
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

const cutter = new ReplyCutter(new URL(testRedisUrl()));
const prefix = randomPrefix("lostreply");
let client: Redis | undefined;
let proxied: ProgressionBackend | undefined;
let arena: ArenaServer;

beforeAll(async () => {
  const port = await cutter.listen();
  client = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
  proxied = createRedisBackend({ redis: client, prefix, useServerTime: false });
});

afterAll(async () => {
  await proxied?.close();
  const cleaner = new Redis(testRedisUrl());
  await deleteKeysWithPrefix(cleaner, prefix);
  cleaner.disconnect();
  client?.disconnect();
  await cutter.close();
});

const throughCutter = {
  wrapBackend: (backend: ProgressionBackend, name: string) => (name === "redis" && proxied !== undefined ? proxied : backend),
  host: { retryBaseMs: 10, retryMaxMs: 40 },
};

describeArena(throughCutter, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("a flush whose reply from Redis is lost on the wire", () => {
    it("counts the kills once and pushes each unlock once (ioredis resends the script: it answers duplicate)", async (context) => {
      if (handle.backendName !== "redis") context.skip(); // the cut is on Redis' wire
      const playerId = newPlayerId("cut");
      const player = await arena.join(playerId);
      await player.waitFor("progression:snapshot");
      await settle(arena.host, player);

      cutter.armedFor = playerId;
      for (let i = 0; i < 10; i += 1) player.send("kill", { creature: "goblin" });
      await player.roundTrip();
      await player.waitFor("progression:unlocked", (unlock: UnlockedMessage) => unlock.code === "slayer_10");
      await settle(arena.host, player);

      expect(cutter.cuts).toBe(1);
      const slayer = (await arena.progression.progress(playerId)).find((m) => m.code === "slayer_1000");
      expect(slayer?.current).toBe(10);
      const announced = player.messages<UnlockedMessage>("progression:unlocked").map((u) => u.code);
      expect(announced.filter((code) => code === "slayer_10")).toHaveLength(1);
      expect(announced.filter((code) => code === "first_blood")).toHaveLength(1);
    });
  });
});
