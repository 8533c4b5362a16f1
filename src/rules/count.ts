import { z } from "zod";
import { measuredAsIs, defineRuleType } from "./rule-type.ts";
import { positiveInteger, whereFilter, whereOf } from "./rule-fields.ts";

/** `count`: the lifetime sum of matching event amounts reaches `threshold` (e.g. kill 100 skaven). */
export const countRule = defineRuleType({
  schema: z.strictObject({
    type: z.literal("count"),
    /** Lifetime sum of matching event amounts that completes the milestone. */
    threshold: positiveInteger,
    where: whereFilter,
  }),
  counter(rule, { trigger }) {
    const where = whereOf(rule.where);
    return { kind: "sum", descriptor: `sum|${trigger}|${where.descriptor}`, where: where.pairs, custom: null };
  },
  check: (rule) => ({ target: rule.threshold, windowDays: 0 }),
  display: (rule) => ({ target: rule.threshold, current: measuredAsIs }),
});
