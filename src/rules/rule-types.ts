import { z } from "zod";
import { countRule } from "./count.ts";
import { customRule } from "./custom.ts";
import { dailyRule } from "./daily.ts";
import { returnAfterGapRule } from "./return-after-gap.ts";
import type { RuleType } from "./rule-type.ts";
import { windowRule } from "./window.ts";

/** Every built-in rule type. Adding one: its module, and one entry here. */
const ruleTypes = [countRule, windowRule, returnAfterGapRule, dailyRule, customRule] as const;

type SchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends RuleType<infer Schema> ? Schema : never };
type RuleSchemas = SchemasOf<typeof ruleTypes>;

/** The `rule` field of a milestone definition: one of the rule types, told apart by `type`. */
export const ruleSchema = z.discriminatedUnion("type", ruleTypes.map((ruleType) => ruleType.schema) as RuleSchemas);

export type Rule = z.output<typeof ruleSchema>;

const byName = new Map<string, RuleType>(ruleTypes.map((ruleType) => [ruleType.schema.shape.type.value, ruleType as unknown as RuleType]));

/** The module of a validated rule (validation guarantees the type is registered). */
export function ruleTypeOf(rule: Rule): RuleType {
  const ruleType = byName.get(rule.type);
  if (ruleType === undefined) throw new TypeError(`rule type ${rule.type} is not registered in src/rules/rule-types.ts`);
  return ruleType;
}
