import { z } from "zod";
import { canonicalJson } from "./canonical-json.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import { measuredAsIs, defineRuleType } from "./rule-type.ts";
import { identifier, positiveInteger } from "./rule-fields.ts";

/** `custom`: the sum of amounts of events a registered evaluator accepts reaches `threshold`. */
export const customRule = defineRuleType({
  schema: z.strictObject({
    type: z.literal("custom"),
    /** Name of an evaluator registered in code (`createProgression({ evaluators: { name: fn } })`). */
    evaluator: identifier,
    /** Lifetime sum of amounts of events the evaluator accepts. */
    threshold: positiveInteger,
    /** Passed to the evaluator untouched; milestones with equal evaluator+params share a counter. */
    params: z.record(z.string(), z.json()).optional(),
  }),
  counter(rule, { code, trigger, evaluators }) {
    const evaluator = evaluators.get(rule.evaluator);
    if (evaluator === undefined) {
      throw new ProgressionError(
        ErrorCode.UnknownEvaluator,
        `milestone ${JSON.stringify(code)}: rule.evaluator ${JSON.stringify(rule.evaluator)} is not registered; pass it in createProgression({ evaluators: { ${rule.evaluator}: (event, params) => boolean } })`,
        { code, evaluator: rule.evaluator, registered: [...evaluators.keys()] },
      );
    }
    const params = Object.freeze({ ...(rule.params ?? {}) });
    return {
      kind: "sum",
      descriptor: `sum|${trigger}|custom:${rule.evaluator}:${canonicalJson(params)}`,
      where: [],
      custom: (event) => evaluator(event, params) === true,
    };
  },
  check: (rule) => ({ target: rule.threshold, windowDays: 0 }),
  display: (rule) => ({ target: rule.threshold, current: measuredAsIs }),
});
