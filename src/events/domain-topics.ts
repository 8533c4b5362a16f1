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
}

export type DomainTopic = keyof DomainTopics;

export const domainTopics: readonly DomainTopic[] = [
  "milestone.reached",
  "reward.claimed",
  "hold.expired",
  "inventory.changed",
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
