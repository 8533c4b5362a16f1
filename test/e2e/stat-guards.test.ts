import { Room, defineRoom, defineServer, definePlugins, type Client, type Server } from "@colyseus/core";
import { ColyseusSDK } from "@colyseus/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { guardedMessage } from "../../plugins/guarded-message.ts";
import { createProgressionHost, type ProgressionHost } from "../../plugins/progression-host.ts";
import { ProgressionPlugin } from "../../plugins/progression-plugin.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { Progression } from "../../src/engine/progression.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { createProgressionMetrics, type ProgressionMetrics } from "../../src/metrics/progression-metrics.ts";
import type { RejectionReason } from "../../src/protocol/client-messages.ts";
import type { SuspiciousEvent } from "../../src/runtime/stat-guards.ts";
import { backendFactories, type BackendFixture } from "../support/backend-factories.ts";
import { freePort, newPlayerId, settle, TestClient } from "./support/arena-server.ts";

const MINUTE = 60_000;

/**
 * Stat guards through the real plugin, on every backend: a room records kills, the engine guards them
 * (at most 3 per kill, 10 per player per minute), and the game hears about every refusal: the
 * `progression.suspicious` domain event, the metric, the host's and the room's `onSuspicious`, and
 * the player's clients a `progression:rejected`.
 */
for (const factory of backendFactories) {
  describe(`stat guards through the plugin on ${factory.name}`, () => {
    let fixture: BackendFixture;
    let progression: Progression;
    let host: ProgressionHost;
    let server: Server;
    let sdk: ColyseusSDK;
    let metrics: ProgressionMetrics;
    const clients: TestClient[] = [];
    // The engine's clock, at the start of a minute: the test moves to the next window when it says so.
    let now = Math.floor(Date.now() / MINUTE) * MINUTE;
    const domainEvents: SuspiciousEvent[] = [];
    const hostHeard: SuspiciousEvent[] = [];
    const roomHeard: { event: SuspiciousEvent; roomId: string; sessions: string[] }[] = [];

    beforeAll(async () => {
      fixture = await factory.create();
      metrics = createProgressionMetrics();
      progression = createProgression({
        definitions: [{ code: "slayer", title: "Slayer", description: "Kill 100", icon: "slayer.png", trigger: "kill", rule: { type: "count", threshold: 100 } }],
        backend: fixture.backend,
        clock: () => now,
        instruments: metrics.instruments,
        statGuards: { kill: { maxAmount: 3, maxPerWindow: { amount: 10, windowMs: MINUTE } } },
        onMissingTranslations: () => {},
      });
      progression.events.on("progression.suspicious", "stat-guards-test", (envelope) => {
        domainEvents.push(envelope.payload);
      });
      host = createProgressionHost(progression, { flushIntervalMs: 10, progressIntervalMs: 0, onSuspicious: (event) => hostHeard.push(event) });
      class GuardedRoom extends Room {
        override plugins = definePlugins([
          new ProgressionPlugin(host, {
            onSuspicious: (event, players) => roomHeard.push({ event, roomId: this.roomId, sessions: players.map((client) => client.sessionId) }),
          }),
        ]);

        override messages = {
          kill: guardedMessage("kill", z.strictObject({ amount: z.number().int().positive().optional() }), (client, message) => {
            this.plugins.progression.record(client, "kill", {}, message.amount);
          }),
        };

        override onAuth(_client: Client, options: { playerId?: string }) {
          return { id: options.playerId };
        }
      }
      server = defineServer({ rooms: { guarded: defineRoom(GuardedRoom) }, greet: false, gracefullyShutdown: false });
      host.install(server);
      const port = await freePort();
      await server.listen(port);
      sdk = new ColyseusSDK(`ws://127.0.0.1:${port}`);
    });

    afterAll(async () => {
      await Promise.all(clients.map((client) => client.leave()));
      await server.gracefullyShutdown(false);
      await fixture.cleanup();
    });

    /** A client of `playerId` in a new room of its own (`fresh`) or the first open one. */
    const join = async (playerId: string, fresh = false): Promise<TestClient> => {
      const client = new TestClient(await (fresh ? sdk.create("guarded", { playerId }) : sdk.joinOrCreate("guarded", { playerId })));
      clients.push(client);
      await client.waitFor("progression:snapshot");
      return client;
    };
    const kills = async (playerId: string): Promise<number> => (await progression.progress(playerId))[0]?.current ?? 0;
    const sample = async (series: string): Promise<number | undefined> => {
      const line = (await metrics.text()).split("\n").find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };

    it("a flush past the window limit is not applied: the domain event, the metric, the host's and the room's hooks, and every client of the player told", async () => {
      const cheater = newPlayerId("cheater");
      const honest = newPlayerId("honest");
      const [first, second, bystander] = [await join(cheater), await join(cheater, true), await join(honest)];
      for (let i = 0; i < 3; i += 1) first.send("kill", { amount: 3 });
      second.send("kill", { amount: 1 });
      bystander.send("kill", { amount: 3 });
      await settle(host, first, second, bystander);
      expect([await kills(cheater), await kills(honest)]).toEqual([10, 3]);

      // The 11th kill of the minute, from the player's second room: refused inside the apply.
      second.send("kill", { amount: 1 });
      await settle(host, first, second, bystander);
      expect(await kills(cheater)).toBe(10);
      const refusal = { subject: cheater, trigger: "kill", guard: "maxPerWindow", limit: 10, windowMs: MINUTE, value: 11, at: now };
      await progression.events.drain();
      expect(domainEvents).toEqual([refusal]);
      expect(hostHeard).toEqual([refusal]);
      // Each room hears about its own clients of the player.
      expect(roomHeard.map(({ event, roomId, sessions }) => [event, roomId, sessions]).sort()).toEqual(
        [
          [refusal, first.room.roomId, [first.room.sessionId]],
          [refusal, second.room.roomId, [second.room.sessionId]],
        ].sort(),
      );
      for (const client of [first, second]) {
        const rejected = await client.waitFor<RejectionReason>("progression:rejected");
        expect(rejected).toMatchObject({ type: "kill", code: ErrorCode.GuardExceeded, message: expect.stringContaining("maxPerWindow 10") });
      }
      expect(bystander.messages("progression:rejected")).toEqual([]);
      expect(await sample('progression_suspicious_events_total{trigger="kill",guard="maxPerWindow"}')).toBe(1);

      // The next minute is a new window.
      now += MINUTE;
      second.send("kill", { amount: 2 });
      await settle(host, first, second, bystander);
      expect(await kills(cheater)).toBe(12);
      expect(hostHeard).toHaveLength(1);
    });

    it("an event past maxAmount is refused to the room's handler (the sender gets the rejection), recorded as rejected and suspicious", async () => {
      const player = newPlayerId("bulk");
      const client = await join(player, true);
      const before = hostHeard.length;
      client.send("kill", { amount: 4 });
      const rejected = await client.waitFor<RejectionReason>("progression:rejected");
      expect(rejected).toMatchObject({ type: "kill", code: ErrorCode.GuardExceeded, message: expect.stringContaining("maxAmount 3") });
      await expect(client.request("kill", { amount: 5 })).rejects.toMatchObject({ reason: { type: "kill", code: ErrorCode.GuardExceeded } });
      await settle(host, client);
      expect(await kills(player)).toBe(0);
      const refusals = [4, 5].map((value) => ({ subject: player, trigger: "kill", guard: "maxAmount", limit: 3, value, at: now }));
      expect(hostHeard.slice(before)).toEqual(refusals);
      await progression.events.drain();
      expect(domainEvents.slice(-2)).toEqual(refusals);
      expect(roomHeard.slice(-2).map(({ event, sessions }) => [event, sessions])).toEqual(refusals.map((event) => [event, [client.room.sessionId]]));
      expect(await sample('progression_suspicious_events_total{trigger="kill",guard="maxAmount"}')).toBe(2);
      expect(await sample('progression_events_rejected_total{code="GUARD_EXCEEDED"}')).toBe(2);
      // Up to maxAmount is recorded as usual.
      client.send("kill", { amount: 3 });
      await settle(host, client);
      expect(await kills(player)).toBe(3);
    });
  });
}
