import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { Balance } from "../../src/model/balance.ts";
import type { BackendFactory } from "../support/backend-factories.ts";
import { useEngines } from "./engine-fixture.ts";

const bal = (subject: string, item: string, free: number, held = 0) => ({ subject, item, free, held });
const MAX = Number.MAX_SAFE_INTEGER;

/** The inventory ledger on every backend. */
export function ledgerConformance(factory: BackendFactory): void {
  const engine = useEngines(factory);
  const ledgerOf = async () => {
    const fixture = await engine([]);
    return { ...fixture, ledger: fixture.progression.ledger };
  };

  describe("acquire and consume", () => {
    it("credit and debit free quantity; balance and list show it", async () => {
      const { ledger } = await ledgerOf();
      expect((await ledger.acquire({ subject: "p1", item: "gold", quantity: 100, idempotencyKey: "a1" })).balances).toEqual([bal("p1", "gold", 100)]);
      await ledger.acquire({ subject: "p1", item: "arrow", quantity: 20, idempotencyKey: "a2" });
      expect((await ledger.consume({ subject: "p1", item: "gold", quantity: 30, idempotencyKey: "c1" })).balances).toEqual([bal("p1", "gold", 70)]);
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 70));
      expect(await ledger.balance("p1", "nothing")).toEqual(bal("p1", "nothing", 0));
      expect(await ledger.list("p1")).toEqual([bal("p1", "arrow", 20), bal("p1", "gold", 70)]);
      await ledger.consume({ subject: "p1", item: "arrow", quantity: 20, idempotencyKey: "c2" });
      expect(await ledger.list("p1")).toEqual([bal("p1", "gold", 70)]);
    });

    it("refuses to consume more than is free, changing nothing, and the failed key stays usable", async () => {
      const { ledger } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      await expect(ledger.consume({ subject: "p1", item: "gold", quantity: 11, idempotencyKey: "c1" })).rejects.toMatchObject({ code: ErrorCode.Insufficient });
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 10));
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 1, idempotencyKey: "a2" });
      expect((await ledger.consume({ subject: "p1", item: "gold", quantity: 11, idempotencyKey: "c1" })).replayed).toBe(false);
    });

    it("applies a repeated key once and returns the first receipt; another request under it is a conflict", async () => {
      const { ledger } = await ledgerOf();
      const first = await ledger.acquire({ subject: "p1", item: "gold", quantity: 5, idempotencyKey: "a1" });
      const again = await ledger.acquire({ subject: "p1", item: "gold", quantity: 5, idempotencyKey: "a1" });
      expect(again).toMatchObject({ replayed: true, balances: first.balances });
      await expect(ledger.acquire({ subject: "p1", item: "gold", quantity: 6, idempotencyKey: "a1" })).rejects.toMatchObject({ code: ErrorCode.IdempotencyConflict });
      await expect(ledger.consume({ subject: "p1", item: "gold", quantity: 5, idempotencyKey: "a1" })).rejects.toMatchObject({ code: ErrorCode.IdempotencyConflict });
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 5));
    });
  });

  describe("transfer", () => {
    it("moves quantity between subjects atomically and idempotently", async () => {
      const { ledger } = await ledgerOf();
      await ledger.acquire({ subject: "a", item: "gem", quantity: 10, idempotencyKey: "a1" });
      const receipt = await ledger.transfer({ from: "a", to: "b", item: "gem", quantity: 4, idempotencyKey: "t1", allowNewReceiver: true });
      expect(receipt.balances).toEqual([bal("a", "gem", 6), bal("b", "gem", 4)]);
      expect((await ledger.transfer({ from: "a", to: "b", item: "gem", quantity: 4, idempotencyKey: "t1", allowNewReceiver: true })).replayed).toBe(true);
      expect([await ledger.balance("a", "gem"), await ledger.balance("b", "gem")]).toEqual([bal("a", "gem", 6), bal("b", "gem", 4)]);
    });

    it("refuses an overdraft and a transfer to oneself, changing nothing", async () => {
      const { ledger } = await ledgerOf();
      await ledger.acquire({ subject: "a", item: "gem", quantity: 3, idempotencyKey: "a1" });
      await expect(ledger.transfer({ from: "a", to: "b", item: "gem", quantity: 4, idempotencyKey: "t1", allowNewReceiver: true })).rejects.toMatchObject({ code: ErrorCode.Insufficient });
      await expect(ledger.transfer({ from: "a", to: "a", item: "gem", quantity: 1, idempotencyKey: "t2" })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
      expect([await ledger.balance("a", "gem"), await ledger.balance("b", "gem")]).toEqual([bal("a", "gem", 3), bal("b", "gem", 0)]);
    });

    it("refuses a transfer the receiver's balance would pass the largest safe integer with, changing nothing", async () => {
      const { ledger } = await ledgerOf();
      await ledger.acquire({ subject: "a", item: "gem", quantity: 10, idempotencyKey: "a1" });
      await ledger.acquire({ subject: "b", item: "gem", quantity: MAX, idempotencyKey: "a1" });
      await expect(ledger.transfer({ from: "a", to: "b", item: "gem", quantity: 10, idempotencyKey: "t1" })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
      expect([await ledger.balance("a", "gem"), await ledger.balance("b", "gem")]).toEqual([bal("a", "gem", 10), bal("b", "gem", MAX)]);
      // Nothing was written, so the key is still free for another request.
      await ledger.consume({ subject: "b", item: "gem", quantity: 10, idempotencyKey: "c1" });
      expect((await ledger.transfer({ from: "a", to: "b", item: "gem", quantity: 10, idempotencyKey: "t1" })).balances).toEqual([bal("a", "gem", 0), bal("b", "gem", MAX)]);
    });

    it("refuses a transfer to a subject the store has never seen unless the request allows a new receiver", async () => {
      const { ledger, progression, delivered } = await ledgerOf();
      await ledger.acquire({ subject: "a", item: "gem", quantity: 10, idempotencyKey: "a1" });
      const refused = await ledger.transfer({ from: "a", to: "ghost", item: "gem", quantity: 4, idempotencyKey: "t1" }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: ErrorCode.UnknownSubject, message: expect.stringContaining("ghost") });
      expect((refused as Error).message).toContain("allowNewReceiver");
      expect([await ledger.balance("a", "gem"), await ledger.balance("ghost", "gem")]).toEqual([bal("a", "gem", 10), bal("ghost", "gem", 0)]);
      // Reading a balance does not make a subject known.
      await expect(ledger.transfer({ from: "a", to: "ghost", item: "gem", quantity: 4, idempotencyKey: "t1" })).rejects.toMatchObject({ code: ErrorCode.UnknownSubject });
      // The refused key was not used up: the same key now allows the gift to a new player.
      const gift = await ledger.transfer({ from: "a", to: "ghost", item: "gem", quantity: 4, idempotencyKey: "t1", allowNewReceiver: true });
      expect(gift).toMatchObject({ replayed: false, balances: [bal("a", "gem", 6), bal("ghost", "gem", 4)] });
      // Once known (it has a balance), no flag is needed.
      expect((await ledger.transfer({ from: "a", to: "ghost", item: "gem", quantity: 1, idempotencyKey: "t2" })).balances).toEqual([bal("a", "gem", 5), bal("ghost", "gem", 5)]);
      await progression.events.drain();
      expect(delivered.get("inventory.changed")?.filter((e) => e.payload.cause === "transfer")).toHaveLength(2);
      await expect(ledger.transfer({ from: "a", to: "ghost", item: "gem", quantity: 1, idempotencyKey: "t3", allowNewReceiver: "yes" as unknown as boolean })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    });

    it("a receiver known by its progress or its holds alone takes a transfer without the flag", async () => {
      const { ledger, progression } = await ledgerOf();
      await ledger.acquire({ subject: "a", item: "gem", quantity: 10, idempotencyKey: "a1" });
      await progression.record({ type: "kill", subject: "player", amount: 1 });
      expect((await ledger.transfer({ from: "a", to: "player", item: "gem", quantity: 1, idempotencyKey: "t1" })).balances).toEqual([bal("a", "gem", 9), bal("player", "gem", 1)]);
      await ledger.acquire({ subject: "holder", item: "gold", quantity: 3, idempotencyKey: "a1" });
      await ledger.hold({ subject: "holder", item: "gold", quantity: 3, ttlMs: 60_000, idempotencyKey: "h1" });
      expect((await ledger.transfer({ from: "a", to: "holder", item: "gem", quantity: 1, idempotencyKey: "t2" })).balances).toEqual([bal("a", "gem", 8), bal("holder", "gem", 1)]);
    });
  });

  describe("holds", () => {
    it("hold moves free to held; commit consumes it; commit again is a no-op", async () => {
      const { ledger } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      const { hold, balances } = await ledger.hold({ subject: "p1", item: "gold", quantity: 4, ttlMs: 60_000, idempotencyKey: "h1" });
      expect(balances).toEqual([bal("p1", "gold", 6, 4)]);
      expect(hold).toMatchObject({ subject: "p1", item: "gold", quantity: 4, state: "held" });
      await expect(ledger.consume({ subject: "p1", item: "gold", quantity: 7, idempotencyKey: "c1" })).rejects.toMatchObject({ code: ErrorCode.Insufficient });
      const committed = await ledger.commit(hold.holdId);
      expect(committed).toMatchObject({ replayed: false, hold: { state: "committed" }, balances: [bal("p1", "gold", 6, 0)] });
      expect((await ledger.commit(hold.holdId)).replayed).toBe(true);
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 6));
      await expect(ledger.release(hold.holdId)).rejects.toMatchObject({ code: ErrorCode.HoldClosed });
    });

    it("release returns held quantity to free; release again is a no-op; commit after release is refused", async () => {
      const { ledger } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      const { hold } = await ledger.hold({ subject: "p1", item: "gold", quantity: 10, ttlMs: 60_000, idempotencyKey: "h1" });
      expect((await ledger.release(hold.holdId)).balances).toEqual([bal("p1", "gold", 10, 0)]);
      expect((await ledger.release(hold.holdId)).replayed).toBe(true);
      await expect(ledger.commit(hold.holdId)).rejects.toMatchObject({ code: ErrorCode.HoldClosed });
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 10));
    });

    it("the same hold key returns the same hold", async () => {
      const { ledger } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      const first = await ledger.hold({ subject: "p1", item: "gold", quantity: 3, ttlMs: 60_000, idempotencyKey: "h1" });
      const again = await ledger.hold({ subject: "p1", item: "gold", quantity: 3, ttlMs: 60_000, idempotencyKey: "h1" });
      expect(again).toMatchObject({ replayed: true, hold: { holdId: first.hold.holdId } });
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 7, 3));
    });

    it("an expired hold returns to free lazily, can no longer be committed, and is reported once", async () => {
      const { ledger, clock, progression, delivered } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      const { hold } = await ledger.hold({ subject: "p1", item: "gold", quantity: 4, ttlMs: 5_000, idempotencyKey: "h1" });
      clock.advance(4_999);
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 6, 4));
      clock.advance(1);
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 10, 0));
      await expect(ledger.commit(hold.holdId)).rejects.toMatchObject({ code: ErrorCode.HoldExpired });
      expect((await ledger.release(hold.holdId)).replayed).toBe(true);
      expect(await ledger.getHold(hold.holdId)).toMatchObject({ state: "expired", settledAt: clock.now - 0 });
      expect(await ledger.expireHolds()).toEqual([]);
      await progression.events.drain();
      expect(delivered.get("hold.expired")?.map((e) => e.payload.hold.holdId)).toEqual([hold.holdId]);
    });

    it("a commit that finds its hold expired releases it in the same step and says so", async () => {
      const { ledger, clock, progression, delivered } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      const { hold } = await ledger.hold({ subject: "p1", item: "gold", quantity: 4, ttlMs: 1_000, idempotencyKey: "h1" });
      clock.advance(2_000);
      await expect(ledger.commit(hold.holdId)).rejects.toMatchObject({ code: ErrorCode.HoldExpired });
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 10, 0));
      await progression.events.drain();
      expect(delivered.get("hold.expired")).toHaveLength(1);
    });

    it("expireHolds releases due holds of every subject, each once", async () => {
      const { ledger, clock } = await ledgerOf();
      const holds: string[] = [];
      for (const subject of ["a", "b", "c"]) {
        await ledger.acquire({ subject, item: "gold", quantity: 5, idempotencyKey: "a1" });
        holds.push((await ledger.hold({ subject, item: "gold", quantity: 5, ttlMs: subject === "c" ? 60_000 : 1_000, idempotencyKey: "h1" })).hold.holdId);
      }
      clock.advance(1_000);
      const expired = await ledger.expireHolds();
      expect(expired.map((h) => h.holdId).sort()).toEqual([holds[0], holds[1]].sort());
      expect(await ledger.expireHolds()).toEqual([]);
      expect(await ledger.balance("a", "gold")).toEqual(bal("a", "gold", 5, 0));
      expect(await ledger.balance("c", "gold")).toEqual(bal("c", "gold", 0, 5));
    });

    it("unknown hold ids are HOLD_UNKNOWN", async () => {
      const { ledger } = await ledgerOf();
      await expect(ledger.commit("h0123456789abcdef:p1")).rejects.toMatchObject({ code: ErrorCode.HoldUnknown });
      await expect(ledger.release("not-a-hold")).rejects.toMatchObject({ code: ErrorCode.HoldUnknown });
      await expect(ledger.getHold("h0123456789abcdef:p1")).rejects.toMatchObject({ code: ErrorCode.HoldUnknown });
    });

    it("keeps free + held at most the largest safe integer, so every hold can return to free: credits past it are refused, changing nothing", async () => {
      const { ledger } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: MAX, idempotencyKey: "a1" });
      const { hold } = await ledger.hold({ subject: "p1", item: "gold", quantity: 10, ttlMs: 60_000, idempotencyKey: "h1" });
      // Free is MAX - 10: an acquire of 10 would fit free alone, but not free + held.
      await expect(ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a2" })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
      await ledger.acquire({ subject: "p2", item: "gold", quantity: 10, idempotencyKey: "a3" });
      await expect(ledger.transfer({ from: "p2", to: "p1", item: "gold", quantity: 10, idempotencyKey: "t1" })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", MAX - 10, 10));
      expect(await ledger.balance("p2", "gold")).toEqual(bal("p2", "gold", 10, 0));
      // The hold returns to free.
      expect(await ledger.release(hold.holdId)).toMatchObject({ hold: { state: "released" }, balances: [bal("p1", "gold", MAX, 0)] });
    });

    it("getHold settles a hold it finds past its expiry and announces it once; the expiry job then finds nothing", async () => {
      const { ledger, clock, progression, delivered, fixture } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      const { hold } = await ledger.hold({ subject: "p1", item: "gold", quantity: 4, ttlMs: 1_000, idempotencyKey: "h1" });
      const other = (await ledger.hold({ subject: "p1", item: "gold", quantity: 1, ttlMs: 1_000, idempotencyKey: "h2" })).hold;
      clock.advance(1_000);
      expect(await ledger.getHold(hold.holdId)).toMatchObject({ holdId: hold.holdId, state: "expired", settledAt: clock.now });
      expect(await ledger.expireHolds()).toEqual([]);
      expect(await ledger.getHold(hold.holdId)).toMatchObject({ state: "expired" });
      await progression.events.drain();
      expect(delivered.get("hold.expired")?.map((e) => e.payload.hold.holdId).sort()).toEqual([hold.holdId, other.holdId].sort());
      expect(delivered.get("inventory.changed")?.filter((e) => e.payload.cause === "expire").map((e) => e.payload.balances)).toEqual([[bal("p1", "gold", 10, 0)]]);
      // The backend's answer: the hold, and what the call settled on the way, with its balance.
      const { hold: third } = await ledger.hold({ subject: "p1", item: "gold", quantity: 2, ttlMs: 1_000, idempotencyKey: "h3" });
      clock.advance(1_000);
      const read = await fixture.backend.getHold(third.holdId, clock.now);
      expect(read).toMatchObject({ hold: { holdId: third.holdId, state: "expired" }, balances: [bal("p1", "gold", 10, 0)] });
      expect(read.expiredHolds.map((h) => h.holdId)).toEqual([third.holdId]);
      expect((await fixture.backend.getHold(third.holdId, clock.now)).expiredHolds).toEqual([]);
    });

    it("expireHolds(limit) releases at most limit holds and reports exactly those; the rest stay due for the next call", async () => {
      const { ledger, clock, fixture } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      const ids: string[] = [];
      for (const key of ["h1", "h2", "h3"]) ids.push((await ledger.hold({ subject: "p1", item: "gold", quantity: 1, ttlMs: 1_000, idempotencyKey: key })).hold.holdId);
      clock.advance(1_000);
      const first = (await fixture.backend.expireHolds(clock.now, 1)).expiredHolds;
      expect(first).toHaveLength(1);
      const rest = (await fixture.backend.expireHolds(clock.now, 10)).expiredHolds;
      expect(rest).toHaveLength(2);
      expect([...first, ...rest].map((h) => h.holdId).sort()).toEqual([...ids].sort());
      expect((await fixture.backend.expireHolds(clock.now, 10)).expiredHolds).toEqual([]);
      for (const id of ids) await expect(ledger.commit(id)).rejects.toMatchObject({ code: ErrorCode.HoldExpired });
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 10, 0));
    });

    it("the engine's expireHolds(limit) releases and announces exactly the holds it returns, each once", async () => {
      const { ledger, clock, progression, delivered } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      const ids: string[] = [];
      for (const key of ["h1", "h2", "h3"]) ids.push((await ledger.hold({ subject: "p1", item: "gold", quantity: 1, ttlMs: 1_000, idempotencyKey: key })).hold.holdId);
      clock.advance(1_000);
      const inventory: Balance[][] = [];
      progression.effects.subscribe((effects) => {
        for (const subject of effects.subjects) if (subject.expiredHolds.length > 0) inventory.push([...subject.inventory]);
      });
      const first = await ledger.expireHolds(1);
      expect(first).toHaveLength(1);
      await progression.events.drain();
      // Announcing it read no balance that would release the other two.
      expect(delivered.get("hold.expired")?.map((e) => e.payload.hold.holdId)).toEqual(first.map((hold) => hold.holdId));
      expect(inventory).toEqual([[bal("p1", "gold", 8, 2)]]);
      const rest = await ledger.expireHolds(10);
      expect(rest).toHaveLength(2);
      expect(await ledger.expireHolds(10)).toEqual([]);
      for (const id of ids) await expect(ledger.commit(id)).rejects.toMatchObject({ code: ErrorCode.HoldExpired });
      expect(await ledger.balance("p1", "gold")).toEqual(bal("p1", "gold", 10, 0));
      await progression.events.drain();
      expect(delivered.get("hold.expired")?.map((e) => e.payload.hold.holdId).sort()).toEqual([...ids].sort());
    });
  });

  describe("every lazy expiry is reported once, by the call that settles it", () => {
    type Ledger = Awaited<ReturnType<typeof ledgerOf>>["ledger"];
    const calls: Array<[string, (ledger: Ledger, expiring: string, other: string) => Promise<unknown>]> = [
      ["acquire", (l) => l.acquire({ subject: "p1", item: "gem", quantity: 1, idempotencyKey: "x1" })],
      ["consume", (l) => l.consume({ subject: "p1", item: "gold", quantity: 1, idempotencyKey: "x1" })],
      ["a refused consume", (l) => l.consume({ subject: "p1", item: "gold", quantity: 999, idempotencyKey: "x1" })],
      ["transfer from the subject", (l) => l.transfer({ from: "p1", to: "p2", item: "gold", quantity: 1, idempotencyKey: "x1" })],
      ["a refused transfer from the subject", (l) => l.transfer({ from: "p1", to: "p2", item: "gold", quantity: 999, idempotencyKey: "x1" })],
      ["transfer to the subject", (l) => l.transfer({ from: "p2", to: "p1", item: "gold", quantity: 1, idempotencyKey: "x1" })],
      ["a refused transfer to the subject", (l) => l.transfer({ from: "p2", to: "p1", item: "gold", quantity: 999, idempotencyKey: "x1" })],
      ["hold", (l) => l.hold({ subject: "p1", item: "gold", quantity: 1, ttlMs: 60_000, idempotencyKey: "x1" })],
      ["a refused hold", (l) => l.hold({ subject: "p1", item: "gold", quantity: 999, ttlMs: 60_000, idempotencyKey: "x1" })],
      ["commit of another hold", (l, _e, other) => l.commit(other)],
      ["release of another hold", (l, _e, other) => l.release(other)],
      ["commit of the expired hold (refused)", (l, expiring) => l.commit(expiring)],
      ["release of the expired hold", (l, expiring) => l.release(expiring)],
      ["balance of another item", (l) => l.balance("p1", "gem")],
      ["list", (l) => l.list("p1")],
      ["holds", (l) => l.holds("p1")],
      ["getHold of the expired hold", (l, expiring) => l.getHold(expiring)],
      ["getHold of another hold", (l, _e, other) => l.getHold(other)],
      ["getHold of an unknown hold (refused)", (l) => l.getHold("h0123456789abcdef:p1")],
      ["expireHolds", (l) => l.expireHolds()],
    ];
    for (const [name, call] of calls) {
      it(name, async () => {
        const { ledger, clock, progression, delivered } = await ledgerOf();
        await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
        await ledger.acquire({ subject: "p2", item: "gold", quantity: 10, idempotencyKey: "a1" });
        const expiring = (await ledger.hold({ subject: "p1", item: "gold", quantity: 4, ttlMs: 1_000, idempotencyKey: "h1" })).hold.holdId;
        const other = (await ledger.hold({ subject: "p1", item: "gold", quantity: 1, ttlMs: 60_000, idempotencyKey: "h2" })).hold.holdId;
        clock.advance(1_000);
        await call(ledger, expiring, other).catch(() => undefined);
        await progression.events.drain();
        expect(delivered.get("hold.expired")?.map((e) => e.payload.hold.holdId)).toEqual([expiring]);
        // Nobody else finds it due any more, and it is not announced again.
        expect(await ledger.expireHolds()).toEqual([]);
        await ledger.list("p1");
        await expect(ledger.commit(expiring)).rejects.toMatchObject({ code: ErrorCode.HoldExpired });
        await progression.events.drain();
        expect(delivered.get("hold.expired")).toHaveLength(1);
      });
    }
  });

  describe("open holds", () => {
    it("list them held and not past expiry, by expiresAt then hold id; settled and expired ones drop out", async () => {
      const { ledger, clock, progression, delivered } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 20, idempotencyKey: "a1" });
      await ledger.acquire({ subject: "p1", item: "gem", quantity: 5, idempotencyKey: "a2" });
      const place = async (item: string, quantity: number, ttlMs: number, key: string) => (await ledger.hold({ subject: "p1", item, quantity, ttlMs, idempotencyKey: key })).hold;
      const late = await place("gold", 1, 60_000, "h1");
      const soon = await place("gold", 2, 5_000, "h2");
      const tiedA = await place("gem", 1, 30_000, "h3");
      const tiedB = await place("gold", 3, 30_000, "h4");
      const committed = await place("gold", 4, 30_000, "h5");
      const released = await place("gem", 2, 30_000, "h6");
      await ledger.commit(committed.holdId);
      await ledger.release(released.holdId);
      const tied = [tiedA, tiedB].sort((a, b) => (a.holdId < b.holdId ? -1 : 1));
      expect(await ledger.holds("p1")).toEqual([soon, ...tied, late]);
      expect(await ledger.holds("nobody")).toEqual([]);
      expect(await ledger.holds("p1")).toEqual([soon, ...tied, late]);
      // At its expiresAt a hold is expired: it leaves the list, released once (by this call).
      clock.advance(5_000);
      expect(await ledger.holds("p1")).toEqual([...tied, late]);
      expect(await ledger.list("p1")).toEqual([bal("p1", "gem", 4, 1), bal("p1", "gold", 12, 4)]);
      await progression.events.drain();
      expect(delivered.get("hold.expired")?.map((e) => e.payload.hold.holdId)).toEqual([soon.holdId]);
      await expect(ledger.holds("")).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    });

    it("each change's effects carry the holds it opened or settled, in their state after it", async () => {
      const { ledger, clock, progression } = await ledgerOf();
      const announced: Array<[string, boolean, string[]]> = [];
      progression.effects.subscribe((effects) => {
        for (const subject of effects.subjects) announced.push([effects.cause, effects.replayed, subject.holds.map((hold) => `${hold.holdId}:${hold.state}`)]);
      });
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 10, idempotencyKey: "a1" });
      const first = (await ledger.hold({ subject: "p1", item: "gold", quantity: 2, ttlMs: 60_000, idempotencyKey: "h1" })).hold;
      await ledger.hold({ subject: "p1", item: "gold", quantity: 2, ttlMs: 60_000, idempotencyKey: "h1" });
      const second = (await ledger.hold({ subject: "p1", item: "gold", quantity: 3, ttlMs: 60_000, idempotencyKey: "h2" })).hold;
      const third = (await ledger.hold({ subject: "p1", item: "gold", quantity: 1, ttlMs: 1_000, idempotencyKey: "h3" })).hold;
      await ledger.commit(first.holdId);
      await ledger.commit(first.holdId);
      await ledger.release(second.holdId);
      clock.advance(1_000);
      // The release finds its hold expired and releases it on the way: reported as an expiry, once.
      const late = await ledger.release(third.holdId);
      expect(late).toMatchObject({ replayed: true, hold: { holdId: third.holdId, state: "expired" } });
      expect(announced).toEqual([
        ["acquire", false, []],
        ["hold", false, [`${first.holdId}:held`]],
        // A replayed hold opened nothing now (its stored receipt's state may be stale).
        ["hold", true, []],
        ["hold", false, [`${second.holdId}:held`]],
        ["hold", false, [`${third.holdId}:held`]],
        ["commit", false, [`${first.holdId}:committed`]],
        ["commit", true, [`${first.holdId}:committed`]],
        ["release", false, [`${second.holdId}:released`]],
        ["release", true, []],
      ]);
      expect(late.expiredHolds.map((hold) => hold.holdId)).toEqual([third.holdId]);
    });
  });

  describe("domain events", () => {
    it("inventory.changed carries the balances after each mutation, once per key", async () => {
      const { ledger, progression, delivered } = await ledgerOf();
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 5, idempotencyKey: "a1" });
      await ledger.acquire({ subject: "p1", item: "gold", quantity: 5, idempotencyKey: "a1" });
      await ledger.transfer({ from: "p1", to: "p2", item: "gold", quantity: 2, idempotencyKey: "t1", allowNewReceiver: true });
      await progression.events.drain();
      expect(delivered.get("inventory.changed")?.map((e) => [e.payload.cause, e.payload.balances])).toEqual([
        ["acquire", [bal("p1", "gold", 5)]],
        ["transfer", [bal("p1", "gold", 3), bal("p2", "gold", 2)]],
      ]);
    });
  });
}
