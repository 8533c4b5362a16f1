import type { DomainEventBus } from "../events/domain-event-bus.ts";
import type { DomainTopics } from "../events/domain-topics.ts";
import type { Effects, EffectsCause } from "../model/effects.ts";
import { AWARDED_FROM_HISTORY } from "../model/award-provenance.ts";
import type { EffectsListener } from "./effects-stream.ts";

type InventoryCause = DomainTopics["inventory.changed"]["cause"];

/** `inventory.changed` names the ledger operation; an apply changes balances only through autoClaim. */
const inventoryCauses: Readonly<Record<EffectsCause, InventoryCause>> = {
  apply: "claim",
  backfill: "claim",
  claim: "claim",
  acquire: "acquire",
  consume: "consume",
  transfer: "transfer",
  hold: "hold",
  commit: "commit",
  release: "release",
  expire: "expire",
};

/**
 * The domain events of a change, from its effects: `milestone.reached`, `reward.claimed`,
 * `inventory.changed` and `hold.expired`. Each carries an idempotency key naming the fact, the same
 * on every emission of it. A replayed mutation emits only the expiries it really performed.
 */
export function domainEventsOf(bus: DomainEventBus): EffectsListener {
  return (effects: Effects) => {
    for (const subject of effects.subjects) {
      for (const hold of subject.expiredHolds) {
        bus.emit("hold.expired", `hold.expired:${hold.holdId}`, { hold }, hold.settledAt ?? hold.expiresAt);
      }
      if (effects.replayed) continue;
      for (const award of subject.reached) {
        bus.emit(
          "milestone.reached",
          `milestone.reached:${subject.subject}:${award.code}`,
          { subject: subject.subject, code: award.code, earnedAt: award.earnedAt, retroactive: award.retroactive, awardedAt: effects.at, awardedBy: awardedByOf(effects) },
          award.earnedAt,
        );
      }
      for (const claimed of subject.claimed) {
        bus.emit(
          "reward.claimed",
          `reward.claimed:${subject.subject}:${claimed.code}`,
          { subject: subject.subject, code: claimed.code, rewards: claimed.rewards, claimedAt: claimed.claimedAt, auto: claimed.auto },
          claimed.claimedAt,
        );
      }
    }
    if (effects.replayed) return;
    const balances = effects.subjects.flatMap((subject) => subject.inventory);
    if (balances.length > 0) {
      const cause = inventoryCauses[effects.cause];
      bus.emit("inventory.changed", `inventory.changed:${cause}:${effects.key}`, { cause, balances, ...(effects.detail === undefined ? {} : { detail: effects.detail }) }, effects.at);
    }
  };
}

/** What made the awards of a change (`AwardProvenance.awardedBy`): the recorded batch (its key), or a backfill from history. */
export function awardedByOf(effects: Effects): string {
  return effects.cause === "backfill" ? AWARDED_FROM_HISTORY : effects.key;
}
