import { z } from "zod";
import { measuredAsIs, defineRuleType } from "./rule-type.ts";
import { positiveInteger, whereFilter, whereOf } from "./rule-fields.ts";

/** `window`: `count` matching within the event's UTC day and the `days - 1` days before it. */
export const windowRule = defineRuleType({
  schema: z.strictObject({
    type: z.literal("window"),
    /** Sum of matching event amounts needed inside the window. */
    count: positiveInteger,
    /** Window length in whole UTC days: the event's own day and the days-1 days before it. */
    days: z.number().int().min(1).max(366),
    where: whereFilter,
  }),
  counter(rule, { trigger }) {
    const where = whereOf(rule.where);
    return { kind: "window", descriptor: `window|${trigger}|${where.descriptor}`, where: where.pairs, custom: null };
  },
  check: (rule) => ({ target: rule.count, windowDays: rule.days }),
  display: (rule) => ({ target: rule.count, current: measuredAsIs }),
});
