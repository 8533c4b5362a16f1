import type { UnlockPayload } from "../src/model/unlock-payload.ts";
import type { PreviewMessage, UnlockedMessage } from "../src/protocol/client-messages.ts";

/** The engine's unlock payload without what the client already knows (its subject and locale). */
export function unlockMessageOf(unlock: UnlockPayload): UnlockedMessage {
  return {
    code: unlock.code,
    title: unlock.title,
    description: unlock.description,
    icon: unlock.icon,
    animation: unlock.animation,
    earnedAt: unlock.earnedAt,
    retroactive: unlock.retroactive,
    rewards: unlock.rewards,
    claimed: unlock.claimed,
    // Left out when there is none: every push stays as small as before for milestones without them.
    ...(unlock.series != null && { series: unlock.series }),
    ...(unlock.rarity != null && { rarity: unlock.rarity }),
  };
}

/** How `unlock` would look to the player, marked as a preview; `earnedAt` is when the admin sent it. */
export function previewMessageOf(unlock: UnlockPayload, earnedAt: number): PreviewMessage {
  return { ...unlockMessageOf(unlock), earnedAt, retroactive: false, claimed: false, preview: true };
}
