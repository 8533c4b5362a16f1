import type { MilestoneDefinition, Rule } from "./milestone-schema.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { CounterKind } from "../model/counter-state.ts";
import type { CounterPlan, CounterSpec, ThresholdCheck } from "../model/counter-plan.ts";
import { canonicalJson } from "./canonical-json.ts";
import { counterIdFor } from "./counter-id.ts";
import type { CustomEvaluator, ValidatedEvent } from "../rules/custom-evaluator.ts";

export const DAY_MS = 86_400_000;

/**
 * Which counter an event of a trigger type may advance, and the filter that decides whether this
 * event does: exact tag matches (`where`), or a custom evaluator (which needs the full event).
 */
export interface CounterRoute {
  readonly counterId: string;
  /** Dense index of the counter in this plan (0 .. counterCount-1), for array-indexed buffers. */
  readonly index: number;
  readonly where: readonly (readonly [tag: string, value: string])[];
  readonly custom: ((event: ValidatedEvent) => boolean) | null;
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

/** Where a milestone's progress is measured. */
export interface MilestoneMeasure {
  readonly counterId: string;
  readonly kind: CounterKind;
  readonly check: ThresholdCheck;
}

export interface CompiledMilestones {
  readonly plan: CounterPlan;
  readonly counterCount: number;
  readonly routesByTrigger: ReadonlyMap<string, TriggerRoutes>;
  /** Every loaded definition (active and inactive), in load order. */
  readonly definitions: ReadonlyMap<string, MilestoneDefinition>;
  readonly measures: ReadonlyMap<string, MilestoneMeasure>;
}

interface CounterShape {
  kind: CounterKind;
  descriptor: string;
  where: readonly (readonly [string, string])[];
  custom: ((event: ValidatedEvent) => boolean) | null;
}

interface CounterDraft extends CounterShape {
  id: string;
  trigger: string;
  keepDays: number;
  checks: ThresholdCheck[];
}

/**
 * Turns definitions into counters and checks. Milestones with the same trigger, kind and filter share
 * one counter (tiers cost one increment). Inactive milestones keep their counter counting, so
 * re-activating one finds its progress, but have no checks.
 */
export function buildCounterPlan(
  definitions: readonly MilestoneDefinition[],
  evaluators: ReadonlyMap<string, CustomEvaluator>,
): CompiledMilestones {
  const drafts = new Map<string, CounterDraft>();
  const measures = new Map<string, MilestoneMeasure>();
  const byDefinition = new Map<string, MilestoneDefinition>();

  for (const definition of definitions) {
    byDefinition.set(definition.code, definition);
    const shape = counterShape(definition, evaluators);
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
    const check = checkFor(definition);
    if (definition.rule.type === "window") draft.keepDays = Math.max(draft.keepDays, definition.rule.days);
    if (definition.active) draft.checks.push(check);
    measures.set(definition.code, { counterId: id, kind: shape.kind, check });
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
  return { plan: { version, counters }, counterCount: counters.size, routesByTrigger, definitions: byDefinition, measures };
}

function counterShape(definition: MilestoneDefinition, evaluators: ReadonlyMap<string, CustomEvaluator>): CounterShape {
  const rule: Rule = definition.rule;
  const trigger = definition.trigger;
  switch (rule.type) {
    case "count":
    case "window":
    case "daily": {
      const kind = rule.type === "count" ? "sum" : rule.type === "window" ? "window" : "days";
      // Sorted, so the tag a route is indexed under does not depend on how the JSON was written.
      const where = Object.entries(rule.where ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return { kind, descriptor: `${kind}|${trigger}|where:${canonicalJson(rule.where ?? {})}`, where, custom: null };
    }
    case "returnAfterGap":
      return { kind: "gap", descriptor: `gap|${trigger}`, where: [], custom: null };
    case "custom": {
      const evaluator = evaluators.get(rule.evaluator);
      if (evaluator === undefined) {
        throw new ProgressionError(
          ErrorCode.UnknownEvaluator,
          `milestone ${JSON.stringify(definition.code)}: rule.evaluator ${JSON.stringify(rule.evaluator)} is not registered; pass it in createProgression({ evaluators: { ${rule.evaluator}: (event, params) => boolean } })`,
          { code: definition.code, evaluator: rule.evaluator, registered: [...evaluators.keys()] },
        );
      }
      const params = Object.freeze({ ...(rule.params ?? {}) });
      return {
        kind: "sum",
        descriptor: `sum|${trigger}|custom:${rule.evaluator}:${canonicalJson(params)}`,
        where: [],
        custom: (event) => evaluator(event, params) === true,
      };
    }
  }
}

function checkFor(definition: MilestoneDefinition): ThresholdCheck {
  const rule = definition.rule;
  const autoClaimRewards = definition.autoClaim ? definition.rewards : null;
  switch (rule.type) {
    case "count":
    case "custom":
      return { code: definition.code, target: rule.threshold, windowDays: 0, autoClaimRewards };
    case "window":
      return { code: definition.code, target: rule.count, windowDays: rule.days, autoClaimRewards };
    case "daily":
      return { code: definition.code, target: rule.days, windowDays: 0, autoClaimRewards };
    case "returnAfterGap":
      return { code: definition.code, target: Math.round(rule.days * DAY_MS), windowDays: 0, autoClaimRewards };
  }
}

