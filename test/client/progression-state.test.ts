import { describe, expect, it } from "vitest";
import { applyHoldExpired, applyInventory, applyProgress, applyUnlock, stateFromSnapshot } from "../../client/progression-state.ts";
import { defaultPresenterLabels, rarityText, seriesText } from "../../client/unlock-presenter.ts";
import type { MilestoneProgress } from "../../src/model/progress.ts";
import type { Rarity } from "../../src/model/rarity.ts";
import type { HoldView, SnapshotMessage, UnlockedMessage } from "../../src/protocol/client-messages.ts";

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
  series: null,
  requires: [],
  availableFrom: null,
  availableUntil: null,
  rarity: null,
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

const unlocked = (code: string, overrides: Partial<UnlockedMessage> = {}): UnlockedMessage => ({
  code, title: code, description: "", icon: "i.svg", animation: { kind: "confetti" }, earnedAt: 5, retroactive: false, rewards: [], claimed: false, ...overrides,
});
const rarity = (percent: number, holders: number, activePlayers: number): Rarity => ({ percent, holders, activePlayers, windowDays: 30 });

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

  it("an unlock marks it awarded in every milestone that requires it; the last one unlocks the dependent", () => {
    const champion = milestone("champion", {
      requires: [
        { code: "slayer_10", title: "Slayer I", awarded: false },
        { code: "first_blood", title: "First Blood", awarded: true },
      ],
    });
    const state = stateFromSnapshot({ ...snapshot, milestones: [...snapshot.milestones, champion] });
    const next = applyUnlock(state, unlocked("slayer_10"));
    expect(next.milestones[2]?.requires).toEqual([
      { code: "slayer_10", title: "Slayer I", awarded: true },
      { code: "first_blood", title: "First Blood", awarded: true },
    ]);
    // Nothing requires "secret": the other milestones stay the same objects.
    const revealed = applyUnlock(next, unlocked("secret"));
    expect(revealed.milestones[2]).toBe(next.milestones[2]);
  });

  it("keeps the snapshot's series place, takes a revealed hidden one's from the unlock, and the newer rarity", () => {
    const place = { id: "slayer", order: 1, of: 3, next: { masked: false, code: "slayer_100", title: "Slayer II", target: 100 } } as const;
    const state = stateFromSnapshot({ ...snapshot, milestones: [milestone("slayer_10", { series: place, rarity: rarity(3, 3, 100) }), milestone("secret", { masked: true })] });
    // The unlock's own place masks a hidden next tier it cannot know about; the snapshot's is kept.
    const reached = applyUnlock(state, unlocked("slayer_10", { series: { ...place, next: { masked: true } }, rarity: rarity(4, 4, 100) }));
    expect(reached.milestones[0]).toMatchObject({ series: place, rarity: rarity(4, 4, 100) });
    // Absent from the push (unknown): the snapshot's rarity stays.
    expect(applyUnlock(state, unlocked("slayer_10")).milestones[0]?.rarity).toEqual(rarity(3, 3, 100));
    const secretPlace = { id: "rats", order: 2, of: 2, next: null };
    expect(applyUnlock(state, unlocked("secret", { series: secretPlace })).milestones[1]).toMatchObject({ masked: false, series: secretPlace });
    expect(applyUnlock(state, unlocked("secret")).milestones[1]?.series).toBeNull();
  });
});

describe("the presenter's series and rarity lines", () => {
  it("say the tier, the next one (or that it is hidden), nothing outside a series", () => {
    expect(seriesText({ id: "slayer", order: 2, of: 3, next: { masked: false, code: "slayer_1000", title: "Slayer III", target: 1000 } })).toBe("Tier 2 of 3 · next: Slayer III (1000)");
    expect(seriesText({ id: "slayer", order: 2, of: 3, next: { masked: true } })).toBe("Tier 2 of 3 · next: a hidden tier");
    expect(seriesText({ id: "slayer", order: 3, of: 3, next: null })).toBe("Tier 3 of 3");
    expect(seriesText(null)).toBe("");
    expect(seriesText(undefined)).toBe("");
    const german = { ...defaultPresenterLabels, seriesTier: "Stufe {order} von {of}", seriesNext: "als Nächstes: {title} ({target}) {unknown}" };
    expect(seriesText({ id: "s", order: 1, of: 2, next: { masked: false, code: "b", title: "B", target: 5 } }, german)).toBe("Stufe 1 von 2 · als Nächstes: B (5) {unknown}");
  });

  it("say how many active players hold it, only when the server knows and someone was active", () => {
    expect(rarityText(rarity(3.2, 32, 1000))).toBe("Earned by 3.2% of players");
    expect(rarityText(rarity(100, 7, 7))).toBe("Earned by 100% of players");
    // Held, but rounded to 0.
    expect(rarityText(rarity(0, 1, 100_000))).toBe("Earned by <0.1% of players");
    expect(rarityText(rarity(0, 0, 10))).toBe("Earned by 0% of players");
    expect(rarityText(rarity(0, 0, 0))).toBe("");
    expect(rarityText(null)).toBe("");
    expect(rarityText(undefined)).toBe("");
  });
});
