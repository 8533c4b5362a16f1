import { beforeAll, describe, expect, it } from "vitest";
import type { ClaimResponse, HoldExpiredMessage, InventoryMessage, RejectionReason } from "../../src/protocol/client-messages.ts";
import type { PurchaseHold, PurchaseResult } from "../../rooms/arena/arena-room.ts";
import type { Balance } from "../../src/model/balance.ts";
import { newPlayerId, settle, describeArena, type ArenaServer, type TestClient } from "./support/arena-server.ts";

let arena: ArenaServer;

/** The rejection reason carried by a rejected `room.request`. */
async function rejectionOf(promise: Promise<unknown>): Promise<RejectionReason> {
  try {
    await promise;
  } catch (error) {
    const data = (error as { data?: unknown; reason?: unknown }).data ?? (error as { reason?: unknown }).reason ?? error;
    return data as RejectionReason;
  }
  throw new Error("expected the request to be rejected");
}

function balanceOf(balances: readonly Balance[], item: string): { free: number; held: number } {
  const found = balances.find((balance) => balance.item === item);
  return { free: found?.free ?? 0, held: found?.held ?? 0 };
}

async function joined(label: string): Promise<TestClient> {
  const player = await arena.join(newPlayerId(label));
  await player.waitFor("progression:snapshot");
  return player;
}

/** A player who played once and left: the store knows them, so a trade may reach them. */
async function knownAbsentPlayer(label: string): Promise<string> {
  const playerId = newPlayerId(label);
  const player = await arena.join(playerId);
  await player.waitFor("progression:snapshot");
  await player.leave();
  return playerId;
}

describeArena({ arena: { holdTtlMs: 300 } }, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("claims", () => {
    it("claims a completed milestone once: rewards granted, new balances returned and pushed; a double claim is rejected", async () => {
      const player = await joined("claim");
      for (let i = 0; i < 10; i += 1) player.send("kill", { creature: "goblin" });
      await player.waitFor("progression:unlocked", (u) => u["code"] === "slayer_10");

      const claimed = await player.request<ClaimResponse>("progression:claim", { code: "slayer_10" });
      expect(claimed.code).toBe("slayer_10");
      expect(claimed.rewards).toEqual([{ item: "potion", quantity: 2 }]);
      expect(balanceOf(claimed.balances, "potion")).toEqual({ free: 2, held: 0 });
      const pushed = await player.waitFor<InventoryMessage>("progression:inventory", (m) => m.balances.some((b) => b.item === "potion"));
      expect(balanceOf(pushed.balances, "potion").free).toBe(2);

      const again = await rejectionOf(player.request("progression:claim", { code: "slayer_10" }));
      expect(again).toMatchObject({ type: "progression:claim", code: "ALREADY_CLAIMED" });
      expect(balanceOf(await arena.progression.ledger.list(await subjectOf(player)), "potion").free).toBe(2);
    });

    it("rejects unknown codes and milestones not completed yet, with reasons that say so", async () => {
      const player = await joined("claim-bad");
      const unknown = await rejectionOf(player.request("progression:claim", { code: "no_such_milestone" }));
      expect(unknown.code).toBe("UNKNOWN_MILESTONE");
      expect(unknown.message).toContain("no_such_milestone");
      const early = await rejectionOf(player.request("progression:claim", { code: "slayer_100" }));
      expect(early.code).toBe("NOT_COMPLETED");
      const malformed = await rejectionOf(player.request("progression:claim", { code: 42 }));
      expect(malformed.code).toBe("INVALID_INPUT");
      expect(malformed.message).toContain("code");
    });

    it("answers a claim sent with room.send through progression:claimed / progression:rejected", async () => {
      const player = await joined("claim-send");
      for (let i = 0; i < 10; i += 1) player.send("kill", { creature: "troll" });
      await player.waitFor("progression:unlocked", (u) => u["code"] === "slayer_10");
      player.send("progression:claim", { code: "slayer_10" });
      const claimed = await player.waitFor<ClaimResponse>("progression:claimed");
      expect(claimed.code).toBe("slayer_10");
      player.send("progression:claim", { code: "slayer_10" });
      const rejected = await player.waitFor<RejectionReason>("progression:rejected");
      expect(rejected).toMatchObject({ type: "progression:claim", code: "ALREADY_CLAIMED" });
    });
  });

  async function subjectOf(player: TestClient): Promise<string> {
    const snapshot = player.messages<{ subject: string }>("progression:snapshot")[0];
    if (snapshot === undefined) throw new Error("no snapshot yet");
    return snapshot.subject;
  }

  describe("trades", () => {
    it("transfers between two players of the room by sessionId, pushing both new balances", async () => {
      const alice = await joined("alice");
      const bob = await joined("bob");
      expect(alice.room.roomId).toBe(bob.room.roomId);
      await alice.request("loot", { item: "gold", qty: 100 });

      await alice.request("trade", { to: bob.room.sessionId, item: "gold", qty: 30 });
      const toBob = await bob.waitFor<InventoryMessage>("progression:inventory", (m) => balanceOf(m.balances, "gold").free === 30);
      expect(toBob.balances.every((b) => b.subject === toBob.balances[0]?.subject)).toBe(true);
      await alice.waitFor<InventoryMessage>("progression:inventory", (m) => balanceOf(m.balances, "gold").free === 70);

      const tooMuch = await rejectionOf(alice.request("trade", { to: bob.room.sessionId, item: "gold", qty: 71 }));
      expect(tooMuch.code).toBe("INSUFFICIENT");
      expect(balanceOf(await arena.progression.ledger.list(await subjectOf(alice)), "gold").free).toBe(70);
      expect(balanceOf(await arena.progression.ledger.list(await subjectOf(bob)), "gold").free).toBe(30);
    });

    it("trades loot picked up a moment ago (fire-and-forget loot is coalesced, then flushed before the trade)", async () => {
      const looter = await joined("looter");
      const partner = await knownAbsentPlayer("partner");
      for (let i = 0; i < 5; i += 1) looter.send("loot", { item: "gold", qty: 20 });
      await looter.request("trade", { to: partner, item: "gold", qty: 90 });
      expect((await arena.progression.ledger.balance(partner, "gold")).free).toBe(90);
      expect((await arena.progression.ledger.balance(await subjectOf(looter), "gold")).free).toBe(10);
      await looter.waitFor<InventoryMessage>("progression:inventory", (m) => balanceOf(m.balances, "gold").free === 10);
      // The pickups also counted as loot events for treasure_hunter.
      await settle(arena.host, looter);
      const treasure = (await arena.progression.progress(await subjectOf(looter))).find((m) => m.code === "treasure_hunter");
      expect(treasure).toMatchObject({ current: 100, target: 500 });
    });

    it("transfers to a player id that is not in the room", async () => {
      const alice = await joined("giver");
      const absent = await knownAbsentPlayer("absent");
      await alice.request("loot", { item: "potion", qty: 3 });
      await alice.request("trade", { to: absent, item: "potion", qty: 2 });
      expect((await arena.progression.ledger.balance(absent, "potion")).free).toBe(2);
    });

    it("refuses a trade to an id no player can log in as, naming `to`, and the gold stays", async () => {
      const sender = await joined("sender");
      await sender.request("loot", { item: "gold", qty: 50 });
      for (const to of ["!", "x y", "a/b", "tab\tid", "{ghost}", "z".repeat(300), "p:{x}"]) {
        const refused = await rejectionOf(sender.request("trade", { to, item: "gold", qty: 5 }));
        expect(refused, JSON.stringify(to)).toMatchObject({ type: "trade", code: "INVALID_INPUT", message: expect.stringContaining("to") });
      }
      expect(await arena.progression.ledger.list(await subjectOf(sender))).toEqual([expect.objectContaining({ item: "gold", free: 50 })]);
    });

    it("refuses a trade to a valid id the store has never seen (UNKNOWN_SUBJECT), and the gold stays", async () => {
      const sender = await joined("sender");
      await sender.request("loot", { item: "gold", qty: 50 });
      const nobody = newPlayerId("nobody");
      const refused = await rejectionOf(sender.request("trade", { to: nobody, item: "gold", qty: 5 }));
      expect(refused).toMatchObject({ type: "trade", code: "UNKNOWN_SUBJECT", message: expect.stringContaining(nobody) });
      expect(await arena.progression.ledger.list(await subjectOf(sender))).toEqual([expect.objectContaining({ item: "gold", free: 50 })]);
      expect(await arena.progression.ledger.list(nobody)).toEqual([]);
    });
  });

  describe("shop: buy -> hold -> confirm / cancel / expiry", () => {
    it("confirm commits the held gold and grants the item", async () => {
      const buyer = await joined("buyer");
      await buyer.request("loot", { item: "gold", qty: 100 });
      const hold = await buyer.request<PurchaseHold>("buy", { item: "potion", qty: 2 });
      expect(hold).toMatchObject({ item: "potion", qty: 2, price: 10 });
      const subject = await subjectOf(buyer);
      expect(await arena.progression.ledger.balance(subject, "gold")).toMatchObject({ free: 90, held: 10 });

      const result = await buyer.request<PurchaseResult>("confirm", { holdId: hold.holdId });
      expect(balanceOf(result.balances, "gold")).toEqual({ free: 90, held: 0 });
      expect(balanceOf(result.balances, "potion")).toEqual({ free: 2, held: 0 });
      const again = await rejectionOf(buyer.request("confirm", { holdId: hold.holdId }));
      expect(again.code).toBe("HOLD_UNKNOWN");
      expect(balanceOf(await arena.progression.ledger.list(subject), "potion").free).toBe(2);
    });

    it("cancel releases the gold", async () => {
      const buyer = await joined("canceller");
      await buyer.request("loot", { item: "gold", qty: 50 });
      const hold = await buyer.request<PurchaseHold>("buy", { item: "sword", qty: 1 });
      await buyer.request("cancel", { holdId: hold.holdId });
      expect(await arena.progression.ledger.balance(await subjectOf(buyer), "gold")).toMatchObject({ free: 50, held: 0 });
      const late = await rejectionOf(buyer.request("confirm", { holdId: hold.holdId }));
      expect(late.code).toBe("HOLD_UNKNOWN");
    });

    it("an unconfirmed hold expires: the gold comes back, the owner is told, confirm is refused", async () => {
      const buyer = await joined("sleeper");
      await buyer.request("loot", { item: "gold", qty: 40 });
      const hold = await buyer.request<PurchaseHold>("buy", { item: "shield", qty: 1 });
      const expired = await buyer.waitFor<HoldExpiredMessage>("progression:hold-expired", (m) => m.holdId === hold.holdId, 3_000);
      expect(expired).toMatchObject({ item: "gold", quantity: 40 });
      const rejected = await rejectionOf(buyer.request("confirm", { holdId: hold.holdId }));
      expect(rejected.code).toBe("HOLD_EXPIRED");
      expect(await arena.progression.ledger.balance(await subjectOf(buyer), "gold")).toMatchObject({ free: 40, held: 0 });
      expect(balanceOf(await arena.progression.ledger.list(await subjectOf(buyer)), "shield").free).toBe(0);
    });

    it("a player cannot confirm or cancel someone else's hold", async () => {
      const owner = await joined("owner");
      const thief = await joined("thief");
      await owner.request("loot", { item: "gold", qty: 20 });
      const hold = await owner.request<PurchaseHold>("buy", { item: "elixir", qty: 1 });
      expect((await rejectionOf(thief.request("confirm", { holdId: hold.holdId }))).code).toBe("HOLD_UNKNOWN");
      expect((await rejectionOf(thief.request("cancel", { holdId: hold.holdId }))).code).toBe("HOLD_UNKNOWN");
      expect(await arena.progression.ledger.balance(await subjectOf(owner), "gold")).toMatchObject({ free: 0, held: 20 });
      await owner.request("confirm", { holdId: hold.holdId });
      await settle(arena.host, owner);
      expect(balanceOf(await arena.progression.ledger.list(await subjectOf(owner)), "elixir").free).toBe(1);
    });

    it("buy sent with room.send answers with shop:held", async () => {
      const buyer = await joined("sender");
      await buyer.request("loot", { item: "gold", qty: 5 });
      buyer.send("buy", { item: "potion", qty: 1 });
      const hold = await buyer.waitFor<PurchaseHold>("shop:held");
      expect(hold).toMatchObject({ item: "potion", qty: 1, price: 5 });
    });
  });
});
