import { beforeAll, describe, expect, it } from "vitest";
import type { HoldView, InventoryMessage, RejectionReason, SnapshotMessage } from "../../src/protocol/client-messages.ts";
import type { PurchaseHold } from "../../rooms/arena/arena-room.ts";
import { newPlayerId, settle, describeArena, type ArenaServer, type TestClient } from "./support/arena-server.ts";

let arena: ArenaServer;

async function joined(playerId: string, options: Record<string, unknown> = {}): Promise<TestClient> {
  const player = await arena.join(playerId, options);
  await player.waitFor("progression:snapshot");
  return player;
}

/** Soonest expiry first (ties by id), the order to compare hold lists in. */
function byExpiry(a: { expiresAt: number; holdId: string }, b: { expiresAt: number; holdId: string }): number {
  return a.expiresAt - b.expiresAt || (a.holdId < b.holdId ? -1 : 1);
}

/** The inventory pushes that carried `holdId`, in the order they arrived. */
function holdPushes(player: TestClient, holdId: string): HoldView[] {
  return player
    .messages<InventoryMessage>("progression:inventory")
    .flatMap((message) => message.holds ?? [])
    .filter((hold) => hold.holdId === holdId);
}

describeArena({ arena: { holdTtlMs: 60_000 } }, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("open holds in the snapshot and in inventory pushes", () => {
    it("buy pushes the opened hold, confirm and cancel push it settled; balances-only changes carry no holds", async () => {
      const playerId = newPlayerId("holds");
      const buyer = await joined(playerId);
      expect(buyer.messages<SnapshotMessage>("progression:snapshot")[0]?.holds).toEqual([]);
      await buyer.request("loot", { item: "gold", qty: 100 });
      const loot = await buyer.waitFor<InventoryMessage>("progression:inventory");
      expect(loot).not.toHaveProperty("holds");

      const confirmed = await buyer.request<PurchaseHold>("buy", { item: "potion", qty: 2 });
      const opened: HoldView = { holdId: confirmed.holdId, item: "gold", quantity: 10, expiresAt: confirmed.expiresAt, state: "held" };
      const heldPush = await buyer.waitFor<InventoryMessage>("progression:inventory", (m) => m.holds?.some((h) => h.holdId === confirmed.holdId) === true);
      expect(heldPush.holds).toEqual([opened]);
      expect(heldPush.balances).toEqual([expect.objectContaining({ item: "gold", free: 90, held: 10 })]);

      await buyer.request("confirm", { holdId: confirmed.holdId });
      await settle(arena.host, buyer);
      expect(holdPushes(buyer, confirmed.holdId)).toEqual([opened, { ...opened, state: "committed" }]);
      // The potion the purchase granted is a plain acquire: balances only.
      const potion = buyer.messages<InventoryMessage>("progression:inventory").find((m) => m.balances.some((b) => b.item === "potion"));
      expect(potion).toBeDefined();
      expect(potion).not.toHaveProperty("holds");

      const cancelled = await buyer.request<PurchaseHold>("buy", { item: "sword", qty: 1 });
      await buyer.request("cancel", { holdId: cancelled.holdId });
      await settle(arena.host, buyer);
      expect(holdPushes(buyer, cancelled.holdId).map((hold) => hold.state)).toEqual(["held", "released"]);
    });

    it("a joining client's snapshot and a resync list the holds still open, not the settled ones", async () => {
      const playerId = newPlayerId("open-holds");
      const first = await joined(playerId);
      await first.request("loot", { item: "gold", qty: 200 });
      const settled = await first.request<PurchaseHold>("buy", { item: "potion", qty: 1 });
      await first.request("cancel", { holdId: settled.holdId });
      const later = await first.request<PurchaseHold>("buy", { item: "sword", qty: 1 });
      const sooner = await first.request<PurchaseHold>("buy", { item: "potion", qty: 3 });

      const second = await arena.joinNewRoom(playerId);
      const snapshot = await second.waitFor<SnapshotMessage>("progression:snapshot");
      const open = [later, sooner]
        .sort(byExpiry)
        .map((purchase): HoldView => ({ holdId: purchase.holdId, item: "gold", quantity: purchase.price, expiresAt: purchase.expiresAt, state: "held" }));
      expect([...snapshot.holds].sort(byExpiry)).toEqual(open);
      expect(snapshot.inventory).toEqual([expect.objectContaining({ item: "gold", free: 200 - later.price - sooner.price, held: later.price + sooner.price })]);

      const resynced = await first.request<SnapshotMessage>("progression:resync", {});
      expect([...resynced.holds].sort(byExpiry)).toEqual(open);
    });
  });

  describe("progression:resync", () => {
    it("answers a request with a fresh snapshot of the player's progress, inventory and holds", async () => {
      const playerId = newPlayerId("resync");
      const player = await joined(playerId, { locale: "de" });
      for (let i = 0; i < 3; i += 1) player.send("kill", { creature: "goblin" });
      await settle(arena.host, player);

      const snapshot = await player.request<SnapshotMessage>("progression:resync");
      // first_blood's autoClaimed gold included.
      expect(snapshot).toMatchObject({ subject: playerId, locale: "de", inventory: [expect.objectContaining({ item: "gold", free: 10, held: 0 })], holds: [] });
      expect(snapshot.milestones.find((m) => m.code === "slayer_10")).toMatchObject({ current: 3, target: 10, title: "Schlächter I" });
      expect(snapshot.milestones).toEqual(await arena.progression.progress(playerId, "de"));
      // A request's answer is its response: no second copy as a message.
      await player.roundTrip();
      expect(player.messages("progression:snapshot")).toHaveLength(1);
    });

    it("answers a room.send with a progression:snapshot message, with or without {}", async () => {
      const playerId = newPlayerId("resync-send");
      const player = await joined(playerId);
      player.send("kill", { creature: "goblin" });
      await settle(arena.host, player);
      player.send("progression:resync");
      player.send("progression:resync", {});
      await expect.poll(() => player.messages("progression:snapshot").length, { timeout: 3_000, interval: 5 }).toBe(3);
      const snapshots = player.messages<SnapshotMessage>("progression:snapshot");
      expect(snapshots[2]?.milestones.find((m) => m.code === "slayer_10")?.current).toBe(1);
      expect(player.messages("progression:rejected")).toEqual([]);
    });

    it("rejects a resync with a payload, saying what is wrong", async () => {
      const player = await joined(newPlayerId("resync-bad"));
      player.send("progression:resync", { since: 5 });
      const rejected = await player.waitFor<RejectionReason>("progression:rejected");
      expect(rejected).toMatchObject({ type: "progression:resync", code: "INVALID_INPUT" });
      expect(rejected.message).toContain("since");
      expect(player.room.connection.isOpen).toBe(true);
    });
  });
});
