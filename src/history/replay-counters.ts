import { counterKind, type HistoryDay } from "../counters/counter-kinds.ts";
import type { CompiledMilestones } from "../definitions/compile-milestones.ts";
import type { CounterSpec, ThresholdCheck } from "../model/counter-plan.ts";
import type { CounterState } from "../model/counter-state.ts";
import type { HistoryRollup } from "../model/history.ts";
import { completeRawEvents, parseTags, tagFragment, type HistorySelector } from "../model/history.ts";
import type { ValidatedEvent } from "../rules/custom-evaluator.ts";

/** A counter rebuilt from a subject's history, and the checks it met with the time each was met. */
export interface ReplayedCounter {
  readonly counter: string;
  readonly state: CounterState;
  readonly met: readonly { readonly check: ThresholdCheck; readonly earnedAt: number }[];
}

/** Which rollups a counter counts: its trigger and the filter of its route. */
interface CounterFilter {
  readonly trigger: string;
  readonly where: readonly (readonly [string, string])[];
  readonly custom: ((event: ValidatedEvent) => boolean) | null;
  /** Seasonal counters: the period (epoch ms, `from` inclusive, `until` exclusive). */
  readonly from: number;
  readonly until: number;
}

const filtersByPlan = new WeakMap<CompiledMilestones, ReadonlyMap<string, CounterFilter>>();

function filtersOf(compiled: CompiledMilestones): ReadonlyMap<string, CounterFilter> {
  let filters = filtersByPlan.get(compiled);
  if (filters === undefined) {
    const built = new Map<string, CounterFilter>();
    for (const [trigger, routes] of compiled.routesByTrigger) {
      for (const route of routes.unfiltered) built.set(route.counterId, { trigger, where: route.where, custom: route.custom, from: route.from, until: route.until });
      for (const group of routes.byTag) {
        for (const list of group.byValue.values()) for (const route of list) built.set(route.counterId, { trigger, where: route.where, custom: route.custom, from: route.from, until: route.until });
      }
    }
    filters = built;
    filtersByPlan.set(compiled, filters);
  }
  return filters;
}

/** What to read of a history to replay `specs`: per counter its trigger and its `where` pairs. */
export function selectorsOf(compiled: CompiledMilestones, specs: readonly CounterSpec[]): HistorySelector[] {
  const filters = filtersOf(compiled);
  // One selector per counter, however many subjects lack it.
  const selectors = new Map<string, HistorySelector>();
  for (const spec of specs) {
    const filter = filters.get(spec.id);
    if (filter !== undefined && !selectors.has(spec.id)) selectors.set(spec.id, { type: filter.trigger, fragments: filter.where.map(([tag, value]) => tagFragment(tag, value)) });
  }
  return [...selectors.values()];
}

/**
 * The rollups a counter counts, merged per UTC day (sorted, as `mergeParts` returns the rollups). A
 * custom evaluator sees each rollup as one event (its tags, its largest amount, its last time); when it
 * accepts it, the rollup's whole sum counts (docs/semantics.md). A seasonal counter counts a rollup only
 * when all of it lies inside the period (its first and last event): exact for periods that start and end
 * on a UTC midnight; on a day the period starts or ends inside, the events of a rollup that straddles the
 * boundary are left out (a replay never counts an event from outside the period).
 *
 * A rollup whose raw events are all kept is filtered event by event instead, as the live path counts:
 * the evaluator sees each event with its own amount and time, and the period takes exactly the events
 * inside it; what the counter counts of it is a rollup of those events.
 */
export function countedRollups(compiled: CompiledMilestones, spec: CounterSpec, subject: string, rollups: readonly HistoryRollup[]): HistoryRollup[] {
  const filter = filtersOf(compiled).get(spec.id);
  if (filter === undefined) return [];
  const tagsByText = new Map<string, Readonly<Record<string, string>>>();
  const counted: HistoryRollup[] = [];
  for (const rollup of rollups) {
    if (rollup.type !== filter.trigger) continue;
    const straddles = rollup.firstAt < filter.from || rollup.lastAt >= filter.until;
    // Most rollups lie inside every period and carry no raw events: decided without looking at tags.
    if (straddles && rollup.rawEvents === undefined) continue;
    let tags = tagsByText.get(rollup.tags);
    if (tags === undefined) tagsByText.set(rollup.tags, (tags = parseTags(rollup.tags)));
    if (!filter.where.every(([tag, value]) => tags[tag] === value)) continue;
    const raw = straddles || filter.custom !== null ? completeRawEvents(rollup) : undefined;
    if (raw !== undefined) {
      const kept = eventsCounted(rollup, raw, filter, subject, tags);
      if (kept !== null) counted.push(kept);
      continue;
    }
    if (straddles) continue;
    if (filter.custom !== null && !filter.custom({ type: rollup.type, subject, amount: rollup.maxAmount, at: rollup.lastAt, tags })) continue;
    counted.push(rollup);
  }
  return counted;
}

/** The rollup of the raw events `filter` counts (the rollup itself when it counts all of them), or null for none. */
function eventsCounted(rollup: HistoryRollup, raw: readonly number[], filter: CounterFilter, subject: string, tags: Readonly<Record<string, string>>): HistoryRollup | null {
  const kept: number[] = [];
  let sum = 0;
  let firstAt = Number.POSITIVE_INFINITY;
  let lastAt = Number.NEGATIVE_INFINITY;
  let maxAmount = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const at = raw[i] as number;
    const amount = raw[i + 1] as number;
    if (at < filter.from || at >= filter.until) continue;
    if (filter.custom !== null && !filter.custom({ type: rollup.type, subject, amount, at, tags })) continue;
    kept.push(at, amount);
    sum += amount;
    firstAt = Math.min(firstAt, at);
    lastAt = Math.max(lastAt, at);
    maxAmount = Math.max(maxAmount, amount);
  }
  if (kept.length === 0) return null;
  if (kept.length === raw.length) return rollup;
  return { type: rollup.type, tags: rollup.tags, day: rollup.day, count: kept.length / 2, sum, firstAt, lastAt, maxAmount, rawEvents: kept };
}

/** Replays `specs` over a subject's rollups; a counter no rollup matches is left out. */
export function replayCounters(
  compiled: CompiledMilestones,
  specs: readonly CounterSpec[],
  subject: string,
  rollups: readonly HistoryRollup[],
): ReplayedCounter[] {
  const replayed: ReplayedCounter[] = [];
  for (const spec of specs) {
    const days = historyDays(countedRollups(compiled, spec, subject, rollups));
    if (days.length === 0) continue;
    const met: { check: ThresholdCheck; earnedAt: number }[] = [];
    const state = counterKind(spec.kind).replay(days, spec, (check, earnedAt) => met.push({ check, earnedAt }));
    replayed.push({ counter: spec.id, state, met });
  }
  return replayed;
}

/**
 * The counted rollups added up per UTC day (they come sorted by day). A day whose rollups all keep
 * their raw events carries them, sorted by time (`HistoryDay.events`): its crossings are exact.
 */
function historyDays(counted: readonly HistoryRollup[]): HistoryDay[] {
  const days: HistoryDay[] = [];
  // The current day's raw events, one list per rollup; null once one of its rollups lacks them.
  let raw: (readonly number[])[] | null = null;
  const closeDay = (): void => {
    const last = days[days.length - 1];
    if (raw !== null && last !== undefined) days[days.length - 1] = { ...last, events: sortedByTime(raw) };
  };
  for (const rollup of counted) {
    const last = days[days.length - 1];
    const events = rollup.rawEvents === undefined ? undefined : completeRawEvents(rollup);
    if (last !== undefined && last.day === rollup.day) {
      days[days.length - 1] = {
        day: last.day,
        count: last.count + rollup.count,
        sum: last.sum + rollup.sum,
        firstAt: Math.min(last.firstAt, rollup.firstAt),
        lastAt: Math.max(last.lastAt, rollup.lastAt),
        maxAmount: Math.max(last.maxAmount, rollup.maxAmount),
      };
      if (raw !== null) {
        if (events === undefined) raw = null;
        else raw.push(events);
      }
    } else {
      closeDay();
      days.push({ day: rollup.day, count: rollup.count, sum: rollup.sum, firstAt: rollup.firstAt, lastAt: rollup.lastAt, maxAmount: rollup.maxAmount });
      raw = events === undefined ? null : [events];
    }
  }
  closeDay();
  return days;
}

/** Flat `[at, amount]` lists merged into one sorted by time (stable: events of one time keep their order). */
function sortedByTime(lists: readonly (readonly number[])[]): readonly number[] {
  const only = lists[0];
  if (lists.length === 1 && only !== undefined && isSortedByTime(only)) return only;
  const pairs: [number, number][] = [];
  for (const list of lists) for (let i = 0; i + 1 < list.length; i += 2) pairs.push([list[i] as number, list[i + 1] as number]);
  pairs.sort((a, b) => a[0] - b[0]);
  return pairs.flat();
}

function isSortedByTime(list: readonly number[]): boolean {
  for (let i = 2; i < list.length; i += 2) if ((list[i] as number) < (list[i - 2] as number)) return false;
  return true;
}
