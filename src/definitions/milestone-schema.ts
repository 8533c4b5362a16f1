import { z } from "zod";
import type { Animation, Reward } from "../model/milestone.ts";
import { identifier, positiveInteger } from "../rules/rule-fields.ts";
import { ruleSchema, type Rule } from "../rules/rule-types.ts";

/**
 * The shape of one milestone definition, as game designers write it in JSON. Validated at load;
 * everything optional has its default applied here so the rest of the engine sees complete data.
 */

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
  /**
   * Preconditions: codes of milestones that must all be awarded first. The counter keeps counting; the award
   * waits for the last precondition (and is then made in the same apply, stamped with the later time).
   */
  requires: z.array(identifier).max(32).default([]),
  /** Tiers shown as one series ("Slayer II of III, next: 100 kills"): the series id and this tier's place in it. */
  series: z.strictObject({ id: identifier, order: positiveInteger }).optional(),
  /**
   * Seasonal milestones: only events at or after `availableFrom` and before `availableUntil` (ISO 8601 with a
   * time zone, e.g. "2026-12-01T00:00:00Z") count; once it closes nothing new is awarded (awards stay).
   */
  availableFrom: z.iso.datetime({ offset: true }).optional(),
  availableUntil: z.iso.datetime({ offset: true }).optional(),
});

export type MilestoneDefinitionInput = z.input<typeof milestoneDefinitionSchema>;
export type MilestoneDefinition = z.output<typeof milestoneDefinitionSchema>;
export type { Rule };
