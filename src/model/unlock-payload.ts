import type { Animation, Reward } from "./milestone.ts";
import type { Rarity } from "./rarity.ts";
import type { SeriesPosition } from "./series-position.ts";

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
  /**
   * Its place in its series, or null. The engine does not know here which other tiers the player holds, so a
   * hidden next tier is always masked.
   */
  readonly series?: SeriesPosition | null;
  /** How rare it is among active players ("earned by 3.2% of players"); null or absent when unknown. */
  readonly rarity?: Rarity | null;
}
