import { matchMaker } from "@colyseus/core";
import { beforeAll, describe, expect, it } from "vitest";
import { newPlayerId, settle, describeArena, type ArenaServer } from "./support/arena-server.ts";

let arena: ArenaServer;

/** The server-side socket of the room's only client, with its writes counted. */
function countWrites(roomId: string): { writes(): number } {
  const room = matchMaker.getLocalRoomById(roomId);
  const client = room?.clients[0] as unknown as { ref?: { _socket?: { _writev?: unknown; _write?: unknown } } } | undefined;
  const socket = client?.ref?._socket as Record<"_writev" | "_write", (...args: unknown[]) => unknown> | undefined;
  if (socket === undefined) throw new Error("the ws transport's client has no socket to cork: the push fan-out would write one syscall per message");
  let writes = 0;
  for (const name of ["_writev", "_write"] as const) {
    const original = socket[name].bind(socket);
    socket[name] = (...args: unknown[]) => {
      writes += 1;
      return original(...args);
    };
  }
  return { writes: () => writes };
}

// Progress with every flush, so one kill's flush pushes an unlock and progress together.
describeArena({ host: { progressIntervalMs: 0 } }, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("push delivery", () => {
    it("writes a flush's messages for one client in one socket write", async () => {
      const player = await arena.join(newPlayerId("cork"));
      await player.waitFor("progression:snapshot");
      const socket = countWrites(player.room.roomId);
      const before = player.received.length;
      player.send("kill", { creature: "goblin" });
      await settle(arena.host, player);
      const pushed = player.received.slice(before).map((message) => message.type);
      expect(pushed).toEqual(expect.arrayContaining(["progression:unlocked", "progression:progress"]));
      expect(pushed.length).toBeGreaterThanOrEqual(3);
      // The two pings of settle() are a write each; the flush's pushes are one more.
      expect(socket.writes()).toBe(3);
    });
  });
});
