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
    const shape = ruleType.counter(definition.rule, { code: definition.code, trigger: definition.trigger, evaluators });
    const id = counterIdFor(shape.descriptor);
    let draft = drafts.get(id);
    if (draft === undefined) {
      draft = { ...shape, id, trigger: definition.trigger, keepDays: 0, checks: [] };
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
    const route: CounterRoute = { counterId: draft.id, index: counters.size - 1, where: draft.where, custom: draft.custom };
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
