import type { HistoryPart, HistoryStatus } from "../../model/history.ts";
import type { SubjectHistory } from "../contract/history-backend.ts";
import { dec36, enc36 } from "../../counters/counter-kind.ts";

/**
 * A subject's history hash as lua/includes/history.lua writes it: status fields `~q ~h ~e ~t`, rollups of
 * the hash's own part under `<day36>|<type>|<tags>`, late parts under `+<version36>|<day36>|<type>|<tags>`,
 * each valued `<count>,<sum>,<firstAt>,<lastAt>,<maxAmount>` in base 36.
 */

export function statusOf(version: string | null | undefined, completeFor: string | null | undefined): HistoryStatus {
  return { completeFor: completeFor ?? null, version: version === undefined || version === null ? 0 : Number(version) };
}

export function decodeHistoryHash(fields: Readonly<Record<string, string>>): SubjectHistory & { readonly part: string | null } {
  const part = fields["~e"] ?? null;
  const parts: HistoryPart[] = [];
  for (const field in fields) {
    if (field[0] === "~") continue;
    let name = part ?? "";
    let key = field;
    if (field[0] === "+") {
      const bar = field.indexOf("|");
      name = `${name}+${field.slice(1, bar)}`;
      key = field.slice(bar + 1);
    }
    const first = key.indexOf("|");
    const second = key.indexOf("|", first + 1);
    const [count, sum, firstAt, lastAt, maxAmount] = (fields[field] as string).split(",").map(dec36) as [number, number, number, number, number];
    parts.push({ part: name, type: key.slice(first + 1, second), tags: key.slice(second + 1), day: dec36(key.slice(0, first)), count, sum, firstAt, lastAt, maxAmount });
  }
  return { status: statusOf(fields["~q"], fields["~h"]), parts, part };
}

/** The field and value of an exported part in the hash it came from (`part`: the hash's `~e`). */
export function historyField(rollup: HistoryPart, part: string): [field: string, value: string] {
  const value = [rollup.count, rollup.sum, rollup.firstAt, rollup.lastAt, rollup.maxAmount].map(enc36).join(",");
  const key = `${enc36(rollup.day)}|${rollup.type}|${rollup.tags}`;
  if (rollup.part === part) return [key, value];
  return [`+${rollup.part.slice(part.length + 1)}|${key}`, value];
}
