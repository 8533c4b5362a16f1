/**
 * The event history (docs/semantics.md, "History"): every applied gameplay event, rolled up per
 * (subject, trigger type, tags, UTC day). A rollup keeps what every built-in rule needs to be replayed:
 * the sum of amounts, the count, the first and last time and the largest single amount; with the engine
 * option `historyRawEvents`, also each event's own time and amount (its raw events).
 */
export interface HistoryRollup {
  readonly type: string;
  /** The event's tags as canonical JSON (keys sorted), "" for none. */
  readonly tags: string;
  /** UTC day of the events (`dayOf(at)`). */
  readonly day: number;
  readonly count: number;
  readonly sum: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly maxAmount: number;
  /**
   * The raw events kept with the rollup: `[at, amount, at, amount, ...]` in the order they were recorded.
   * Complete (every event of the rollup) only when it holds `count` events or more, and then its first
   * `count` events are the rollup's (`completeRawEvents`); fewer: some were not kept, and the rollup's
   * day is replayed by the day rule. Absent: none kept.
   */
  readonly rawEvents?: readonly number[] | undefined;
}

/** What a backend keeps of raw events (`historyRawEvents`, src/history/raw-events.ts). */
export interface RawEventsSettings {
  /** UTC days (today included) raw events are used and kept for. */
  readonly retentionDays: number;
  /** Most events a rollup keeps raw: a rollup that counts more keeps none. */
  readonly maxPerRollup: number;
}

/** A rollup as a recorded event contributes it: events with their own id are deduped like counters. */
export interface HistoryEntry extends HistoryRollup {
  /** Set for one event with its own id: kept once per subject within the event-id retention. */
  readonly eventId?: string | undefined;
  /** Set when the engine keeps raw events: then `rawEvents` holds every event of the entry. */
  readonly rawKept?: RawEventsSettings | undefined;
}

/**
 * A stored rollup. One (type, tags, day) may be stored in several parts: one per life of the store that
 * wrote it (a Redis that lost its data starts a new part) and one per late write to a day already
 * archived. Every part only grows, so copies of a part merge by taking the largest values; the history of
 * a key is the sum over its parts (`mergeParts`).
 */
export interface HistoryPart extends HistoryRollup {
  readonly part: string;
}

/** Where a subject's counters stand with respect to its history (for backfill). */
export interface HistoryStatus {
  /** The counter set (`CounterPlan.counterSet`) whose counters are complete for the subject; null: no history. */
  readonly completeFor: string | null;
  /** Changes with every apply to the subject: a backfill computed at one version is written only at that version. */
  readonly version: number;
}

/**
 * Which rollups a reader needs (backfill reads only what its new counters count): a rollup is selected
 * when one selector's type is its type and its tags text contains each of that selector's fragments (the
 * `"tag":"value"` pairs of a `where` filter, as they appear in canonical JSON). A pre-filter: the counters
 * still apply their exact filter.
 */
export interface HistorySelector {
  readonly type: string;
  readonly fragments: readonly string[];
}

export function selects(selection: readonly HistorySelector[] | undefined, type: string, tags: string): boolean {
  if (selection === undefined) return true;
  for (const selector of selection) if (selector.type === type && selector.fragments.every((fragment) => tags.includes(fragment))) return true;
  return false;
}

/** The JSON fragment a `where` pair leaves in canonical tags. */
export function tagFragment(tag: string, value: string): string {
  return `${JSON.stringify(tag)}:${JSON.stringify(value)}`;
}

/** The key of a rollup inside a subject's history. */
export function rollupKey(rollup: Pick<HistoryRollup, "type" | "tags" | "day">): string {
  return `${rollup.day}|${rollup.type}|${rollup.tags}`;
}

/** Two copies of the same part: the larger of each value (parts only grow, raw events too). */
export function mergeCopies(a: HistoryPart, b: HistoryPart): HistoryPart {
  const merged: HistoryPart = {
    ...a,
    count: Math.max(a.count, b.count),
    sum: Math.max(a.sum, b.sum),
    firstAt: Math.min(a.firstAt, b.firstAt),
    lastAt: Math.max(a.lastAt, b.lastAt),
    maxAmount: Math.max(a.maxAmount, b.maxAmount),
  };
  if (a.rawEvents === undefined && b.rawEvents === undefined) return merged;
  // A part's raw events only grow by appending, so the longer copy holds the shorter one.
  return { ...merged, rawEvents: (b.rawEvents?.length ?? 0) > (a.rawEvents?.length ?? 0) ? b.rawEvents : a.rawEvents };
}

/**
 * Adds one rollup into another of the same key (two parts, or two events of one flush). Their raw events
 * add up only when both are complete; otherwise the sum keeps none (it would be incomplete).
 */
export function addRollup<T extends HistoryRollup>(a: T, b: HistoryRollup): T {
  const sum: T = {
    ...a,
    count: a.count + b.count,
    sum: a.sum + b.sum,
    firstAt: Math.min(a.firstAt, b.firstAt),
    lastAt: Math.max(a.lastAt, b.lastAt),
    maxAmount: Math.max(a.maxAmount, b.maxAmount),
  };
  if (a.rawEvents === undefined && b.rawEvents === undefined) return sum;
  const first = completeRawEvents(a);
  const second = completeRawEvents(b);
  return first === undefined || second === undefined ? withoutRawEvents(sum) : { ...sum, rawEvents: [...first, ...second] };
}

/**
 * The rollup's raw events when they are complete (one `[at, amount]` pair per event it counts, in the
 * order recorded), else undefined.
 */
export function completeRawEvents(rollup: HistoryRollup): readonly number[] | undefined {
  const raw = rollup.rawEvents;
  if (raw === undefined || raw.length < 2 * rollup.count) return undefined;
  return raw.length === 2 * rollup.count ? raw : raw.slice(0, 2 * rollup.count);
}

/** The rollup without its raw events (the same object when it has none). */
export function withoutRawEvents<T extends HistoryRollup>(rollup: T): T {
  if (rollup.rawEvents === undefined) return rollup;
  const { rawEvents: _dropped, ...rest } = rollup;
  return rest as T;
}

/**
 * A subject's history from any number of sources (the backend's own copy, the archive): copies of one part
 * merge by maximum, then the parts of one key add up. Sorted by day, then type and tags. `types` keeps
 * only rollups of those event types (a backfill needs only its counters' triggers).
 *
 * By sort, not by a key string per part: the parts are sorted by key and part name (sources that come
 * sorted cost a pass each), so the copies and parts of one key stand side by side and most keys, which
 * have one copy of one part, are kept as they are.
 */
export function mergeParts(sources: readonly (readonly HistoryPart[])[], types?: ReadonlySet<string>): HistoryRollup[] {
  const all: HistoryPart[] = [];
  for (const parts of sources) {
    if (types === undefined) for (const part of parts) all.push(part);
    else for (const part of parts) if (types.has(part.type)) all.push(part);
  }
  sortByKeyThenPart(all);
  let i = 1;
  while (i < all.length && !sameKey(all[i - 1] as HistoryPart, all[i] as HistoryPart)) i += 1;
  if (i >= all.length) return all;
  // From the first key with more than one entry on: one rollup per key.
  const merged: HistoryRollup[] = all.slice(0, i - 1);
  for (let first = i - 1; first < all.length; ) {
    let copy = all[first] as HistoryPart;
    let total: HistoryRollup | undefined;
    let next = first + 1;
    for (; next < all.length && sameKey(copy, all[next] as HistoryPart); next += 1) {
      const entry = all[next] as HistoryPart;
      if (entry.part === copy.part) {
        copy = mergeCopies(copy, entry);
      } else {
        total = total === undefined ? copy : addRollup(total, copy);
        copy = entry;
      }
    }
    merged.push(total === undefined ? copy : addRollup(total, copy));
    first = next;
  }
  return merged;
}

/**
 * Sorted by day, then type, tags and part. The days of a history span little, so the sort is a counting
 * sort by day and an insertion sort of each day's few entries (a comparison sort of a player's hundred
 * parts was most of a backfill's merge); a history spread over many more days than it has parts is
 * sorted by comparison.
 */
function sortByKeyThenPart(parts: HistoryPart[]): void {
  const n = parts.length;
  if (n < 2) return;
  let min = (parts[0] as HistoryPart).day;
  let max = min;
  let sorted = true;
  for (let i = 1; i < n; i += 1) {
    const part = parts[i] as HistoryPart;
    if (part.day < min) min = part.day;
    else if (part.day > max) max = part.day;
    if (sorted && byKeyThenPart(parts[i - 1] as HistoryPart, part) > 0) sorted = false;
  }
  if (sorted) return;
  const span = max - min + 1;
  if (span > 2 * n + 64) {
    parts.sort(byKeyThenPart);
    return;
  }
  const starts = new Int32Array(span + 1);
  for (const part of parts) starts[part.day - min + 1] = (starts[part.day - min + 1] as number) + 1;
  for (let d = 1; d <= span; d += 1) starts[d] = (starts[d] as number) + (starts[d - 1] as number);
  const byDay = new Array<HistoryPart>(n);
  for (const part of parts) {
    const at = starts[part.day - min] as number;
    byDay[at] = part;
    starts[part.day - min] = at + 1;
  }
  // Sorted by day: an entry moves only among those of its own day.
  for (let i = 0; i < n; i += 1) {
    const part = byDay[i] as HistoryPart;
    let j = i - 1;
    for (; j >= 0 && byKeyThenPart(parts[j] as HistoryPart, part) > 0; j -= 1) parts[j + 1] = parts[j] as HistoryPart;
    parts[j + 1] = part;
  }
}

function sameKey(a: HistoryRollup, b: HistoryRollup): boolean {
  return a.day === b.day && a.type === b.type && a.tags === b.tags;
}

function byKeyThenPart(a: HistoryPart, b: HistoryPart): number {
  return a.day - b.day || compare(a.type, b.type) || compare(a.tags, b.tags) || compare(a.part, b.part);
}

function compare(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** The canonical text of an event's tags in the history: JSON with keys sorted, "" for none. */
export function tagsText(tags: Readonly<Record<string, string>>): string {
  const keys = Object.keys(tags);
  if (keys.length === 0) return "";
  return `{${keys
    .sort()
    .map((key) => tagFragment(key, tags[key] ?? ""))
    .join(",")}}`;
}

/** The tags of a stored rollup, as the event carried them. */
export function parseTags(text: string): Readonly<Record<string, string>> {
  return text === "" ? {} : (JSON.parse(text) as Record<string, string>);
}
