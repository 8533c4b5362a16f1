import { z } from "zod";
import { measuredAsIs, defineRuleType } from "./rule-type.ts";
import { positiveInteger, whereFilter, whereOf } from "./rule-fields.ts";

/** `daily`: matching events on `days` distinct UTC days (no streaks, nothing ever resets). */
export const dailyRule = defineRuleType({
  schema: z.strictObject({
    type: z.literal("daily"),
    /** Number of distinct UTC days with at least one matching event. Never resets. */
    days: positiveInteger,
    where: whereFilter,
  }),
  counter(rule, { trigger }) {
    const where = whereOf(rule.where);
    return { kind: "days", descriptor: `days|${trigger}|${where.descriptor}`, where: where.pairs, custom: null };
  },
  check: (rule) => ({ target: rule.days, windowDays: 0 }),
  display: (rule) => ({ target: rule.days, current: measuredAsIs }),
});
