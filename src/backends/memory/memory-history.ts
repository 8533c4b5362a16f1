import { randomBytes } from "node:crypto";
import type { HistoryEntry, HistoryPart, HistoryStatus } from "../../model/history.ts";
import { addRollup, rollupKey } from "../../model/history.ts";

/**
 * One subject's history in the embedded backend, with the semantics of the Redis one
 * (docs/semantics.md, "History"): rollups of this life of the store in one part, a late write to an
 * archived day in a part of its own, a version that moves with every apply.
 */
export interface MemoryHistory {
  /** `<part>#<day>|<type>|<tags>` -> the part's rollup. */
  readonly parts: Map<string, HistoryPart>;
  /** This life's part name (a restored subject starts a new one, so archived parts never collide). */
  readonly part: string;
  version: number;
  completeFor: string | null;
  /** Days up to this one are archived: a write to them goes into a new part. */
  archivedThrough: number;
}

export function emptyHistory(): MemoryHistory {
  return { parts: new Map(), part: randomBytes(6).toString("base64url"), version: 0, completeFor: null, archivedThrough: Number.NEGATIVE_INFINITY };
}

export function historyStatusOf(history: MemoryHistory): HistoryStatus {
  return { completeFor: history.completeFor, version: history.version };
}

/**
 * Adds one apply's rollups (the caller has deduped events with ids). A subject's first history marks it
 * complete for the counter set of that apply: its counters, if any, were counted live until now.
 */
export function writeHistory(history: MemoryHistory, entries: readonly HistoryEntry[], counterSet: string): void {
  history.version += 1;
  if (entries.length === 0) return;
  history.completeFor ??= counterSet;
  for (const entry of entries) {
    const part = entry.day > history.archivedThrough ? history.part : `${history.part}+${history.version.toString(36)}`;
    const key = `${part}#${rollupKey(entry)}`;
    const stored = history.parts.get(key);
    if (stored === undefined) {
      history.parts.set(key, { part, type: entry.type, tags: entry.tags, day: entry.day, count: entry.count, sum: entry.sum, firstAt: entry.firstAt, lastAt: entry.lastAt, maxAmount: entry.maxAmount });
    } else {
      history.parts.set(key, addRollup(stored, entry));
    }
  }
}

/** Drops parts the archive now holds with these exact values; days before `beforeDay` become archived. */
export function dropArchived(history: MemoryHistory, archived: readonly HistoryPart[], beforeDay: number): void {
  for (const part of archived) {
    if (part.day >= beforeDay && part.part === history.part) continue;
    const key = `${part.part}#${rollupKey(part)}`;
    const stored = history.parts.get(key);
    if (stored !== undefined && samePart(stored, part)) history.parts.delete(key);
  }
  history.archivedThrough = Math.max(history.archivedThrough, beforeDay - 1);
}

function samePart(a: HistoryPart, b: HistoryPart): boolean {
  return a.count === b.count && a.sum === b.sum && a.firstAt === b.firstAt && a.lastAt === b.lastAt && a.maxAmount === b.maxAmount;
}
