import type { AwardRecord } from "../../model/award.ts";
import type { MemorySubject } from "./memory-subject.ts";

/**
 * The outbox of the embedded apply (docs/semantics.md, "Recording: exactly once"): what a batch did for a
 * subject, kept by batch id for as long as the id is in the subject's ring of recent batches, so a
 * duplicate answers it again. Only non-empty outcomes are kept. It lives beside the subject's state and
 * goes with it (erase drops the state object).
 */
export interface StoredOutcome {
  /** The awards as that apply made them (autoClaim ones with `claimedAt`). */
  readonly reached: readonly AwardRecord[];
  /** Items its autoClaim rewards credited. */
  readonly items: readonly string[];
}

const outboxes = new WeakMap<MemorySubject, Map<string, StoredOutcome>>();

export function keepOutcome(state: MemorySubject, batchId: string, outcome: StoredOutcome): void {
  if (outcome.reached.length === 0 && outcome.items.length === 0) return;
  let outbox = outboxes.get(state);
  if (outbox === undefined) {
    outbox = new Map();
    outboxes.set(state, outbox);
  }
  outbox.set(batchId, outcome);
}

export function storedOutcome(state: MemorySubject, batchId: string): StoredOutcome {
  return outboxes.get(state)?.get(batchId) ?? { reached: [], items: [] };
}

/** The batch left the ring: its outcome goes with it. */
export function forgetOutcome(state: MemorySubject, batchId: string): void {
  outboxes.get(state)?.delete(batchId);
}
