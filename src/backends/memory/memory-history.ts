import { randomBytes } from "node:crypto";
import type { HistoryEntry, HistoryPart, HistoryStatus } from "../../model/history.ts";
import { addRollup, rollupKey, withoutRawEvents } from "../../model/history.ts";
import { dayOf } from "../../model/utc-day.ts";

/**
 * One subject's history in the embedded backend, with the semantics of the Redis one
 * (docs/semantics.md, "History"): rollups of this life of the store in one part, a late write to an
 * archived day in a part of its own, a version that moves with every apply, and raw events kept with
 * their part while it counts at most `maxPerRollup` events, for `retentionDays`.
 */
export interface MemoryHistory {
  /** `<part>#<day>|<type>|<tags>` -> the part's rollup. */
  readonly parts: Map<string, HistoryPart>;
  /**
   * The raw events of the parts that keep them, by the same key: appended in place, so a part object
   * handed out earlier still sees its own events as the first `count` of them.
   */
  readonly raw: Map<string, number[]>;
  /** The keys in `raw` by UTC day, for the retention. */
  readonly rawByDay: Map<number, Set<string>>;
  /** UTC days raw events are kept for (the latest write that kept any says), undefined: none kept yet. */
  rawRetentionDays: number | undefined;
  /** This life's part name (a restored subject starts a new one, so archived parts never collide). */
  readonly part: string;
  version: number;
  completeFor: string | null;
  /** Days up to this one are archived: a write to them goes into a new part. */
  archivedThrough: number;
}

/** Raw-event keys past the retention one apply drops at most: a backlog shrinks by this much per apply. */
const RAW_DROPS_PER_CALL = 64;

export function emptyHistory(): MemoryHistory {
  return {
    parts: new Map(),
    raw: new Map(),
    rawByDay: new Map(),
    rawRetentionDays: undefined,
    part: randomBytes(6).toString("base64url"),
    version: 0,
    completeFor: null,
    archivedThrough: Number.NEGATIVE_INFINITY,
  };
}

export function historyStatusOf(history: MemoryHistory): HistoryStatus {
  return { completeFor: history.completeFor, version: history.version };
}

/**
 * Adds one apply's rollups (the caller has deduped events with ids). A subject's first history marks it
 * complete for the counter set of that apply: its counters, if any, were counted live until now.
 *
 * Raw events, as Redis keeps them: a part starts keeping them when it is created by an entry that carries
 * all of its own, and keeps them while every entry added carries its own and it counts at most
 * `maxPerRollup`; after that it keeps none (its day falls back to the day rule).
 */
export function writeHistory(history: MemoryHistory, entries: readonly HistoryEntry[], counterSet: string): void {
  history.version += 1;
  if (entries.length === 0) return;
  history.completeFor ??= counterSet;
  for (const entry of entries) {
    const part = entry.day > history.archivedThrough ? history.part : `${history.part}+${history.version.toString(36)}`;
    const key = `${part}#${rollupKey(entry)}`;
    const stored = history.parts.get(key);
    const carried = entry.rawKept === undefined || entry.rawEvents?.length !== 2 * entry.count ? undefined : entry.rawEvents;
    if (entry.rawKept !== undefined) history.rawRetentionDays = entry.rawKept.retentionDays;
    if (stored === undefined) {
      const created: HistoryPart = { part, type: entry.type, tags: entry.tags, day: entry.day, count: entry.count, sum: entry.sum, firstAt: entry.firstAt, lastAt: entry.lastAt, maxAmount: entry.maxAmount };
      if (carried !== undefined && entry.count <= (entry.rawKept?.maxPerRollup ?? 0)) {
        const raw = [...carried];
        history.raw.set(key, raw);
        let keys = history.rawByDay.get(entry.day);
        if (keys === undefined) history.rawByDay.set(entry.day, (keys = new Set()));
        keys.add(key);
        history.parts.set(key, { ...created, rawEvents: raw });
      } else {
        history.parts.set(key, created);
      }
      continue;
    }
    const added = addRollup(withoutRawEvents(stored), entry.rawEvents === undefined ? entry : withoutRawEvents(entry));
    const raw = history.raw.get(key);
    if (raw !== undefined && carried !== undefined && added.count <= (entry.rawKept?.maxPerRollup ?? 0)) {
      for (const value of carried) raw.push(value);
      history.parts.set(key, { ...added, rawEvents: raw });
    } else {
      if (raw !== undefined) dropRaw(history, key, stored.day);
      history.parts.set(key, added);
    }
  }
}

/**
 * Drops raw events of days past the retention as of `now`, at most `RAW_DROPS_PER_CALL` parts' worth per
 * call (the next call goes on). Readers never use raw events past the retention anyway; this frees them.
 */
export function dropExpiredRawEvents(history: MemoryHistory, now: number): void {
  const retentionDays = history.rawRetentionDays;
  if (retentionDays === undefined || history.rawByDay.size === 0) return;
  const firstKept = dayOf(now) - retentionDays + 1;
  let budget = RAW_DROPS_PER_CALL;
  for (const [day, keys] of history.rawByDay) {
    if (day >= firstKept) continue;
    for (const key of keys) {
      if (budget === 0) return;
      budget -= 1;
      dropRaw(history, key, day);
    }
  }
}

function dropRaw(history: MemoryHistory, key: string, day: number): void {
  history.raw.delete(key);
  const keys = history.rawByDay.get(day);
  keys?.delete(key);
  if (keys?.size === 0) history.rawByDay.delete(day);
  const stored = history.parts.get(key);
  if (stored !== undefined) history.parts.set(key, withoutRawEvents(stored));
}

/** Drops parts the archive now holds with these exact values; days before `beforeDay` become archived. */
export function dropArchived(history: MemoryHistory, archived: readonly HistoryPart[], beforeDay: number): void {
  for (const part of archived) {
    if (part.day >= beforeDay && part.part === history.part) continue;
    const key = `${part.part}#${rollupKey(part)}`;
    const stored = history.parts.get(key);
    if (stored !== undefined && samePart(stored, part)) {
      if (history.raw.has(key)) dropRaw(history, key, part.day);
      history.parts.delete(key);
    }
  }
  history.archivedThrough = Math.max(history.archivedThrough, beforeDay - 1);
}

function samePart(a: HistoryPart, b: HistoryPart): boolean {
  return a.count === b.count && a.sum === b.sum && a.firstAt === b.firstAt && a.lastAt === b.lastAt && a.maxAmount === b.maxAmount;
}
