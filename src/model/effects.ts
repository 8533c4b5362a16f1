import type { AwardRecord } from "./award.ts";
import type { Balance } from "./balance.ts";
import type { HoldRecord } from "./hold.ts";
import type { Reward } from "./milestone.ts";
import type { ProgressUpdate } from "./progress.ts";

/** A milestone claimed in this change, with what it granted. */
export interface ClaimedMilestone {
  readonly code: string;
  readonly rewards: readonly Reward[];
  readonly claimedAt: number;
  /** Claimed by autoClaim as it was reached. */
  readonly auto: boolean;
}

/** What one change did to one subject. */
export interface SubjectEffects {
  readonly subject: string;
  /** Newly awarded milestones, in the order earned. */
  readonly reached: readonly AwardRecord[];
  readonly claimed: readonly ClaimedMilestone[];
  /** Current/target of visible, unreached milestones whose counters moved. */
  readonly progress: readonly ProgressUpdate[];
  /** Balances after the change, for every item it changed (including holds it found expired). */
  readonly inventory: readonly Balance[];
  /** Holds this change found past their expiry and released (each reported once, by whoever released it). */
  readonly expiredHolds: readonly HoldRecord[];
  /**
   * Holds this change opened (hold) or settled (commit, release), in their state after it; holds it
   * found expired are in `expiredHolds` only.
   */
  readonly holds: readonly HoldRecord[];
}

/** What caused a change. */
export type EffectsCause = "apply" | "backfill" | "claim" | "acquire" | "consume" | "transfer" | "hold" | "commit" | "release" | "expire";

/**
 * The engine's one announcement of a state change: client pushes and domain events are both derived
 * from it, so each change is announced exactly once on each channel.
 */
export interface Effects {
  readonly cause: EffectsCause;
  /** Names the change: a batch id, or the subject and idempotency key of a mutation, or hold ids. */
  readonly key: string;
  readonly at: number;
  /**
   * A retry of a mutation that had already happened (same idempotency key): nothing changed now,
   * except holds it found expired. Pushes repeat the states; domain events are not repeated.
   */
  readonly replayed: boolean;
  readonly subjects: readonly SubjectEffects[];
  /** What the change was, for people (the ledger journal): "claim of first_blood", "transfer of 5 gold from a to b". */
  readonly detail?: string;
}

export function noEffectsFor(subject: string): SubjectEffects {
  return { subject, reached: [], claimed: [], progress: [], inventory: [], expiredHolds: [], holds: [] };
}
