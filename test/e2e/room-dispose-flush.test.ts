import { matchMaker } from "@colyseus/core";
import { beforeAll, describe, expect, it } from "vitest";
import { newPlayerId, describeArena, type ArenaServer } from "./support/arena-server.ts";

let arena: ArenaServer;

describeArena({ host: { flushIntervalMs: 60_000, flushSize: 1_000_000 } }, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("room dispose", () => {
    it("flushes everything recorded before the room goes away", async () => {
      const playerId = newPlayerId("last-one-out");
      const player = await arena.joinNewRoom(playerId);
      const roomId = player.room.roomId;
      await player.waitFor("progression:snapshot");
      for (let i = 0; i < 7; i += 1) player.send("kill", { creature: "skaven_warrior" });
      await player.roundTrip();

      const skaven = async () => (await arena.progression.progress(playerId)).find((m) => m.code === "skaven_slayer")?.current;
      expect(arena.host.stats.pendingEvents).toBe(7);
      expect(await skaven()).toBe(0);

      await player.leave(); // last client out: the room auto-disposes, and the plugin's onDispose flushes
      const deadline = Date.now() + 3_000;
      while (matchMaker.getLocalRoomById(roomId) !== undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(matchMaker.getLocalRoomById(roomId)).toBeUndefined();
      while ((await skaven()) !== 7 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await skaven()).toBe(7);
      expect(arena.host.stats.pendingEvents).toBe(0);
    });
  });
});
