import { counterKind, type StoredCounter } from "../../counters/counter-kinds.ts";
import type { CounterState } from "../../model/counter-state.ts";

/**
 * A subject's counters as stored in `subjects.counters` (one json object keyed by counter id), and
 * their monotonic merge: whatever order snapshots arrive in, and even if a backend lost a subject and
 * started it again from zero, no value goes down and no time goes back. Each kind's json and merge
 * are in src/counters/<kind>.ts.
 */

export type { StoredCounter };
export type StoredCounters = Record<string, StoredCounter>;

export function toStoredCounter(state: CounterState): StoredCounter {
  return counterKind(state.kind).toStored(state);
}

export function fromStoredCounter(stored: StoredCounter): CounterState {
  return counterKind(stored.kind).fromStored(stored);
}

/**
 * The JSON of `toStoredCounter` for every counter, written directly: the first snapshot of a subject
 * needs no merge, and building the text without intermediate objects is ~3x cheaper per subject.
 */
export function storedCountersJson(counters: ReadonlyMap<string, CounterState>): string {
  const parts: string[] = [];
  for (const [id, state] of counters) parts.push(`${JSON.stringify(id)}:${counterKind(state.kind).storedJson(state)}`);
  return `{${parts.join(",")}}`;
}

/**
 * Merges incoming counters into stored ones: max per value and time (window: max per day), a counter
 * only one side has is kept. `changed` is false when the stored object already holds the result.
 */
export function mergeCounters(
  stored: StoredCounters | undefined,
  incoming: ReadonlyMap<string, CounterState>,
): { merged: StoredCounters; changed: boolean } {
  if (stored === undefined) {
    const fresh: StoredCounters = {};
    for (const [id, state] of incoming) fresh[id] = toStoredCounter(state);
    return { merged: fresh, changed: true };
  }
  const merged: StoredCounters = { ...stored };
  let changed = false;
  for (const [id, state] of incoming) {
    const next = toStoredCounter(state);
    const previous = merged[id];
    if (previous === undefined || previous.kind !== next.kind) {
      merged[id] = next;
      changed = true;
      continue;
    }
    const result = counterKind(next.kind).merge(previous, next);
    if (result !== previous) {
      merged[id] = result;
      changed = true;
    }
  }
  return { merged, changed };
}
