import { beforeAll, describe, expect, it } from "vitest";
import type { RejectionReason, UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { newPlayerId, settle, describeArena, type ArenaServer } from "./support/arena-server.ts";

let arena: ArenaServer;

function subjectOfPlayer(player: { messages<T>(type: string): T[] }): string {
  const snapshot = player.messages<{ subject: string }>("progression:snapshot")[0];
  if (snapshot === undefined) throw new Error("no snapshot");
  return snapshot.subject;
}

const hostile: ReadonlyArray<readonly [type: string, payload: unknown, mentions: string]> = [
  ["kill", undefined, "payload"],
  ["kill", null, "payload"],
  ["kill", "skaven_warrior", "payload"],
  ["kill", ["skaven_warrior"], "payload"],
  ["kill", { creature: 7 }, "creature"],
  ["kill", { creature: "unicorn" }, "creature"],
  ["kill", { creature: "__proto__" }, "creature"],
  ["kill", { creature: "x".repeat(3_000) }, "creature"],
  ["kill", JSON.parse('{"creature":"goblin","__proto__":{"admin":true}}'), "payload"],
  ["kill", { creature: "goblin", constructor: { prototype: { polluted: true } } }, "payload"],
  ["kill", { creature: "goblin", tags: { creature: "skaven_warrior" } }, "payload"],
  ["loot", { item: "gold", qty: 1e20 }, "qty"],
  ["loot", { item: "gold", qty: Number.MAX_SAFE_INTEGER + 2 }, "qty"],
  ["loot", { item: "gold", qty: -5 }, "qty"],
  ["loot", { item: "gold", qty: 0 }, "qty"],
  ["loot", { item: "gold", qty: 1.5 }, "qty"],
  ["loot", { item: "gold", qty: "10" }, "qty"],
  ["loot", { item: "gold", qty: Number.NaN }, "qty"],
  ["loot", { item: "gold", qty: Number.POSITIVE_INFINITY }, "qty"],
  ["loot", { item: "excalibur", qty: 1 }, "item"],
  ["loot", { item: "toString", qty: 1 }, "item"],
  ["trade", { to: "y".repeat(3_000), item: "gold", qty: 1 }, "to"],
  ["trade", { to: "someone", item: "gold", qty: 2 ** 60 }, "qty"],
  ["trade", { to: "someone", item: "gold" }, "qty"],
  ["buy", { item: "dragon_egg", qty: 1 }, "item"],
  ["buy", { item: "potion", qty: 1_000_000 }, "qty"],
  ["confirm", { holdId: 12 }, "holdId"],
  ["confirm", { holdId: "h0000000000000000:someone-else" }, "holdId"],
  ["cancel", {}, "holdId"],
  ["progression:claim", { code: "__proto__" }, "__proto__"],
  ["progression:claim", { code: "slayer_10", extra: 1 }, "payload"],
];

describeArena({}, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("invalid and hostile client messages", () => {
    it("are each rejected with a clear reason, change nothing, and the server keeps serving", async () => {
      const playerId = newPlayerId("hostile");
      const player = await arena.join(playerId);
      await player.waitFor("progression:snapshot");

      for (const [type, payload, mentions] of hostile) {
        const before = player.messages("progression:rejected").length;
        player.send(type, payload);
        await player.roundTrip();
        const rejections = player.messages<RejectionReason>("progression:rejected");
        expect(rejections.length, `${type} ${JSON.stringify(payload)?.slice(0, 80)} should be rejected`).toBe(before + 1);
        const reason = rejections.at(-1);
        expect(reason?.type).toBe(type);
        expect(typeof reason?.code).toBe("string");
        expect(reason?.message.length ?? 0).toBeGreaterThan(10);
        expect(reason?.message.length ?? 0).toBeLessThan(1_000); // the reason never echoes a huge payload
        if (mentions !== "payload" || reason?.code === "INVALID_INPUT") {
          expect(reason?.message, `${type}: ${reason?.message}`).toContain(mentions);
        }
      }

      // Nothing changed: no counter moved, no balance exists, no prototype was polluted.
      await settle(arena.host, player);
      expect(await arena.progression.ledger.list(playerId)).toEqual([]);
      const progress = await arena.progression.progress(playerId);
      expect(progress.every((milestone) => milestone.current === 0 && milestone.status === "in_progress")).toBe(true);
      expect(({} as Record<string, unknown>)["admin"]).toBeUndefined();
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
      expect(player.messages("progression:unlocked")).toEqual([]);

      // Still connected, still served.
      expect(player.room.connection.isOpen).toBe(true);
      player.send("kill", { creature: "goblin" });
      const unlock = await player.waitFor<UnlockedMessage>("progression:unlocked");
      expect(unlock.code).toBe("first_blood");
    });

    it("rejects message types the room does not have, and keeps the player", async () => {
      const player = await arena.join(newPlayerId("unknown-type"));
      await player.waitFor("progression:snapshot");
      player.send("fly", { to: "moon" });
      player.send("progression:record", { type: "kill", amount: 1_000_000 });
      await player.roundTrip();
      const rejections = player.messages<RejectionReason>("progression:rejected");
      expect(rejections.map((r) => [r.type, r.code])).toEqual([
        ["fly", "UNKNOWN_MESSAGE"],
        ["progression:record", "UNKNOWN_MESSAGE"],
      ]);
      expect(rejections[0]?.message).toContain("kill");
      expect(player.room.connection.isOpen).toBe(true);
      expect((await arena.progression.progress(subjectOfPlayer(player))).every((m) => m.current === 0)).toBe(true);
    });

    it("requests get the same reasons as ctx.reject rejections", async () => {
      const player = await arena.join(newPlayerId("hostile-request"));
      await player.waitFor("progression:snapshot");
      const reason = await player.request("loot", { item: "gold", qty: -1 }).then(
        () => undefined,
        (error: { reason?: RejectionReason }) => error.reason,
      );
      expect(reason).toMatchObject({ type: "loot", code: "INVALID_INPUT" });
      expect(reason?.message).toContain("qty");
    });

    it("an oversized frame closes only the sender's connection (transport maxPayload 4 KB); others keep playing", async () => {
      const flooder = await arena.joinNewRoom(newPlayerId("flooder"));
      const bystander = await arena.join(newPlayerId("steady"));
      await bystander.waitFor("progression:snapshot");
      const closed = new Promise<number>((resolve) => flooder.room.onLeave((code) => resolve(code)));
      flooder.send("kill", { creature: "x".repeat(100_000) });
      expect(await closed).not.toBe(1000);
      bystander.send("kill", { creature: "goblin" });
      expect((await bystander.waitFor<UnlockedMessage>("progression:unlocked")).code).toBe("first_blood");
    });

    it("refuses to join without a player identity", async () => {
      await expect(arena.sdk.joinOrCreate(arena.roomName, { playerId: "" })).rejects.toThrow(/playerId/);
      await expect(arena.sdk.joinOrCreate(arena.roomName, { playerId: "a b c" })).rejects.toThrow(/playerId/);
    });
  });
});
