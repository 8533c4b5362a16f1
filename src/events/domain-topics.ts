import type { Reward } from "../model/milestone.ts";
import type { HoldRecord } from "../model/hold.ts";
import type { Balance } from "../model/balance.ts";

/** The typed topics listeners can subscribe to, and their payloads. Payloads are plain JSON data. */
export interface DomainTopics {
  "milestone.reached": {
    readonly subject: string;
    readonly code: string;
    readonly earnedAt: number;
    readonly retroactive: boolean;
    /** When it was written and what made it (`AwardProvenance`); absent in receipts of older versions. */
    readonly awardedAt?: number | undefined;
    readonly awardedBy?: string | undefined;
  };
  "reward.claimed": {
    readonly subject: string;
    readonly code: string;
    readonly rewards: readonly Reward[];
    readonly claimedAt: number;
    /** Claimed automatically on unlock (autoClaim). */
    readonly auto: boolean;
  };
  "hold.expired": { readonly hold: HoldRecord };
  "inventory.changed": {
    readonly cause: "acquire" | "consume" | "transfer" | "hold" | "commit" | "release" | "expire" | "claim";
    readonly balances: readonly Balance[];
    /** What the change was, e.g. "claim of first_blood", "transfer of 5 gold from a to b" (the ledger journal keeps it). */
    readonly detail?: string;
  };
  /**
   * An event passed one of its trigger's stat guards and was not applied (docs/semantics.md, "Stat guards"):
   * a game can act on cheaters from here.
   */
  "progression.suspicious": {
    readonly subject: string;
    /** The event type (trigger) whose guard it passed. */
    readonly trigger: string;
    /** "maxAmount": one event carried more; "maxPerWindow": the subject's window would have passed its limit. */
    readonly guard: "maxAmount" | "maxPerWindow";
    /** The guard's limit: the most per event, or the most per window. */
    readonly limit: number;
    /** For "maxPerWindow": the window's length (windows are aligned to the epoch). */
    readonly windowMs?: number;
    /** The offending value: the event's amount, or what the window would have reached. */
    readonly value: number;
    /** When it was refused (the event's time for maxAmount, the apply's for maxPerWindow). */
    readonly at: number;
  };
}

export type DomainTopic = keyof DomainTopics;

export const domainTopics: readonly DomainTopic[] = [
  "milestone.reached",
  "reward.claimed",
  "hold.expired",
  "inventory.changed",
  "progression.suspicious",
];

/** What a listener receives: the payload plus what it needs to tell a retry from a new event. */
export interface DomainEnvelope<T extends DomainTopic = DomainTopic> {
  /** Unique per emitted event; stable across delivery retries. */
  readonly id: string;
  readonly topic: T;
  /** Same for every emission of the same fact (e.g. "milestone.reached:<subject>:<code>"). */
  readonly idempotencyKey: string;
  readonly occurredAt: number;
  /** 1 on first delivery, then 2, 3... on retries. */
  readonly attempt: number;
  readonly payload: DomainTopics[T];
}
