import { beforeAll, describe, expect, it } from "vitest";
import type { InventoryMessage, ProgressMessage, SnapshotMessage, UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { newPlayerId, settle, describeArena, type ArenaServer } from "./support/arena-server.ts";

let arena: ArenaServer;

describeArena({}, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("live pushes over real WebSockets", () => {
    it("sends a snapshot on join, in the client's locale, with hidden milestones masked", async () => {
      const player = await arena.join(newPlayerId("snap"), { locale: "de" });
      const snapshot = await player.waitFor<SnapshotMessage>("progression:snapshot");
      expect(snapshot.locale).toBe("de");
      const firstBlood = snapshot.milestones.find((milestone) => milestone.code === "first_blood");
      expect(firstBlood).toMatchObject({ title: "Erstes Blut", status: "in_progress", current: 0, target: 1 });
      const hidden = snapshot.milestones.find((milestone) => milestone.code === "rat_whisperer");
      expect(hidden?.masked).toBe(true);
      expect(hidden?.title).not.toBe("Rattenflüsterer");
      expect(snapshot.inventory).toEqual([]);
    });

    it("pushes first_blood exactly once, with its autoClaim reward landing in the inventory", async () => {
      const player = await arena.join(newPlayerId("first"));
      await player.waitFor("progression:snapshot");
      player.send("kill", { creature: "goblin" });
      const unlock = await player.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "first_blood");
      expect(unlock).toMatchObject({ title: "First Blood", icon: "icons/first_blood.svg", retroactive: false, claimed: true });
      expect(unlock.animation).toEqual({ kind: "confetti" });
      expect(typeof unlock.earnedAt).toBe("number");
      const inventory = await player.waitFor<InventoryMessage>("progression:inventory");
      expect(inventory.balances).toEqual([expect.objectContaining({ item: "gold", free: 10, held: 0 })]);

      for (let i = 0; i < 5; i += 1) player.send("kill", { creature: "goblin" });
      await settle(arena.host, player);
      expect(player.messages<UnlockedMessage>("progression:unlocked").filter((u) => u.code === "first_blood")).toHaveLength(1);
    });

    it("kills 100 skaven warriors: skaven_slayer pushed once, tiers once each, progress at most once per milestone per flush", async () => {
      const player = await arena.join(newPlayerId("skaven"));
      await player.waitFor("progression:snapshot");
      for (let i = 0; i < 99; i += 1) player.send("kill", { creature: "skaven_warrior" });
      await settle(arena.host, player);
      expect(player.messages<UnlockedMessage>("progression:unlocked").map((u) => u.code)).not.toContain("skaven_slayer");
      const progress = player.messages<ProgressMessage>("progression:progress").filter((p) => p.code === "skaven_slayer");
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)).toEqual({ code: "skaven_slayer", current: 99, target: 100 });
      const currents = progress.map((p) => p.current);
      expect(currents).toEqual([...currents].sort((a, b) => a - b));
      expect(new Set(currents).size).toBe(currents.length); // one per flush: never the same measure twice

      player.send("kill", { creature: "skaven_warrior" }); // the 100th: crosses the threshold
      const unlock = await player.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "skaven_slayer");
      expect(unlock).toMatchObject({ title: "Skaven Slayer", animation: { kind: "custom", name: "skaven_banner" }, claimed: false });
      for (let i = 0; i < 20; i += 1) player.send("kill", { creature: "skaven_warrior" });
      await settle(arena.host, player);

      const codes = player.messages<UnlockedMessage>("progression:unlocked").map((u) => u.code);
      expect(codes.filter((code) => code === "skaven_slayer")).toHaveLength(1);
      expect(codes.filter((code) => code === "slayer_10")).toHaveLength(1);
      expect(codes.filter((code) => code === "slayer_100")).toHaveLength(1);
      expect(codes.filter((code) => code === "rampage")).toHaveLength(1);
      expect(codes).not.toContain("slayer_1000");
      // No progress push for a milestone after it was reached.
      const afterUnlock = player.received.slice(player.received.findIndex((m) => m.type === "progression:unlocked" && (m.payload as UnlockedMessage).code === "skaven_slayer"));
      expect(afterUnlock.filter((m) => m.type === "progression:progress" && (m.payload as ProgressMessage).code === "skaven_slayer")).toEqual([]);
    });

    it("never pushes progress of a hidden milestone before it is reached, then pushes its unlock", async () => {
      const player = await arena.join(newPlayerId("hidden"));
      await player.waitFor("progression:snapshot");
      for (let i = 0; i < 4; i += 1) {
        player.send("kill", { creature: "giant_rat" });
        await settle(arena.host, player);
      }
      expect(player.messages<ProgressMessage>("progression:progress").map((p) => p.code)).not.toContain("rat_whisperer");
      expect(player.messages<UnlockedMessage>("progression:unlocked").map((u) => u.code)).not.toContain("rat_whisperer");
      player.send("kill", { creature: "giant_rat" });
      const unlock = await player.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "rat_whisperer");
      expect(unlock.title).toBe("Rat Whisperer");
    });

    it("pushes to every client of the subject, in two rooms, each in its own locale", async () => {
      const playerId = newPlayerId("twice");
      const inRoomA = await arena.joinNewRoom(playerId, { locale: "en" });
      const inRoomB = await arena.joinNewRoom(playerId, { locale: "de" });
      expect(inRoomA.room.roomId).not.toBe(inRoomB.room.roomId);
      await inRoomA.waitFor("progression:snapshot");
      await inRoomB.waitFor("progression:snapshot");

      inRoomA.send("kill", { creature: "troll" });
      const inA = await inRoomA.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "first_blood");
      const inB = await inRoomB.waitFor<UnlockedMessage>("progression:unlocked", (u) => u.code === "first_blood");
      expect(inA.title).toBe("First Blood");
      expect(inB.title).toBe("Erstes Blut");
      await settle(arena.host, inRoomA, inRoomB);
      expect(inRoomB.messages<UnlockedMessage>("progression:unlocked")).toHaveLength(1);
      expect(inRoomB.messages<InventoryMessage>("progression:inventory").at(-1)?.balances).toEqual([
        expect.objectContaining({ item: "gold", free: 10 }),
      ]);
    });

    it("pushes nothing to other players", async () => {
      const killer = await arena.joinNewRoom(newPlayerId("killer"));
      const bystander = await arena.join(newPlayerId("bystander"));
      await killer.waitFor("progression:snapshot");
      await bystander.waitFor("progression:snapshot");
      killer.send("kill", { creature: "dragon" });
      await killer.waitFor("progression:unlocked");
      await settle(arena.host, killer, bystander);
      expect(bystander.messages("progression:unlocked")).toEqual([]);
      expect(bystander.messages("progression:progress")).toEqual([]);
    });
  });
});
