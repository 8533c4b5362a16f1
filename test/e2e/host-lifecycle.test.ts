import { LocalPresence, defineRoom, defineServer } from "@colyseus/core";
import { RedisPresence } from "@colyseus/redis-presence";
import { ColyseusSDK } from "@colyseus/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createProgressionHost } from "../../plugins/progression-host.ts";
import type { HostErrorReport } from "../../plugins/progression-host-options.ts";
import { createArenaProgression } from "../../rooms/arena/arena-progression.ts";
import { createArenaRoom } from "../../rooms/arena/arena-room.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { testRedisUrl } from "../support/redis-prefix.ts";
import { freePort, newPlayerId, TestClient } from "./support/arena-server.ts";

const quiet = { onMissingTranslations: () => {} };

afterEach(() => {
  vi.restoreAllMocks();
});

describe("pushes from ledger changes", () => {
  it("a hold found expired by the owner's next ledger call is pushed once, with the balance it freed", async () => {
    let now = Date.parse("2026-05-01T12:00:00Z");
    const inert = { attach: () => {}, holdPlaced: () => {}, close: async () => {} };
    const progression = createArenaProgression({ ...quiet, clock: () => now, holdExpiry: inert });
    const host = createProgressionHost(progression, { presence: new LocalPresence() });
    const sent: { type: string; payload: unknown }[] = [];
    try {
      await host.attach("shopper", { locale: "en", send: (type, payload) => void sent.push({ type, payload }) });
      await host.ledger.acquire({ subject: "shopper", item: "gold", quantity: 50, idempotencyKey: "loot" });
      const { hold } = await host.ledger.hold({ subject: "shopper", item: "gold", quantity: 40, ttlMs: 1_000, idempotencyKey: "buy" });
      now += 5_000;
      // The next ledger call releases the hold on the way (lazy expiry) and says so in its receipt.
      const receipt = await host.ledger.acquire({ subject: "shopper", item: "gem", quantity: 1, idempotencyKey: "gem" });
      expect(receipt.expiredHolds.map((expired) => expired.holdId)).toEqual([hold.holdId]);
      await progression.events.drain();
      const expiredPushes = sent.filter((message) => message.type === "progression:hold-expired");
      expect(expiredPushes).toEqual([{ type: "progression:hold-expired", payload: { holdId: hold.holdId, item: "gold", quantity: 40, expiresAt: hold.expiresAt } }]);
      const inventory = sent.filter((message) => message.type === "progression:inventory").map((message) => message.payload);
      expect(inventory.at(-1)).toEqual({
        balances: [
          { subject: "shopper", item: "gem", free: 1, held: 0 },
          { subject: "shopper", item: "gold", free: 50, held: 0 },
        ],
      });
    } finally {
      await host.close();
      await progression.close();
    }
  });
});

describe("the host's lifecycle", () => {
  it("refuses a second open host in one process with a clear error, and accepts one after close", async () => {
    const progression = createArenaProgression(quiet);
    const first = createProgressionHost(progression);
    try {
      expect(() => createProgressionHost(progression)).toThrow(
        expect.objectContaining({ code: ErrorCode.Unsupported, message: expect.stringContaining("one host per process") }),
      );
    } finally {
      await first.close();
    }
    const second = createProgressionHost(progression);
    await second.close();
    await progression.close();
  });

  it("install(server) once: refuses a second install", async () => {
    const progression = createArenaProgression(quiet);
    const host = createProgressionHost(progression);
    const server = defineServer({ rooms: {}, greet: false, gracefullyShutdown: false });
    host.install(server);
    expect(() => host.install(server)).toThrow(/already installed/);
    await host.close();
    await progression.close();
  });

  it("on shutdown: rooms flush, the host applies the rest, the game's own callbacks run, then the engine closes; nothing is logged", async () => {
    const warn = vi.spyOn(console, "warn");
    const error = vi.spyOn(console, "error");
    const reports: HostErrorReport[] = [];
    const progression = createArenaProgression(quiet);
    // A cross-process presence: Colyseus shuts it down before onShutdown callbacks run.
    const presence = new RedisPresence(testRedisUrl());
    const host = createProgressionHost(progression, { flushIntervalMs: 60_000, onError: (report) => reports.push(report) });
    const port = await freePort();
    const server = defineServer({ rooms: { arena: defineRoom(createArenaRoom(host)) }, presence, greet: false, gracefullyShutdown: false });
    const order: string[] = [];
    server.onShutdown(() => void order.push("game callback set before install"));
    host.install(server);
    server.onBeforeShutdown(() => void order.push("game before-shutdown"));
    server.onShutdown(async () => {
      order.push(`game callback: host closed=${host.closed}, engine open=${await progression.progress("nobody").then(() => true, () => false)}`);
    });
    await server.listen(port);

    const sdk = new ColyseusSDK(`ws://127.0.0.1:${port}`);
    const playerId = newPlayerId("lifecycle");
    const player = new TestClient(await sdk.joinOrCreate("arena", { playerId }));
    player.room.reconnection.enabled = false;
    await player.waitFor("progression:snapshot");
    player.send("kill", { creature: "goblin" });
    await player.roundTrip();
    // A grant the room never flushed: only the host's own close applies it.
    host.grant(playerId, "gem", 3);
    const announced: string[] = [];
    progression.effects.subscribe((effects) => {
      for (const subject of effects.subjects) {
        announced.push(...subject.reached.map((award) => `reached ${award.code}`), ...subject.inventory.map((b) => `${b.item} ${b.free}`));
      }
    });

    await server.gracefullyShutdown(false);

    expect(order).toEqual(["game before-shutdown", "game callback: host closed=true, engine open=true"]);
    await expect(progression.record({ type: "kill", subject: playerId })).rejects.toMatchObject({ code: ErrorCode.Closed });
    expect(reports).toEqual([]);
    expect([...warn.mock.calls, ...error.mock.calls]).toEqual([]);
    // The kill (flushed when the room was disposed) and the grant (at the host's close) were both applied.
    expect(announced).toEqual(expect.arrayContaining(["reached first_blood", "gem 3"]));
    expect(host.stats).toMatchObject({ pendingEvents: 0, pendingGrants: 0, appliedEvents: 1 });
  });
});
