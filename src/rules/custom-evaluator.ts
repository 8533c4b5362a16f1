import type { GameplayEvent } from "../model/gameplay-event.ts";

/** JSON-like params a definition passes to its custom evaluator. */
export type EvaluatorParams = Readonly<Record<string, unknown>>;

/**
 * A custom rule's filter, registered in code by name: decides whether an event
 * counts toward the milestone. It receives the validated event (amount and tags filled in) and must be
 * pure and fast: it runs for every event of the trigger type.
 */
export type CustomEvaluator = (event: ValidatedEvent, params: EvaluatorParams) => boolean;

export interface ValidatedEvent extends GameplayEvent {
  readonly amount: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly at: number;
}
