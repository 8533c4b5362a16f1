import type { Animation, Reward } from "./milestone.ts";
import type { Rarity } from "./rarity.ts";
import type { SeriesPosition } from "./series-position.ts";

export type MilestoneStatus = "in_progress" | "completed" | "claimed";

/** One milestone as a player sees it (snapshot): texts in their locale, numbers as displayed. */
export interface MilestoneProgress {
  readonly code: string;
  /** True for a hidden milestone not reached yet: texts, icon and numbers are masked. */
  readonly masked: boolean;
  readonly title: string;
  readonly description: string;
  readonly icon: string;
  readonly animation: Animation;
  readonly current: number;
  readonly target: number;
  readonly status: MilestoneStatus;
  readonly earnedAt: number | null;
  readonly claimedAt: number | null;
  readonly retroactive: boolean;
  readonly rewards: readonly Reward[];
  /** Its place in its series (`series` in the definition), or null; null while masked. */
  readonly series: SeriesPosition | null;
  /**
   * Its preconditions (`requires`), in definition order, each with whether the player holds it: a milestone
   * that is not reached and has one not awarded is locked. Empty while masked.
   */
  readonly requires: readonly RequiredMilestone[];
  /** A seasonal milestone's period (epoch ms, from inclusive, until exclusive); null when open-ended or masked. */
  readonly availableFrom: number | null;
  readonly availableUntil: number | null;
  /** How rare it is among active players; null when unknown or masked. */
  readonly rarity: Rarity | null;
}

/** One precondition of a milestone, as the player sees it. */
export interface RequiredMilestone {
  readonly code: string;
  /** Its title in the snapshot's locale (the hidden-milestone title while that one is masked). */
  readonly title: string;
  readonly awarded: boolean;
}

/** Current/target of a visible, unreached milestone whose counter moved. */
export interface ProgressUpdate {
  readonly code: string;
  readonly current: number;
  readonly target: number;
}
