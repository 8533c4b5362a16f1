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
 */
export function mergeParts(sources: readonly (readonly HistoryPart[])[], types?: ReadonlySet<string>): HistoryRollup[] {
  // One source holding one part per key (no late parts, no second life): nothing to merge, only to sort.
  const filled = sources.filter((parts) => parts.length > 0);
  if (filled.length === 1) {
    const only = filled[0] as readonly HistoryPart[];
    const name = only[0]?.part;
    if (only.every((part) => part.part === name)) {
      const kept = types === undefined ? [...only] : only.filter((part) => types.has(part.type));
      return kept.sort(byDayTypeTags);
    }
  }
  // Most keys have one part in one source: they are kept as they are; only collisions are merged.
  const byKey = new Map<string, HistoryPart>();
  let collided: Map<string, Map<string, HistoryPart>> | undefined;
  for (const parts of sources) {
    for (const part of parts) {
      if (types !== undefined && !types.has(part.type)) continue;
      const key = rollupKey(part);
      const first = byKey.get(key);
      if (first === undefined) {
        byKey.set(key, part);
        continue;
      }
      collided ??= new Map();
      let copies = collided.get(key);
      if (copies === undefined) collided.set(key, (copies = new Map([[first.part, first]])));
      const earlier = copies.get(part.part);
      copies.set(part.part, earlier === undefined ? part : mergeCopies(earlier, part));
    }
  }
  const merged: HistoryRollup[] = [];
  for (const [key, part] of byKey) {
    const copies = collided?.get(key);
    if (copies === undefined) {
      merged.push(part);
      continue;
    }
    let total: HistoryRollup | undefined;
    for (const copy of copies.values()) total = total === undefined ? copy : addRollup(total, copy);
    if (total !== undefined) merged.push(total);
  }
  return merged.sort(byDayTypeTags);
}

function byDayTypeTags(a: HistoryRollup, b: HistoryRollup): number {
  return a.day - b.day || compare(a.type, b.type) || compare(a.tags, b.tags);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
