import { describe, expect, it } from "vitest";
import type { MilestoneProgress, ProgressUpdate } from "../../src/model/progress.ts";
import type { InventoryMessage, SnapshotMessage, UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { newPlayerId, settle, type TestClient } from "./support/arena-server.ts";
import { useTwoProcesses } from "./support/two-processes.ts";

/**
 * Push routing per player between two server processes on one Redis (store and presence): this test's
 * process and a spawned one. The pushes of a player held by one process only are not published; they must
 * still reach a client that joins on the other process, and a player whose only client is elsewhere.
 */
const two = useTwoProcesses("xroute", { progressIntervalMs: 0 });
const { joinedOther, joinedHere } = two;

/** What a client last learned of `code`'s count: its snapshot, then the progress pushes after it, in order. */
function knownCount(client: TestClient, code: string): number | undefined {
  let known: number | undefined;
  for (const { type, payload } of client.received) {
    if (type === "progression:snapshot") known = (payload as SnapshotMessage).milestones.find((milestone: MilestoneProgress) => milestone.code === code)?.current;
    if (type === "progression:progress" && (payload as ProgressUpdate).code === code) known = (payload as ProgressUpdate).current;
  }
  return known;
}

describe("push routing per player across two processes", () => {
  it("a client that joins on the other process while kills flow here gets every push after its snapshot, the unlock included", async () => {
    const playerId = newPlayerId("xroute-join");
    const first = await joinedHere(playerId);
    let joining: Promise<TestClient> | undefined;
    for (let kill = 1; kill <= 8; kill += 1) {
      first.send("kill", { creature: "goblin" });
      if (kill === 3) joining = joinedOther(playerId); // joins while the next kills are applied and pushed
      await first.roundTrip();
    }
    const second = await (joining as Promise<TestClient>);
    const snapshot = second.messages<SnapshotMessage>("progression:snapshot")[0];
    expect(snapshot?.milestones.find((milestone) => milestone.code === "slayer_10")?.status).toBe("in_progress");
    for (let kill = 9; kill <= 30; kill += 1) first.send("kill", { creature: "goblin" });
    await settle(two.here.host, first);

    // Only this process recorded: the other one's client hears it through routing (this process holds
    // the player too, so it had to learn that the other one joined).
    await expect.poll(() => knownCount(second, "slayer_100"), { timeout: 5_000, interval: 5 }).toBe(30);
    await second.waitFor<UnlockedMessage>("progression:unlocked", (unlock) => unlock.code === "slayer_10");
    expect(second.messages<UnlockedMessage>("progression:unlocked").filter((unlock) => unlock.code === "slayer_10")).toHaveLength(1);
    expect(first.messages<UnlockedMessage>("progression:unlocked").filter((unlock) => unlock.code === "slayer_10")).toHaveLength(1);
    await second.leave();
  });

  it("a trade reaches the receiver whose only client is on the other process", async () => {
    const sender = newPlayerId("xroute-from");
    const receiver = newPlayerId("xroute-to");
    const from = await joinedHere(sender);
    const to = await joinedOther(receiver);
    await to.request("loot", { item: "gold", qty: 1 }); // the store knows the receiver now
    await from.request("loot", { item: "gold", qty: 50 });
    await from.request("trade", { to: receiver, item: "gold", qty: 10 });
    const pushed = await to.waitFor<InventoryMessage>("progression:inventory", (message) => message.balances.some((balance) => balance.item === "gold" && balance.free === 11), 5_000);
    expect(pushed.balances).toContainEqual(expect.objectContaining({ subject: receiver, item: "gold", free: 11 }));
    await to.leave();
  });
});
