import { z } from "zod";
import { canonicalJson } from "./canonical-json.ts";

/** Field shapes several rule types share. */

export const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, "use letters, digits, '_', '.', ':' or '-' only");

export const positiveInteger = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Exact-match tag filter: every listed tag must equal the given value. */
export const whereFilter = z.record(identifier, z.string().max(256)).optional();

export type WhereFilter = z.output<typeof whereFilter>;

/** The filter as sorted [tag, value] pairs, and its canonical text for counter descriptors. */
export function whereOf(where: WhereFilter): { pairs: (readonly [string, string])[]; descriptor: string } {
  const pairs = Object.entries(where ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { pairs, descriptor: `where:${canonicalJson(where ?? {})}` };
}
