import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { CounterPlan, CounterSpec, ThresholdCheck } from "../model/counter-plan.ts";
import type { CounterKind } from "../model/counter-state.ts";
import { canonicalJson } from "../rules/canonical-json.ts";
import type { CustomEvaluator } from "../rules/custom-evaluator.ts";
import type { CounterShape, RuleDisplay } from "../rules/rule-type.ts";
import { ruleTypeOf } from "../rules/rule-types.ts";
import { counterIdFor } from "../rules/counter-id.ts";
import type { MilestoneDefinition } from "./milestone-schema.ts";

/**
 * Which counter an event of a trigger type may advance, and the filter that decides whether this
 * event does: exact tag matches (`where`), or a custom evaluator (which needs the full event).
 */
export interface CounterRoute extends Pick<CounterShape, "where" | "custom"> {
  readonly counterId: string;
  /** Dense index of the counter in this plan (0 .. counterCount-1), for array-indexed buffers. */
  readonly index: number;
  /**
   * Seasonal counters: only events with `from <= at < until` count (epoch ms; -Infinity and Infinity
   * for a counter of milestones without a period, so the filter is two comparisons on every route).
   */
  readonly from: number;
  readonly until: number;
}

/**
 * The routes of one trigger, indexed so an event only meets the counters its tags can match:
 * routes without a tag filter (and custom ones) are always checked; a route with `where` is filed
 * under its first filter tag and value ("creature" = "skaven_warrior"), and only looked at when the
 * event carries that value. Kill tiers for ten creatures cost one lookup, not ten comparisons.
 */
export interface TriggerRoutes {
  readonly unfiltered: readonly CounterRoute[];
  readonly byTag: readonly { readonly tag: string; readonly byValue: ReadonlyMap<string, readonly CounterRoute[]> }[];
}

/** Where a milestone's progress is measured, and how it is shown. */
export interface MilestoneMeasure {
  readonly counterId: string;
  readonly kind: CounterKind;
  readonly check: ThresholdCheck;
  readonly display: RuleDisplay;
}

/** The loaded milestones, compiled for the hot path (routing) and for the store (the counter plan). */
export interface CompiledMilestones {
  readonly plan: CounterPlan;
  readonly counterCount: number;
  readonly routesByTrigger: ReadonlyMap<string, TriggerRoutes>;
  /** Every loaded definition (active and inactive), in load order. */
  readonly definitions: ReadonlyMap<string, MilestoneDefinition>;
  readonly measures: ReadonlyMap<string, MilestoneMeasure>;
}

interface CounterDraft extends CounterShape {
  id: string;
  trigger: string;
  keepDays: number;
  checks: ThresholdCheck[];
  from: number;
  until: number;
}

/** A milestone's period in epoch ms (the schema checked both are ISO 8601 times with an offset). */
export function periodOf(definition: Pick<MilestoneDefinition, "availableFrom" | "availableUntil">): { from: number; until: number } {
  return {
    from: definition.availableFrom === undefined ? Number.NEGATIVE_INFINITY : Date.parse(definition.availableFrom),
    until: definition.availableUntil === undefined ? Number.POSITIVE_INFINITY : Date.parse(definition.availableUntil),
  };
}

/**
 * Turns definitions into counters and checks, each rule through its module in src/rules/. Milestones
 * with the same trigger, kind and filter share one counter (tiers cost one increment). Inactive
 * milestones keep their counter counting, so re-activating one finds its progress, but have no checks.
 */
export function compileMilestones(
  definitions: readonly MilestoneDefinition[],
  evaluators: ReadonlyMap<string, CustomEvaluator>,
): CompiledMilestones {
  const drafts = new Map<string, CounterDraft>();
  const measures = new Map<string, MilestoneMeasure>();
  const byDefinition = new Map<string, MilestoneDefinition>();

  for (const definition of definitions) {
    byDefinition.set(definition.code, definition);
    const ruleType = ruleTypeOf(definition.rule);
    const ruleShape = ruleType.counter(definition.rule, { code: definition.code, trigger: definition.trigger, evaluators });
    // A seasonal milestone counts on a counter of its own: the period is part of the descriptor (so it
    // names other state), and only events inside it are routed there. Others keep their descriptor as it was.
    const { from, until } = periodOf(definition);
    const seasonal = definition.availableFrom !== undefined || definition.availableUntil !== undefined;
    const shape = seasonal ? { ...ruleShape, descriptor: `${ruleShape.descriptor}|period:${Number.isFinite(from) ? from : ""}..${Number.isFinite(until) ? until : ""}` } : ruleShape;
    const id = counterIdFor(shape.descriptor);
    let draft = drafts.get(id);
    if (draft === undefined) {
      draft = { ...shape, id, trigger: definition.trigger, keepDays: 0, checks: [], from, until };
      drafts.set(id, draft);
    } else if (draft.descriptor !== shape.descriptor) {
      throw new ProgressionError(
        ErrorCode.InvalidDefinition,
        `milestone ${JSON.stringify(definition.code)}: its counter id ${id} collides with another counter's; change its trigger or filter slightly`,
        { code: definition.code },
      );
    }
    const rule = ruleType.check(definition.rule);
    const check: ThresholdCheck = {
      code: definition.code,
      target: rule.target,
      windowDays: rule.windowDays,
      autoClaimRewards: definition.autoClaim ? definition.rewards : null,
      // Only when set: a plan without preconditions or periods keeps its version (and packed form).
      ...(definition.requires.length > 0 ? { requires: [...new Set(definition.requires)] } : {}),
      ...(Number.isFinite(until) ? { availableUntil: until } : {}),
    };
    // A window counter keeps the buckets its largest window needs (inactive milestones' too).
    draft.keepDays = Math.max(draft.keepDays, rule.windowDays);
    if (definition.active) draft.checks.push(check);
    measures.set(definition.code, { counterId: id, kind: shape.kind, check, display: ruleType.display(definition.rule) });
  }

  const counters = new Map<string, CounterSpec>();
  const routesByTrigger = new Map<string, { unfiltered: CounterRoute[]; byTag: { tag: string; byValue: Map<string, CounterRoute[]> }[] }>();
  for (const draft of drafts.values()) {
    draft.checks.sort((a, b) => a.target - b.target || a.windowDays - b.windowDays);
    counters.set(draft.id, { id: draft.id, kind: draft.kind, trigger: draft.trigger, keepDays: draft.keepDays, checks: draft.checks });
    const routes = routesByTrigger.get(draft.trigger) ?? { unfiltered: [], byTag: [] };
    routesByTrigger.set(draft.trigger, routes);
    const route: CounterRoute = { counterId: draft.id, index: counters.size - 1, where: draft.where, custom: draft.custom, from: draft.from, until: draft.until };
    const first = draft.where[0];
    if (first === undefined) {
      routes.unfiltered.push(route);
      continue;
    }
    let group = routes.byTag.find((candidate) => candidate.tag === first[0]);
    if (group === undefined) {
      group = { tag: first[0], byValue: new Map() };
      routes.byTag.push(group);
    }
    group.byValue.set(first[1], [...(group.byValue.get(first[1]) ?? []), route]);
  }
  const version = counterIdFor(canonicalJson([...counters.values()].map((c) => [c.id, c.kind, c.keepDays, c.checks])));
  const counterSet = counterIdFor([...counters.keys()].sort().join(","));
  return { plan: { version, counterSet, counters }, counterCount: counters.size, routesByTrigger, definitions: byDefinition, measures };
}
