import { z } from "zod";
import { DAY_MS } from "../model/utc-day.ts";
import { defineRuleType } from "./rule-type.ts";

/** Gap measures are milliseconds; players see days with two decimals, rounded down. */
function toDays(ms: number): number {
  return Math.floor((ms / DAY_MS) * 100) / 100;
}

/** `returnAfterGap`: a trigger event `days` or more after the previous one (e.g. a `login`). */
export const returnAfterGapRule = defineRuleType({
  schema: z.strictObject({
    type: z.literal("returnAfterGap"),
    /** Minimum time since the subject's previous trigger event, in days (fractions allowed). */
    days: z.number().positive().max(3650),
  }),
  counter: (_rule, { trigger }) => ({ kind: "gap", descriptor: `gap|${trigger}`, where: [], custom: null }),
  check: (rule) => ({ target: Math.round(rule.days * DAY_MS), windowDays: 0 }),
  display: (rule) => ({ target: rule.days, current: toDays }),
});
