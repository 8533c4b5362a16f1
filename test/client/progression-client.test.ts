import { beforeAll, describe, expect, it } from "vitest";
import { attachProgression, ProgressionRequestError, type ProgressionClient, type ProgressionEvents, type ProgressionState } from "../../client/index.ts";
import type { PurchaseHold } from "../../rooms/arena/arena-room.ts";
import { describeArena, newPlayerId, settle, type ArenaServer, type TestClient } from "../e2e/support/arena-server.ts";

/**
 * The client kit in Node against the real arena server (every backend) through a real @colyseus/sdk room:
 * the state it keeps must be what the server says, push after push.
 */
let arena: ArenaServer;

interface AttachedPlayer {
  readonly playerId: string;
  readonly player: TestClient;
  readonly progression: ProgressionClient;
}

async function attached(label: string): Promise<AttachedPlayer> {
  const playerId = newPlayerId(label);
  const player = await arena.join(playerId, { locale: "en" });
  // Right after the join, as a game does: the join's snapshot has not arrived yet.
  const progression = attachProgression(player.room);
  await progression.ready;
  return { playerId, player, progression };
}

/** Resolves once the kit's state satisfies `predicate` (checked on every change), or fails naming `what`. */
function until(progression: ProgressionClient, what: string, predicate: (state: ProgressionState) => boolean, timeoutMs = 5_000): Promise<ProgressionState> {
  return new Promise((resolve, reject) => {
    if (predicate(progression.state)) {
      resolve(progression.state);
      return;
    }
    const timer = setTimeout(() => {
      off();
      reject(new Error(`the client state never showed ${what} within ${timeoutMs} ms; last state: ${JSON.stringify(progression.state)}`));
    }, timeoutMs);
    const off = progression.on("change", (state) => {
      if (!predicate(state)) return;
      clearTimeout(timer);
      off();
      resolve(state);
    });
  });
}

/** Every payload of `event` from now on. */
function collect<Event extends keyof ProgressionEvents>(progression: ProgressionClient, event: Event): Array<ProgressionEvents[Event]> {
  const seen: Array<ProgressionEvents[Event]> = [];
  progression.on(event, (payload) => seen.push(payload));
  return seen;
}

const kill = (player: TestClient, count: number, creature = "goblin"): void => {
  for (let i = 0; i < count; i += 1) player.send("kill", { creature });
};

describeArena({ arena: { holdTtlMs: 2_000 } }, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  describe("attachProgression on a real SDK room", () => {
    it("starts from the join's snapshot: every milestone in order, hidden ones masked, empty inventory and holds", async () => {
      const { playerId, progression } = await attached("snapshot");
      const state = progression.state;
      expect(state.subject).toBe(playerId);
      expect(state.locale).toBe("en");
      expect(state.milestones.map((milestone) => milestone.code)).toEqual(
        (await arena.progression.progress(playerId, "en")).map((milestone) => milestone.code),
      );
      expect(progression.milestone("slayer_10")).toMatchObject({ title: "Slayer I", current: 0, target: 10, status: "in_progress" });
      expect(progression.milestone("rat_whisperer")).toMatchObject({ masked: true });
      expect(state.inventory).toEqual([]);
      expect(state.holds).toEqual([]);
      expect(progression.balance("gold")).toEqual({ item: "gold", free: 0, held: 0 });
    });

    it("follows progress and unlocks: current moves, an unlock completes it, an autoClaim unlock comes claimed with its reward", async () => {
      const { player, progression } = await attached("unlocks");
      const unlocks = collect(progression, "unlock");
      const progress = collect(progression, "progress");

      kill(player, 3);
      await until(progression, "slayer_10 at 3/10", (state) => state.milestones.some((m) => m.code === "slayer_10" && m.current === 3));
      expect(progress.some((update) => update.code === "slayer_10" && update.current === 3 && update.target === 10)).toBe(true);
      expect(progression.milestone("first_blood")).toMatchObject({ status: "claimed" });
      await until(progression, "first blood's 10 gold", () => progression.balance("gold").free === 10);

      kill(player, 7);
      await until(progression, "slayer_10 completed", () => progression.milestone("slayer_10")?.status === "completed");
      expect(progression.milestone("slayer_10")).toMatchObject({ current: 10, target: 10, claimedAt: null });
      expect(unlocks.map((unlock) => unlock.code)).toEqual(["first_blood", "slayer_10"]);
      expect(unlocks[0]).toMatchObject({ title: "First Blood", claimed: true, animation: { kind: "confetti" } });
      expect(unlocks[1]).toMatchObject({ title: "Slayer I", claimed: false, rewards: [{ item: "potion", quantity: 2 }] });
    });

    it("claims: the rewards are in the inventory, and a claim retried with the same requestId grants once", async () => {
      const { playerId, player, progression } = await attached("claim");
      kill(player, 10);
      await until(progression, "slayer_10 completed", () => progression.milestone("slayer_10")?.status === "completed");
      const claims = collect(progression, "claimed");

      const first = await progression.claim("slayer_10", { requestId: "retry-me" });
      expect(first.rewards).toEqual([{ item: "potion", quantity: 2 }]);
      expect(progression.milestone("slayer_10")).toMatchObject({ status: "claimed", claimedAt: first.claimedAt });
      expect(progression.balance("potion")).toEqual({ item: "potion", free: 2, held: 0 });

      // The same request again (e.g. its answer was lost): the same result, nothing granted twice.
      const retried = await progression.claim("slayer_10", { requestId: "retry-me" });
      expect(retried).toMatchObject({ code: "slayer_10", claimedAt: first.claimedAt, rewards: first.rewards });
      await settle(arena.host, player);
      expect(progression.balance("potion").free).toBe(2);
      expect((await arena.progression.ledger.balance(playerId, "potion")).free).toBe(2);
      expect(claims).toHaveLength(2);

      // A new claim (a new generated requestId) is refused with the server's reason.
      const again = await progression.claim("slayer_10").then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(again).toBeInstanceOf(ProgressionRequestError);
      expect(again).toMatchObject({ type: "progression:claim", code: "ALREADY_CLAIMED" });
      const early = await progression.claim("slayer_100").catch((error: unknown) => error);
      expect(early).toMatchObject({ code: "NOT_COMPLETED", message: expect.stringContaining("not completed") });
    });

    it("keeps a shop hold in state.holds while it is open, and drops it on confirm and on cancel", async () => {
      const { player, progression } = await attached("shop");
      await player.request("loot", { item: "gold", qty: 100 });
      await until(progression, "100 gold", () => progression.balance("gold").free === 100);

      const bought = await player.request<PurchaseHold>("buy", { item: "sword", qty: 1 });
      const held = await until(progression, "the sword's hold", (state) => state.holds.some((hold) => hold.holdId === bought.holdId));
      expect(held.holds).toEqual([{ holdId: bought.holdId, item: "gold", quantity: 50, expiresAt: bought.expiresAt, state: "held" }]);
      expect(progression.balance("gold")).toEqual({ item: "gold", free: 50, held: 50 });

      await player.request("confirm", { holdId: bought.holdId });
      await until(progression, "the confirmed hold gone", (state) => state.holds.length === 0);
      await until(progression, "the sword", () => progression.balance("sword").free === 1);
      expect(progression.balance("gold")).toEqual({ item: "gold", free: 50, held: 0 });

      const second = await player.request<PurchaseHold>("buy", { item: "elixir", qty: 1 });
      await until(progression, "the elixir's hold", (state) => state.holds.some((hold) => hold.holdId === second.holdId));
      await player.request("cancel", { holdId: second.holdId });
      await until(progression, "the cancelled hold gone", (state) => state.holds.length === 0);
      expect(progression.balance("gold")).toEqual({ item: "gold", free: 50, held: 0 });
    });

    it("a hold that runs out leaves state.holds with a hold-expired event; a rejoin's snapshot lists open holds", async () => {
      const { playerId, player, progression } = await attached("expiry");
      await player.request("loot", { item: "gold", qty: 20 });
      const bought = await player.request<PurchaseHold>("buy", { item: "potion", qty: 2 });
      await until(progression, "the potion's hold", (state) => state.holds.some((hold) => hold.holdId === bought.holdId));

      // A second client of the player, joining while the hold is open, gets it from its snapshot.
      const other = await arena.joinNewRoom(playerId);
      const otherProgression = attachProgression(other.room);
      await otherProgression.ready;
      expect(otherProgression.state.holds).toEqual([expect.objectContaining({ holdId: bought.holdId, item: "gold", quantity: 10, state: "held" })]);

      const expired = collect(progression, "hold-expired");
      await until(progression, "the expired hold gone", (state) => state.holds.length === 0, 10_000);
      expect(expired).toEqual([expect.objectContaining({ holdId: bought.holdId, quantity: 10 })]);
      await until(progression, "the gold free again", () => progression.balance("gold").free === 20 && progression.balance("gold").held === 0);
      await until(otherProgression, "the other client's hold gone too", (state) => state.holds.length === 0);
      await other.leave();
    });

    it("resync() replaces the state with a fresh snapshot", async () => {
      const { progression } = await attached("resync");
      const snapshots = collect(progression, "snapshot");
      const state = await progression.resync();
      expect(snapshots).toHaveLength(1);
      expect(state).toBe(progression.state);
      expect(state.milestones).toHaveLength(snapshots[0]?.milestones.length ?? -1);
    });

    it("re-syncs after the SDK reconnects a dropped connection: progress made meanwhile shows", async () => {
      const { playerId, player, progression } = await attached("reconnect");
      const room = player.room;
      const requests: string[] = [];
      const request = room.request.bind(room);
      room.request = ((type: string, payload?: unknown) => {
        requests.push(type);
        return request(type, payload);
      }) as typeof room.request;
      // Reconnect at once: the SDK waits 5 s of uptime and 100 ms+ between attempts by default.
      room.reconnection.minUptime = 0;
      room.reconnection.minDelay = 10;
      room.reconnection.delay = 10;
      const reconnected = new Promise<void>((resolve) => room.onReconnect.once(resolve));

      // The connection drops (a code the SDK may reconnect after); the server keeps the seat.
      room.connection.close(4010, "network lost");
      const elsewhere = await arena.joinNewRoom(playerId);
      kill(elsewhere, 10);
      await settle(arena.host, elsewhere);

      await reconnected;
      await until(progression, "slayer_10 completed after the reconnection", () => progression.milestone("slayer_10")?.status === "completed");
      expect(requests).toContain("progression:resync");
      // Its reward may come in the inventory push that follows the unlock push (or with the snapshot).
      await until(progression, "slayer_10's gold after the reconnection", () => progression.balance("gold").free === 10);
      await elsewhere.leave();
    });

    it("emits a preview push without changing the state, and rejections of sent messages", async () => {
      const { playerId, player, progression } = await attached("preview");
      const previews = collect(progression, "preview");
      const changes = collect(progression, "change");
      const rejections = collect(progression, "rejected");
      const before = progression.state;

      expect(arena.host.preview(playerId, "slayer_1000").clients).toBe(1);
      player.send("kill", { creature: "unicorn" });
      await settle(arena.host, player);
      await until(progression, "the preview and the rejection", () => previews.length === 1 && rejections.length === 1);

      expect(previews[0]).toMatchObject({ code: "slayer_1000", preview: true, animation: { kind: "webm", src: "animations/slayer_gold.webm" } });
      expect(rejections[0]).toMatchObject({ type: "kill", code: "INVALID_INPUT" });
      expect(changes).toEqual([]);
      expect(progression.state).toBe(before);
      expect(progression.milestone("slayer_1000")?.status).toBe("in_progress");
    });

    it("detach() stops following the room", async () => {
      const { player, progression } = await attached("detach");
      progression.detach();
      const unlocked = new Promise((resolve) => player.room.onMessage("progression:unlocked", resolve));
      kill(player, 1);
      await unlocked;
      expect(progression.milestone("first_blood")?.status).toBe("in_progress");
    });
  });
});
