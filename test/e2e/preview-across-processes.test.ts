import { randomBytes } from "node:crypto";
import { ColyseusSDK } from "@colyseus/sdk";
import { RedisPresence } from "@colyseus/redis-presence";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PurchaseHold } from "../../rooms/arena/arena-room.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { InventoryMessage, PreviewMessage } from "../../src/protocol/client-messages.ts";
import { isolatedRedis, testRedisUrl } from "../support/redis-prefix.ts";
import { freePort, newPlayerId, settle, startArena, TestClient, type ArenaServer } from "./support/arena-server.ts";
import { runScript, type SpawnedScript } from "./support/spawned-process.ts";

/**
 * Two server processes on one Redis (store and presence): this test's process, and a spawned one with
 * the admin routes. A player has a client on each.
 */
const token = randomBytes(24).toString("hex");
let redis: Awaited<ReturnType<typeof isolatedRedis>>;
let presence: RedisPresence;
let here: ArenaServer;
let other: SpawnedScript;
let otherPort: number;

beforeAll(async () => {
  redis = await isolatedRedis("xproc");
  presence = new RedisPresence(testRedisUrl());
  otherPort = await freePort();
  other = runScript("test/e2e/support/arena-process.ts", { PORT: String(otherPort), REDIS_URL: testRedisUrl(), REDIS_PREFIX: redis.prefix, ADMIN_TOKEN: token });
  here = await startArena("redis", {
    host: { presence },
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
  await here.close();
  presence.shutdown();
  await redis.cleanup();
});

async function joinedOther(playerId: string, locale: string): Promise<TestClient> {
  const client = new TestClient(await new ColyseusSDK(`ws://127.0.0.1:${otherPort}`).joinOrCreate("arena", { playerId, locale }));
  client.room.reconnection.enabled = false;
  await client.waitFor("progression:snapshot");
  return client;
}

async function joinedHere(playerId: string, locale: string): Promise<TestClient> {
  const client = await here.join(playerId, { locale });
  await client.waitFor("progression:snapshot");
  return client;
}

describe("previews and holds across two processes sharing a RedisPresence", () => {
  it("host.preview reaches the player's client on the other process in its own locale; the other's preview-live reaches this one", async () => {
    const playerId = newPlayerId("xproc-preview");
    const english = await joinedHere(playerId, "en");
    const german = await joinedOther(playerId, "de");
    const progressBefore = await here.progression.progress(playerId);
    const statsBefore = await here.progression.milestoneStats();

    expect(here.host.preview(playerId, "slayer_10")).toEqual({ clients: 1 }); // the clients of this process
    const local = await english.waitFor<PreviewMessage>("progression:preview");
    const remote = await german.waitFor<PreviewMessage>("progression:preview");
    expect(local).toMatchObject({ code: "slayer_10", title: "Slayer I", preview: true });
    // The series line names the next tier in the client's locale too.
    const germanSeries = { id: "slayer", order: 1, of: 3, next: { masked: false, code: "slayer_100", title: "Schlächter II", target: 100 } };
    expect(remote).toEqual({ ...local, title: "Schlächter I", description: "Besiege 10 Kreaturen.", series: germanSeries });

    // The other process lists only its own client, and its admin route reaches this process's client too.
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const players = (await (await fetch(`http://127.0.0.1:${otherPort}/progression/admin/players`, { headers })).json()) as { players: unknown[] };
    expect(players.players).toContainEqual({ subject: playerId, clients: 1, locales: ["de"] });
    const answer = await fetch(`http://127.0.0.1:${otherPort}/progression/admin/preview-live`, {
      method: "POST",
      headers,
      body: JSON.stringify({ subject: playerId, code: "skaven_slayer" }),
    });
    expect(await answer.json()).toEqual({ subject: playerId, code: "skaven_slayer", clients: 1 });
    await english.waitFor<PreviewMessage>("progression:preview", (preview) => preview.code === "skaven_slayer" && preview.title === "Skaven Slayer");
    await german.waitFor<PreviewMessage>("progression:preview", (preview) => preview.code === "skaven_slayer" && preview.title === "Skavenjäger");

    await settle(here.host, english);
    await german.roundTrip();
    expect(english.messages("progression:preview")).toHaveLength(2); // once each, not again through its own published copy
    expect(german.messages("progression:preview")).toHaveLength(2);
    expect(await here.progression.progress(playerId)).toEqual(progressBefore);
    expect(await here.progression.milestoneStats()).toEqual(statsBefore);
    expect([...english.messages("progression:unlocked"), ...german.messages("progression:unlocked")]).toEqual([]);
  });

  it("a hold opened and settled on one process reaches the player's client on the other with its inventory push", async () => {
    const playerId = newPlayerId("xproc-hold");
    const watcher = await joinedHere(playerId, "en");
    const buyer = await joinedOther(playerId, "en");
    await buyer.request("loot", { item: "gold", qty: 50 });
    const purchase = await buyer.request<PurchaseHold>("buy", { item: "potion", qty: 1 });
    await buyer.request("cancel", { holdId: purchase.holdId });

    const view = { holdId: purchase.holdId, item: "gold", quantity: purchase.price, expiresAt: purchase.expiresAt };
    await expect
      .poll(() => watcher.messages<InventoryMessage>("progression:inventory").flatMap((message) => message.holds ?? []), { timeout: 5_000, interval: 5 })
      .toEqual([
        { ...view, state: "held" },
        { ...view, state: "released" },
      ]);
  });
});
