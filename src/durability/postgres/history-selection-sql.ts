import type { HistorySelector } from "../../model/history.ts";

/**
 * A reader's history selectors (`HistorySelector`, src/model/history.ts) as a condition on the `type`
 * and `tags` columns of the archive's tables, so PostgreSQL sends only the rows the reader's counters can
 * count. Every value is a parameter; a tag fragment is matched with `strpos(tags, fragment) > 0`, the SQL
 * twin of the selectors' `includes`, never with LIKE (a fragment's `%`, `_` or `\` would be read as a
 * pattern). A pre-filter, as the selectors are: the counters still apply their exact filter, so a type
 * with many selectors may be read whole.
 */

/** Past this many fragment sets for one type, the condition selects the whole type (a plan with many filters). */
const MAX_FRAGMENT_SETS_PER_TYPE = 16;

/**
 * The condition selecting what `selection` selects, its values appended to `params` (placeholders
 * numbered after those already there). An empty selection selects nothing ("false").
 */
export function selectionCondition(selection: readonly HistorySelector[], params: unknown[]): string {
  const byType = new Map<string, Map<string, readonly string[]> | "whole">();
  for (const { type, fragments } of selection) {
    const known = byType.get(type);
    if (known === "whole") continue;
    if (fragments.length === 0) {
      byType.set(type, "whole");
      continue;
    }
    const sets = known ?? new Map<string, readonly string[]>();
    const unique = [...new Set(fragments)].sort();
    sets.set(JSON.stringify(unique), unique);
    byType.set(type, sets.size > MAX_FRAGMENT_SETS_PER_TYPE ? "whole" : sets);
  }
  const placeholder = (value: unknown): string => `$${params.push(value)}`;
  const whole: string[] = [];
  const terms: string[] = [];
  for (const [type, sets] of byType) {
    if (sets === "whole") {
      whole.push(type);
      continue;
    }
    const alternatives = [...sets.values()].map((fragments) => fragments.map((fragment) => `strpos(tags, ${placeholder(fragment)}::text) > 0`).join(" AND "));
    terms.push(`(type = ${placeholder(type)}::text AND (${alternatives.map((alternative) => `(${alternative})`).join(" OR ")}))`);
  }
  if (whole.length > 0) terms.unshift(`type = ANY(${placeholder(whole)}::text[])`);
  return terms.length === 0 ? "false" : `(${terms.join(" OR ")})`;
}
