import type { Animation, Reward } from "./milestone.ts";

/** What a client needs to celebrate an unlock: resolved texts, icon, animation. */
export interface UnlockPayload {
  readonly subject: string;
  readonly code: string;
  readonly title: string;
  readonly description: string;
  readonly icon: string;
  readonly animation: Animation;
  /** Time of the event that earned it (epoch ms). */
  readonly earnedAt: number;
  /** Awarded by catch-up, for progress made before the milestone existed or was active. */
  readonly retroactive: boolean;
  readonly rewards: readonly Reward[];
  /** Already claimed (autoClaim milestones are claimed as they unlock). */
  readonly claimed: boolean;
  readonly locale: string;
}
