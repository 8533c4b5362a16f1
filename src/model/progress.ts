import type { Animation, Reward } from "./milestone.ts";

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
}

/** Current/target of a visible, unreached milestone whose counter moved. */
export interface ProgressUpdate {
  readonly code: string;
  readonly current: number;
  readonly target: number;
}
