import { counterKind, type HistoryDay } from "../counters/counter-kinds.ts";
import type { CompiledMilestones } from "../definitions/compile-milestones.ts";
import type { CounterSpec, ThresholdCheck } from "../model/counter-plan.ts";
import type { CounterState } from "../model/counter-state.ts";
import type { HistoryRollup } from "../model/history.ts";
import { parseTags, tagFragment, type HistorySelector } from "../model/history.ts";
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
 */
export function countedRollups(compiled: CompiledMilestones, spec: CounterSpec, subject: string, rollups: readonly HistoryRollup[]): HistoryRollup[] {
  const filter = filtersOf(compiled).get(spec.id);
  if (filter === undefined) return [];
  const tagsByText = new Map<string, Readonly<Record<string, string>>>();
  const counted: HistoryRollup[] = [];
  for (const rollup of rollups) {
    if (rollup.type !== filter.trigger || rollup.firstAt < filter.from || rollup.lastAt >= filter.until) continue;
    let tags = tagsByText.get(rollup.tags);
    if (tags === undefined) tagsByText.set(rollup.tags, (tags = parseTags(rollup.tags)));
    if (!filter.where.every(([tag, value]) => tags[tag] === value)) continue;
    if (filter.custom !== null && !filter.custom({ type: rollup.type, subject, amount: rollup.maxAmount, at: rollup.lastAt, tags })) continue;
    counted.push(rollup);
  }
  return counted;
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
    const days: HistoryDay[] = [];
    for (const rollup of countedRollups(compiled, spec, subject, rollups)) {
      const last = days[days.length - 1];
      if (last !== undefined && last.day === rollup.day) {
        days[days.length - 1] = {
          day: last.day,
          count: last.count + rollup.count,
          sum: last.sum + rollup.sum,
          firstAt: Math.min(last.firstAt, rollup.firstAt),
          lastAt: Math.max(last.lastAt, rollup.lastAt),
          maxAmount: Math.max(last.maxAmount, rollup.maxAmount),
        };
      } else {
        days.push({ day: rollup.day, count: rollup.count, sum: rollup.sum, firstAt: rollup.firstAt, lastAt: rollup.lastAt, maxAmount: rollup.maxAmount });
      }
    }
    if (days.length === 0) continue;
    const met: { check: ThresholdCheck; earnedAt: number }[] = [];
    const state = counterKind(spec.kind).replay(days, spec, (check, earnedAt) => met.push({ check, earnedAt }));
    replayed.push({ counter: spec.id, state, met });
  }
  return replayed;
}
