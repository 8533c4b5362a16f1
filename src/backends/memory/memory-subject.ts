import type { LiveCounter } from "../../counters/counter-kinds.ts";
import type { AwardRecord } from "../../model/award.ts";
import type { HoldRecord } from "../../model/hold.ts";
import { HoldQueue } from "./hold-queue.ts";
import { emptyHistory, type MemoryHistory } from "./memory-history.ts";

export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly result: unknown;
  readonly expiresAt: number;
}

/**
 * What one apply did for a subject, kept while its batch id is in the subject's ring of recent batches, so
 * a duplicate of the batch (its first reply lost) answers it again (docs/semantics.md, "Recording: exactly
 * once"). Only non-empty outcomes are kept.
 */
export interface StoredOutcome {
  /** The awards as that apply made them (autoClaim ones with `claimedAt`). */
  readonly reached: readonly AwardRecord[];
  /** Items its autoClaim rewards credited. */
  readonly items: readonly string[];
}

/** Everything the memory backend knows about one subject. */
export interface MemorySubject {
  readonly counters: Map<string, LiveCounter>;
  readonly awards: Map<string, AwardRecord>;
  /** The last batch ids applied, oldest first (at most RECENT_BATCHES). */
  readonly recentBatches: string[];
  /** The outbox: non-empty outcomes of the batches in `recentBatches`, by batch id. */
  readonly outbox: Map<string, StoredOutcome>;
  /** Event/increment id -> time it stops being remembered. */
  readonly seenEvents: Map<string, number>;
  readonly free: Map<string, number>;
  readonly held: Map<string, number>;
  /** Open holds and settled ones still remembered, by hold id. */
  readonly holds: Map<string, { record: HoldRecord; forgetAt: number }>;
  /** The open holds (state "held") by expiry: lazy expiry looks at the due ones only. */
  readonly openHolds: HoldQueue;
  readonly idempotency: Map<string, IdempotencyRecord>;
  readonly history: MemoryHistory;
  /** Stat guards: per trigger, the window the subject last used and what it added up to there (memory-guards.ts). */
  readonly guardUsage: Map<string, { readonly window: number; readonly used: number }>;
  /** UTC day of its latest apply (rarity counts its awards under it); absent until its first apply. */
  lastActiveDay?: number;
}

export const RECENT_BATCHES = 16;

export function emptySubject(): MemorySubject {
  return {
    counters: new Map(),
    awards: new Map(),
    recentBatches: [],
    outbox: new Map(),
    seenEvents: new Map(),
    free: new Map(),
    held: new Map(),
    holds: new Map(),
    openHolds: new HoldQueue(),
    idempotency: new Map(),
    history: emptyHistory(),
    guardUsage: new Map(),
  };
}

/**
 * Whether the store has seen this subject: it has a balance, a hold, an award, a counter, an applied
 * batch, a history or a remembered ledger key. A state created only by a read has none of them.
 */
export function isKnownSubject(state: MemorySubject | undefined): boolean {
  if (state === undefined) return false;
  return (
    state.free.size > 0 ||
    state.held.size > 0 ||
    state.holds.size > 0 ||
    state.awards.size > 0 ||
    state.counters.size > 0 ||
    state.recentBatches.length > 0 ||
    state.history.parts.size > 0 ||
    state.history.completeFor !== null ||
    state.idempotency.size > 0
  );
}
