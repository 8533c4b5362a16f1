import type { HoldRecord } from "../../model/hold.ts";
import type { AwardRecord } from "../../model/award.ts";
import type { CounterState } from "../../model/counter-state.ts";

/** Mutable per-counter state of the memory backend (the Redis backend keeps the same in hashes). */
export type MemoryCounter =
  | { kind: "sum"; value: number; at: number }
  | { kind: "window"; buckets: Map<number, number>; at: number }
  | { kind: "days"; days: Set<number>; lastDay: number; at: number }
  | { kind: "gap"; last: number; maxGap: number; maxGapAt: number };

export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly result: unknown;
  readonly expiresAt: number;
}

/** Everything the memory backend knows about one subject. */
export interface MemorySubject {
  readonly counters: Map<string, MemoryCounter>;
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
  };
}

export function counterStateOf(counter: MemoryCounter): CounterState {
  switch (counter.kind) {
    case "sum":
      return { kind: "sum", value: counter.value, at: counter.at };
    case "window":
      return { kind: "window", buckets: new Map(counter.buckets), at: counter.at };
    case "days":
      return { kind: "days", value: counter.days.size, lastDay: counter.lastDay, at: counter.at };
    case "gap":
      return { kind: "gap", last: counter.last, maxGap: counter.maxGap, maxGapAt: counter.maxGapAt };
  }
}

/**
 * Rebuilds mutable state from a snapshot. A `days` snapshot keeps only the count and the last day,
 * so the restored set holds placeholder days below the last one: the count stays exact and a late
 * event on an old day may be counted again (documented restore limitation).
 */
export function counterFromState(state: CounterState): MemoryCounter {
  switch (state.kind) {
    case "sum":
      return { kind: "sum", value: state.value, at: state.at };
    case "window":
      return { kind: "window", buckets: new Map(state.buckets), at: state.at };
    case "days": {
      const days = new Set<number>();
      for (let i = 0; i < state.value; i += 1) days.add(state.lastDay - i);
      return { kind: "days", days, lastDay: state.lastDay, at: state.at };
    }
    case "gap":
      return { kind: "gap", last: state.last, maxGap: state.maxGap, maxGapAt: state.maxGapAt };
  }
}
