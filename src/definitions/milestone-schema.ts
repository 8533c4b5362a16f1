import { z } from "zod";
import type { Animation, Reward } from "../model/milestone.ts";

/**
 * The shape of one milestone definition, as game designers write it in JSON. Validated at load;
 * everything optional has its default applied here so the rest of the engine sees complete data.
 */

const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, "use letters, digits, '_', '.', ':' or '-' only");

const positiveInteger = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Exact-match tag filter: every listed tag must equal the given value. */
const whereFilter = z.record(identifier, z.string().max(256)).optional();

export const countRuleSchema = z.strictObject({
  type: z.literal("count"),
  /** Lifetime sum of matching event amounts that completes the milestone. */
  threshold: positiveInteger,
  where: whereFilter,
});

export const windowRuleSchema = z.strictObject({
  type: z.literal("window"),
  /** Sum of matching event amounts needed inside the window. */
  count: positiveInteger,
  /** Window length in whole UTC days: the event's own day and the days-1 days before it. */
  days: z.number().int().min(1).max(366),
  where: whereFilter,
});

export const returnAfterGapRuleSchema = z.strictObject({
  type: z.literal("returnAfterGap"),
  /** Minimum time since the subject's previous trigger event, in days (fractions allowed). */
  days: z.number().positive().max(3650),
});

export const dailyRuleSchema = z.strictObject({
  type: z.literal("daily"),
  /** Number of distinct UTC days with at least one matching event. Never resets. */
  days: positiveInteger,
  where: whereFilter,
});

export const customRuleSchema = z.strictObject({
  type: z.literal("custom"),
  /** Name of an evaluator registered in code (`createProgression({ evaluators: { name: fn } })`). */
  evaluator: identifier,
  /** Lifetime sum of amounts of events the evaluator accepts. */
  threshold: positiveInteger,
  /** Passed to the evaluator untouched; milestones with equal evaluator+params share a counter. */
  params: z.record(z.string(), z.json()).optional(),
});

export const ruleSchema = z.discriminatedUnion("type", [
  countRuleSchema,
  windowRuleSchema,
  returnAfterGapRuleSchema,
  dailyRuleSchema,
  customRuleSchema,
]);

export const animationSchema: z.ZodType<Animation, Animation> = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("confetti") }),
  z.strictObject({ kind: z.literal("webm"), src: z.string().min(1).max(2048) }),
  z.strictObject({ kind: z.literal("custom"), name: identifier }),
]);

export const rewardSchema: z.ZodType<Reward, Reward> = z.strictObject({
  item: identifier,
  quantity: positiveInteger,
});

export const milestoneDefinitionSchema = z.strictObject({
  code: identifier,
  /** Translation key of the title, looked up in the locale catalogs. */
  title: z.string().min(1).max(256),
  /** Translation key of the description. */
  description: z.string().min(1).max(256),
  icon: z.string().min(1).max(2048),
  animation: animationSchema.default({ kind: "confetti" }),
  /** Event type that advances this milestone. */
  trigger: identifier,
  rule: ruleSchema,
  rewards: z.array(rewardSchema).max(32).default([]),
  /** Claim (and grant rewards) as soon as it is reached. */
  autoClaim: z.boolean().default(false),
  /** Title, description, icon and progress stay masked until reached. */
  hidden: z.boolean().default(false),
  /** Inactive milestones are neither evaluated nor listed; their progress is kept. */
  active: z.boolean().default(true),
});

export type MilestoneDefinitionInput = z.input<typeof milestoneDefinitionSchema>;
export type MilestoneDefinition = z.output<typeof milestoneDefinitionSchema>;
export type Rule = z.output<typeof ruleSchema>;
