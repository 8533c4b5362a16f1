import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { InventoryMessage, SnapshotMessage, UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { arenaDefinitionsPath } from "../../rooms/arena/arena-progression.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { newPlayerId, settle, describeArena, TestClient, type ArenaServer } from "./support/arena-server.ts";

const DAY = 86_400_000;
/** The engine's clock; tests move it forward to cross days and gaps. */
let now = Date.parse("2026-03-02T10:00:00Z");

let arena: ArenaServer;

describeArena({ progression: { clock: () => now } }, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("joining, leaving and coming back", () => {
    it("awards the return-after-gap rule on join after a week away (autoClaim reward in the snapshot)", async () => {
      const playerId = newPlayerId("returner");
      const first = await arena.join(playerId);
      await first.waitFor("progression:snapshot");
      await first.leave();

      now += 8 * DAY;
      const back = await arena.join(playerId);
      const unlock = await back.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "welcome_back");
      expect(unlock).toMatchObject({ title: "Welcome Back", claimed: true });
      const snapshot = await back.waitFor<SnapshotMessage>("progression:snapshot");
      expect(snapshot.milestones.find((m) => m.code === "welcome_back")?.status).toBe("claimed");
      expect(snapshot.inventory).toEqual([expect.objectContaining({ item: "potion", free: 3 })]);
      await back.leave();

      // A second join a day later is no return after a gap.
      now += DAY;
      const again = await arena.join(playerId);
      await again.waitFor("progression:snapshot");
      await settle(arena.host, again);
      expect(again.messages("progression:unlocked")).toEqual([]);
      await again.leave();
    });

    it("counts distinct days for the daily rule", async () => {
      const player = await arena.join(newPlayerId("daily"));
      await player.waitFor("progression:snapshot");
      for (let day = 0; day < 3; day += 1) {
        player.send("kill", { creature: "goblin" });
        await settle(arena.host, player);
        now += DAY;
      }
      const codes = player.messages<UnlockedMessage>("progression:unlocked").map((u) => u.code);
      expect(codes.filter((code) => code === "daily_hunter")).toHaveLength(1);
      await player.leave();
    });

    it("awards a milestone added later retroactively on the next join, once", async () => {
      const playerId = newPlayerId("veteran");
      const player = await arena.join(playerId);
      await player.waitFor("progression:snapshot");
      for (let i = 0; i < 3; i += 1) player.send("kill", { creature: "goblin" });
      await settle(arena.host, player);
      await player.leave();

      const definitions = JSON.parse(readFileSync(arenaDefinitionsPath, "utf8")) as MilestoneDefinitionInput[];
      arena.progression.reload({
        definitions: [
          ...definitions,
          {
            code: "goblin_bane",
            title: "milestone.goblin_bane.title",
            description: "milestone.goblin_bane.description",
            icon: "icons/goblin_bane.png",
            trigger: "kill",
            // Shares the existing kill counter, so the kills made before it existed count.
            rule: { type: "count", threshold: 3 },
          },
        ],
      });

      const back = await arena.join(playerId);
      const unlock = await back.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "goblin_bane");
      expect(unlock.retroactive).toBe(true);
      const snapshot = await back.waitFor<SnapshotMessage>("progression:snapshot");
      expect(snapshot.milestones.find((m) => m.code === "goblin_bane")).toMatchObject({ status: "completed", retroactive: true });
      await back.leave();

      const onceMore = await arena.join(playerId);
      await onceMore.waitFor("progression:snapshot");
      await settle(arena.host, onceMore);
      expect(onceMore.messages("progression:unlocked")).toEqual([]);
      await onceMore.leave();
    });

    it("backfills a milestone with a filter no counter had from the event history on the next join, once", async () => {
      const playerId = newPlayerId("historian");
      const player = await arena.join(playerId);
      await player.waitFor("progression:snapshot");
      for (let i = 0; i < 4; i += 1) player.send("kill", { creature: "goblin" });
      player.send("kill", { creature: "giant_rat" });
      await settle(arena.host, player);
      await player.leave();

      // A deploy adds "kill 4 goblins": no counter ever filtered on goblins, so only the history knows.
      const definitions = JSON.parse(readFileSync(arenaDefinitionsPath, "utf8")) as MilestoneDefinitionInput[];
      arena.progression.reload({
        definitions: [
          ...definitions,
          {
            code: "goblin_hunter",
            title: "milestone.goblin_hunter.title",
            description: "milestone.goblin_hunter.description",
            icon: "icons/goblin_hunter.png",
            trigger: "kill",
            rule: { type: "count", threshold: 4, where: { creature: "goblin" } },
          },
        ],
      });
      const back = await arena.join(playerId);
      const unlock = await back.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "goblin_hunter");
      expect(unlock.retroactive).toBe(true);
      const snapshot = await back.waitFor<SnapshotMessage>("progression:snapshot");
      expect(snapshot.milestones.find((m) => m.code === "goblin_hunter")).toMatchObject({ status: "completed", retroactive: true });
      await settle(arena.host, back);
      expect(back.messages<UnlockedMessage>("progression:unlocked").filter((u) => u.code === "goblin_hunter")).toHaveLength(1);
      await back.leave();

      const onceMore = await arena.join(playerId);
      await onceMore.waitFor("progression:snapshot");
      await settle(arena.host, onceMore);
      expect(onceMore.messages("progression:unlocked")).toEqual([]);
      await onceMore.leave();
    });

    it("reconnects to the same session: fresh snapshot, and pushes resume", async () => {
      const playerId = newPlayerId("flaky");
      const player = await arena.joinNewRoom(playerId);
      await player.waitFor("progression:snapshot");
      player.room.reconnection.enabled = false;
      const token = player.room.reconnectionToken;
      const sessionId = player.room.sessionId;
      await player.room.leave(false); // drop without consent: the room keeps the seat

      // Progress made elsewhere while this client is away.
      const elsewhere = await arena.joinNewRoom(playerId);
      await elsewhere.waitFor("progression:snapshot");
      for (let i = 0; i < 10; i += 1) elsewhere.send("kill", { creature: "troll" });
      await settle(arena.host, elsewhere);

      const back = new TestClient(await arena.sdk.reconnect(token));
      expect(back.room.sessionId).toBe(sessionId);
      const snapshot = await back.waitFor<SnapshotMessage>("progression:snapshot");
      expect(snapshot.milestones.find((m) => m.code === "slayer_10")?.status).toBe("completed");
      expect(snapshot.inventory).toEqual([expect.objectContaining({ item: "gold", free: 10 })]);

      elsewhere.send("loot", { item: "gem", qty: 2 });
      const inventory = await back.waitFor<InventoryMessage>("progression:inventory", (m) => m.balances.some((b) => b.item === "gem"));
      expect(inventory.balances.find((b) => b.item === "gem")?.free).toBe(2);
      await back.leave();
      await elsewhere.leave();
    });
  });
});
