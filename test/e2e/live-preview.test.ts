import { beforeAll, describe, expect, it } from "vitest";
import { domainTopics } from "../../src/events/domain-topics.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import type { Effects } from "../../src/model/effects.ts";
import type { PreviewMessage } from "../../src/protocol/client-messages.ts";
import { newPlayerId, settle, describeArena, type ArenaServer, type TestClient } from "./support/arena-server.ts";

let arena: ArenaServer;

async function joined(playerId: string, options: Record<string, unknown> = {}, newRoom = false): Promise<TestClient> {
  const player = newRoom ? await arena.joinNewRoom(playerId, options) : await arena.join(playerId, options);
  await player.waitFor("progression:snapshot");
  return player;
}

/** Everything the engine stores or counts about a player that a preview could change. */
async function stateOf(playerId: string): Promise<unknown> {
  return {
    progress: await arena.progression.progress(playerId),
    inventory: await arena.progression.ledger.list(playerId),
    holds: await arena.progression.ledger.holds(playerId),
    history: await arena.progression.history(playerId),
    stats: await arena.progression.milestoneStats(),
  };
}

describeArena({}, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("host.preview: an unlock shown on a live player's clients, never awarded", () => {
    it("reaches both clients of the player, each in its own locale, marked as a preview; awards, stores and announces nothing", async () => {
      const playerId = newPlayerId("preview");
      const english = await joined(playerId, { locale: "en" });
      const german = await joined(playerId, { locale: "de" }, true);
      const bystander = await joined(newPlayerId("bystander"));
      expect(english.room.roomId).not.toBe(german.room.roomId);
      await settle(arena.host, english, german, bystander);
      const before = await stateOf(playerId);
      const effects: Effects[] = [];
      const stopEffects = arena.progression.effects.subscribe((announced) => effects.push(announced));
      const events: string[] = [];
      const stopEvents = domainTopics.map((topic) => arena.progression.events.on(topic, `preview-test-${topic}`, () => void events.push(topic)));

      const sentAt = Date.now();
      expect(arena.host.preview(playerId, "slayer_10")).toEqual({ clients: 2 });
      const inEnglish = await english.waitFor<PreviewMessage>("progression:preview");
      const inGerman = await german.waitFor<PreviewMessage>("progression:preview");
      expect(inEnglish).toEqual({
        code: "slayer_10",
        title: "Slayer I",
        description: "Defeat 10 creatures.",
        icon: arena.progression.preview("slayer_10").icon,
        animation: arena.progression.preview("slayer_10").animation,
        earnedAt: expect.any(Number),
        retroactive: false,
        rewards: [{ item: "potion", quantity: 2 }],
        claimed: false,
        series: { id: "slayer", order: 1, of: 3, next: { masked: false, code: "slayer_100", title: "Slayer II", target: 100 } },
        // The engine's cached rarity: the players who joined are active, so it is known.
        rarity: { percent: expect.any(Number), holders: expect.any(Number), activePlayers: expect.any(Number), windowDays: 30 },
        preview: true,
      });
      expect(inEnglish.earnedAt).toBeGreaterThanOrEqual(sentAt);
      expect(inGerman).toEqual({
        ...inEnglish,
        title: "Schlächter I",
        description: "Besiege 10 Kreaturen.",
        series: { id: "slayer", order: 1, of: 3, next: { masked: false, code: "slayer_100", title: "Schlächter II", target: 100 } },
      });

      await settle(arena.host, english, german, bystander);
      await arena.progression.events.drain();
      stopEffects();
      for (const stop of stopEvents) stop();
      expect(await stateOf(playerId)).toEqual(before);
      expect(effects).toEqual([]);
      expect(events).toEqual([]);
      for (const client of [english, german]) {
        expect(client.messages("progression:unlocked")).toEqual([]);
        expect(client.messages("progression:preview")).toHaveLength(1);
      }
      expect(bystander.messages("progression:preview")).toEqual([]);
      // Not awarded: the player still cannot claim it.
      const claim = await english.request("progression:claim", { code: "slayer_10" }).then(
        () => "claimed",
        (error: unknown) => {
          const reason = ((error as { data?: unknown }).data ?? (error as { reason?: unknown }).reason) as { code?: string } | undefined;
          return reason?.code ?? String(error);
        },
      );
      expect(claim).toBe("NOT_COMPLETED");
      expect((await arena.progression.progress(playerId)).find((m) => m.code === "slayer_10")?.status).toBe("in_progress");
    });

    it("shows every client the locale asked for, and previews hidden milestones with their real texts", async () => {
      const playerId = newPlayerId("preview-locale");
      const english = await joined(playerId, { locale: "en" });
      expect(arena.host.preview(playerId, "rat_whisperer", "de")).toEqual({ clients: 1 });
      const preview = await english.waitFor<PreviewMessage>("progression:preview");
      expect(preview).toMatchObject({ code: "rat_whisperer", preview: true });
      expect(preview.title).toBe("Rattenflüsterer");
    });

    it("refuses an unknown milestone with UNKNOWN_MILESTONE and sends nothing; a player with no client here is reached nowhere", async () => {
      const playerId = newPlayerId("preview-unknown");
      const player = await joined(playerId);
      let thrown: unknown;
      try {
        arena.host.preview(playerId, "no_such_milestone");
      } catch (error) {
        thrown = error;
      }
      expect(isProgressionError(thrown, "UNKNOWN_MILESTONE")).toBe(true);
      expect((thrown as Error).message).toContain("no_such_milestone");
      expect(arena.host.preview(newPlayerId("offline"), "slayer_10")).toEqual({ clients: 0 });
      await player.roundTrip();
      expect(player.messages("progression:preview")).toEqual([]);
    });
  });

  describe("host.connectedSubjects", () => {
    it("lists each player connected to this process once, with its client count and locales, until they leave", async () => {
      const playerId = newPlayerId("connected");
      const first = await joined(playerId, { locale: "de" });
      const second = await joined(playerId, { locale: "en" }, true);
      expect(arena.host.connectedSubjects().filter((connected) => connected.subject === playerId)).toEqual([
        { subject: playerId, clients: 2, locales: ["de", "en"] },
      ]);
      await second.leave();
      await expect
        .poll(() => arena.host.connectedSubjects().find((connected) => connected.subject === playerId), { timeout: 3_000, interval: 5 })
        .toEqual({ subject: playerId, clients: 1, locales: ["de"] });
      await first.leave();
      await expect
        .poll(() => arena.host.connectedSubjects().some((connected) => connected.subject === playerId), { timeout: 3_000, interval: 5 })
        .toBe(false);
    });
  });
});
