import { describe, expect, it } from "vitest";
import { applyHoldExpired, applyInventory, applyProgress, applyUnlock, stateFromSnapshot } from "../../client/progression-state.ts";
import type { MilestoneProgress } from "../../src/model/progress.ts";
import type { HoldView, SnapshotMessage } from "../../src/protocol/client-messages.ts";

/** The state rules that a live server rarely shows on cue: stale pushes, other players' balances, settled holds. */
const milestone = (code: string, overrides: Partial<MilestoneProgress> = {}): MilestoneProgress => ({
  code,
  masked: false,
  title: code,
  description: "",
  icon: `icons/${code}.svg`,
  animation: { kind: "confetti" },
  current: 0,
  target: 10,
  status: "in_progress",
  earnedAt: null,
  claimedAt: null,
  retroactive: false,
  rewards: [],
  ...overrides,
});
const hold = (holdId: string, state: HoldView["state"] = "held"): HoldView => ({ holdId, item: "gold", quantity: 5, expiresAt: 1_000, state });
const snapshot: SnapshotMessage = {
  subject: "p1",
  locale: "en",
  milestones: [milestone("slayer_10"), milestone("secret", { masked: true, title: "???", target: 0 })],
  inventory: [{ subject: "p1", item: "gold", free: 10, held: 5 }],
  holds: [hold("h1")],
};

describe("the client state", () => {
  it("a progress update never takes a reached milestone back, and makes no new state when nothing moved", () => {
    const reached = applyUnlock(stateFromSnapshot(snapshot), {
      code: "slayer_10", title: "Slayer I", description: "", icon: "i.svg", animation: { kind: "confetti" }, earnedAt: 5, retroactive: false, rewards: [], claimed: false,
    });
    expect(reached.milestones[0]).toMatchObject({ status: "completed", current: 10 });
    expect(applyProgress(reached, { code: "slayer_10", current: 9, target: 10 })).toBe(reached);
    expect(applyProgress(reached, { code: "unknown", current: 1, target: 2 })).toBe(reached);
  });

  it("an unlock reveals a hidden milestone's texts; an autoClaim one comes claimed", () => {
    const state = applyUnlock(stateFromSnapshot(snapshot), {
      code: "secret", title: "Rat Whisperer", description: "Befriend rats", icon: "icons/rat.svg", animation: { kind: "custom", name: "rats" }, earnedAt: 7, retroactive: true, rewards: [{ item: "gold", quantity: 5 }], claimed: true,
    });
    expect(state.milestones[1]).toMatchObject({ masked: false, title: "Rat Whisperer", status: "claimed", claimedAt: 7, earnedAt: 7, retroactive: true, animation: { kind: "custom", name: "rats" } });
  });

  it("keeps only this player's balances (a trade's push can carry the other party's)", () => {
    const state = applyInventory(stateFromSnapshot(snapshot), {
      balances: [{ subject: "p2", item: "gold", free: 99, held: 0 }, { subject: "p1", item: "gem", free: 1, held: 0 }],
    });
    expect(state.inventory).toEqual([{ subject: "p1", item: "gold", free: 10, held: 5 }, { subject: "p1", item: "gem", free: 1, held: 0 }]);
  });

  it("adds held holds, drops settled and expired ones", () => {
    let state = applyInventory(stateFromSnapshot(snapshot), { balances: [], holds: [hold("h2")] });
    expect(state.holds.map((open) => open.holdId)).toEqual(["h1", "h2"]);
    state = applyInventory(state, { balances: [], holds: [hold("h1", "committed")] });
    expect(state.holds.map((open) => open.holdId)).toEqual(["h2"]);
    state = applyHoldExpired(state, { holdId: "h2", item: "gold", quantity: 5, expiresAt: 1_000 });
    expect(state.holds).toEqual([]);
    expect(applyHoldExpired(state, { holdId: "h2", item: "gold", quantity: 5, expiresAt: 1_000 })).toBe(state);
  });
});
