import type { Balance } from "../src/model/balance.ts";
import type { MilestoneProgress } from "../src/model/progress.ts";
import type {
  ClaimResponse,
  HoldExpiredMessage,
  InventoryMessage,
  ProgressMessage,
  SnapshotMessage,
  UnlockedMessage,
} from "../src/protocol/client-messages.ts";

/**
 * The player's progression as the client knows it: the snapshot's shape, kept up to date by every push
 * (subject and locale are "" until the first snapshot). Each change makes a new state object (the arrays
 * too), so a UI can compare references to know what to re-render.
 */
export type ProgressionState = SnapshotMessage;

export const emptyProgressionState: ProgressionState = { subject: "", locale: "", milestones: [], inventory: [], holds: [] };

export function stateFromSnapshot(snapshot: SnapshotMessage): ProgressionState {
  return {
    subject: snapshot.subject,
    locale: snapshot.locale,
    milestones: [...snapshot.milestones],
    inventory: [...snapshot.inventory],
    // A server without hold support sends none.
    holds: (snapshot.holds ?? []).filter((hold) => hold.state === "held"),
  };
}

/**
 * An unlock completes the milestone (claimed if it came claimed, e.g. autoClaim) and reveals a hidden one;
 * milestones that require it see it awarded (the last one unlocks them).
 */
export function applyUnlock(state: ProgressionState, unlock: UnlockedMessage): ProgressionState {
  const reached = updateMilestone(state, unlock.code, (milestone) => ({
    ...milestone,
    masked: false,
    title: unlock.title,
    description: unlock.description,
    icon: unlock.icon,
    animation: unlock.animation,
    // A revealed hidden milestone had its numbers masked (0/0); the next snapshot brings them.
    current: Math.max(milestone.current, milestone.target),
    status: unlock.claimed ? "claimed" : milestone.status === "claimed" ? "claimed" : "completed",
    earnedAt: unlock.earnedAt,
    claimedAt: unlock.claimed ? (milestone.claimedAt ?? unlock.earnedAt) : milestone.claimedAt,
    retroactive: unlock.retroactive,
    rewards: unlock.rewards,
    // The snapshot's place knows which later tiers the player holds; a revealed hidden one has only the unlock's.
    series: milestone.masked ? (unlock.series ?? null) : milestone.series,
    // The unlock's rarity is the newer one.
    rarity: unlock.rarity === undefined ? milestone.rarity : unlock.rarity,
  }));
  return markRequirementMet(reached, unlock.code);
}

function markRequirementMet(state: ProgressionState, code: string): ProgressionState {
  let milestones: MilestoneProgress[] | undefined;
  state.milestones.forEach((milestone, index) => {
    // A server that predates preconditions sends no `requires`.
    if (!(milestone.requires ?? []).some((required) => required.code === code && !required.awarded)) return;
    milestones ??= [...state.milestones];
    milestones[index] = { ...milestone, requires: milestone.requires.map((required) => (required.code === code ? { ...required, awarded: true } : required)) };
  });
  return milestones === undefined ? state : { ...state, milestones };
}

/** Progress moves the numbers only: a stale update never takes a reached milestone back. */
export function applyProgress(state: ProgressionState, progress: ProgressMessage): ProgressionState {
  return updateMilestone(state, progress.code, (milestone) =>
    milestone.status === "in_progress" ? { ...milestone, current: progress.current, target: progress.target } : milestone,
  );
}

/** New balances replace the old ones by item; holds in state "held" are added, settled ones removed. */
export function applyInventory(state: ProgressionState, inventory: InventoryMessage): ProgressionState {
  const withBalances = applyBalances(state, inventory.balances);
  if (inventory.holds === undefined || inventory.holds.length === 0) return withBalances;
  let holds = withBalances.holds;
  for (const hold of inventory.holds) {
    const others = holds.filter((open) => open.holdId !== hold.holdId);
    holds = hold.state === "held" ? [...others, hold] : others;
  }
  return { ...withBalances, holds };
}

export function applyHoldExpired(state: ProgressionState, expired: HoldExpiredMessage): ProgressionState {
  if (!state.holds.some((hold) => hold.holdId === expired.holdId)) return state;
  return { ...state, holds: state.holds.filter((hold) => hold.holdId !== expired.holdId) };
}

/** A claim's answer: the milestone is claimed, the rewards are in the balances it returned. */
export function applyClaim(state: ProgressionState, claim: ClaimResponse): ProgressionState {
  const claimed = updateMilestone(state, claim.code, (milestone) => ({ ...milestone, status: "claimed", claimedAt: claim.claimedAt }));
  return applyBalances(claimed, claim.balances);
}

function applyBalances(state: ProgressionState, balances: readonly Balance[]): ProgressionState {
  // A trade's push may carry the other party's balance too; the state keeps this player's only.
  const own = balances.filter((balance) => state.subject === "" || balance.subject === state.subject);
  if (own.length === 0) return state;
  const inventory = [...state.inventory];
  for (const balance of own) {
    const index = inventory.findIndex((known) => known.item === balance.item);
    if (index === -1) inventory.push(balance);
    else inventory[index] = balance;
  }
  return { ...state, inventory };
}

function updateMilestone(state: ProgressionState, code: string, update: (milestone: MilestoneProgress) => MilestoneProgress): ProgressionState {
  const index = state.milestones.findIndex((milestone) => milestone.code === code);
  const current = state.milestones[index];
  // Unknown codes (e.g. a milestone added by a reload after the snapshot) wait for the next snapshot.
  if (current === undefined) return state;
  const updated = update(current);
  if (updated === current) return state;
  const milestones = [...state.milestones];
  milestones[index] = updated;
  return { ...state, milestones };
}
