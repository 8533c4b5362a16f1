import type { LiveCounter } from "../../counters/counter-kinds.ts";
import type { AwardRecord } from "../../model/award.ts";
import type { HoldRecord } from "../../model/hold.ts";
import { emptyHistory, type MemoryHistory } from "./memory-history.ts";

export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly result: unknown;
  readonly expiresAt: number;
}

/** Everything the memory backend knows about one subject. */
export interface MemorySubject {
  readonly counters: Map<string, LiveCounter>;
  readonly awards: Map<string, AwardRecord>;
  /** The last batch ids applied, oldest first (at most RECENT_BATCHES). */
  readonly recentBatches: string[];
  /** Event/increment id -> time it stops being remembered. */
  readonly seenEvents: Map<string, number>;
  readonly free: Map<string, number>;
  readonly held: Map<string, number>;
  /** Open holds and settled ones still remembered, by hold id. */
  readonly holds: Map<string, { record: HoldRecord; forgetAt: number }>;
  readonly idempotency: Map<string, IdempotencyRecord>;
  readonly history: MemoryHistory;
}

export const RECENT_BATCHES = 16;

export function emptySubject(): MemorySubject {
  return {
    counters: new Map(),
    awards: new Map(),
    recentBatches: [],
    seenEvents: new Map(),
    free: new Map(),
    held: new Map(),
    holds: new Map(),
    idempotency: new Map(),
    history: emptyHistory(),
  };
}
