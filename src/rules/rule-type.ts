import type { z } from "zod";
import type { CounterKind } from "../model/counter-state.ts";
import type { CustomEvaluator, ValidatedEvent } from "./custom-evaluator.ts";

/**
 * Which counter a rule counts on. Two milestones whose rules give the same `descriptor` share one
 * counter (tiers cost one increment); the descriptor is hashed into the counter's stored id, so it
 * must stay stable across releases.
 */
export interface CounterShape {
  readonly kind: CounterKind;
  readonly descriptor: string;
  /** Exact tag matches an event needs (sorted by tag, so the route index does not depend on JSON order). */
  readonly where: readonly (readonly [tag: string, value: string])[];
  /** A filter that needs the whole event (custom rules), or null. */
  readonly custom: ((event: ValidatedEvent) => boolean) | null;
}

/** What a milestone's check compares against its counter's measure (see src/counters/<kind>.ts). */
export interface RuleCheck {
  /** The check passes when the measure is >= target. */
  readonly target: number;
  /** window rules: how many UTC days the window spans; 0 otherwise. */
  readonly windowDays: number;
}

/** How players see progress: the target, and a measure converted into the same unit. */
export interface RuleDisplay {
  readonly target: number;
  current(measure: number): number;
}

export interface RuleContext {
  readonly code: string;
  readonly trigger: string;
  readonly evaluators: ReadonlyMap<string, CustomEvaluator>;
}

/**
 * One rule type, in one module (`src/rules/<type>.ts`): the JSON designers write, the counter it counts
 * on, the check and the display. Registered in `rule-types.ts`. A rule type on an existing counter
 * kind needs nothing else; a new counter kind is a module in `src/counters/`.
 */
export interface RuleType<Schema extends z.ZodObject = z.ZodObject> {
  readonly schema: Schema;
  counter(rule: z.output<Schema>, context: RuleContext): CounterShape;
  check(rule: z.output<Schema>): RuleCheck;
  display(rule: z.output<Schema>): RuleDisplay;
}

/** Identity helper that keeps a rule module's schema type for the registry. */
export function defineRuleType<Schema extends z.ZodObject>(ruleType: RuleType<Schema>): RuleType<Schema> {
  return ruleType;
}

export const measuredAsIs = (measure: number): number => measure;
