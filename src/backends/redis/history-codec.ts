import type { HistoryPart, HistoryRollup, HistorySelector, HistoryStatus } from "../../model/history.ts";
import { selects } from "../../model/history.ts";
import type { SubjectHistory } from "../contract/history-backend.ts";
import { enc36 } from "../../counters/counter-kind.ts";

/**
 * A subject's history hash as lua/includes/history.lua writes it: status fields `~q ~h ~e ~t`, rollups of
 * the hash's own part under `<day36>|<type>|<tags>`, late parts under `+<version36>|<day36>|<type>|<tags>`,
 * each valued `<count>,<sum>,<firstAt>,<lastAt>,<maxAmount>` in base 36.
 */

export function statusOf(version: string | null | undefined, completeFor: string | null | undefined): HistoryStatus {
  return { completeFor: completeFor ?? null, version: version === undefined || version === null ? 0 : Number(version) };
}

/** `selection`: only the rollups it selects are decoded (the others are skipped before their values are parsed). */
export function decodeHistoryHash(fields: Readonly<Record<string, string>>, selection?: readonly HistorySelector[]): SubjectHistory {
  const part = fields["~e"] ?? null;
  const parts: HistoryPart[] = [];
  for (const field in fields) {
    if (field.charCodeAt(0) === TILDE) continue;
    const rollup = decodeRollup(field, fields[field] as string, part ?? "", selection);
    if (rollup !== null) parts.push(rollup);
  }
  return { status: statusOf(fields["~q"], fields["~h"]), parts };
}

/**
 * The text readHistory-1.lua returns: fields and values, one per line. Decoded in one pass over the
 * lines (backfill reads every player's history: this is its hot path).
 */
export function decodeHistoryLines(text: string, selection?: readonly HistorySelector[]): SubjectHistory {
  if (text === "") return { status: statusOf(undefined, undefined), parts: [] };
  const lines = text.split("\n");
  let part: string | null = null;
  let version: string | undefined;
  let completeFor: string | undefined;
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const field = lines[i] as string;
    if (field === "~e") part = lines[i + 1] as string;
    else if (field === "~q") version = lines[i + 1];
    else if (field === "~h") completeFor = lines[i + 1];
  }
  const parts: HistoryPart[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const field = lines[i] as string;
    if (field.charCodeAt(0) === TILDE) continue;
    const rollup = decodeRollup(field, lines[i + 1] as string, part ?? "", selection);
    if (rollup !== null) parts.push(rollup);
  }
  return { status: statusOf(version, completeFor), parts };
}

const TILDE = 126;
const PLUS = 43;

/** One rollup field and value; null when the selection does not select it. */
function decodeRollup(field: string, value: string, ownPart: string, selection: readonly HistorySelector[] | undefined): HistoryPart | null {
  let name = ownPart;
  let start = 0;
  if (field.charCodeAt(0) === PLUS) {
    start = field.indexOf("|") + 1;
    name = `${ownPart}+${field.slice(1, start - 1)}`;
  }
  const first = field.indexOf("|", start);
  const second = field.indexOf("|", first + 1);
  const type = field.slice(first + 1, second);
  const tags = field.slice(second + 1);
  if (!selects(selection, type, tags)) return null;
  const c1 = value.indexOf(",");
  const c2 = value.indexOf(",", c1 + 1);
  const c3 = value.indexOf(",", c2 + 1);
  const c4 = value.indexOf(",", c3 + 1);
  return {
    part: name,
    type,
    tags,
    day: parseInt(field.slice(start, first), 36),
    count: parseInt(value.slice(0, c1), 36),
    sum: parseInt(value.slice(c1 + 1, c2), 36),
    firstAt: parseInt(value.slice(c2 + 1, c3), 36),
    lastAt: parseInt(value.slice(c3 + 1, c4), 36),
    maxAmount: parseInt(value.slice(c4 + 1), 36),
  };
}

/** One rollup as a history log line (lua/includes/history.lua). */
export function historyLogLine(r: HistoryRollup): string {
  return `${enc36(r.day)}|${r.type}|${r.tags}\t${enc36(r.count)},${enc36(r.sum)},${enc36(r.firstAt)},${enc36(r.lastAt)},${enc36(r.maxAmount)}`;
}

/** The field and value of an exported part in the hash it came from (`part`: the hash's `~e`). */
export function historyField(rollup: HistoryPart, part: string): [field: string, value: string] {
  const value = [rollup.count, rollup.sum, rollup.firstAt, rollup.lastAt, rollup.maxAmount].map(enc36).join(",");
  const key = `${enc36(rollup.day)}|${rollup.type}|${rollup.tags}`;
  if (rollup.part === part) return [key, value];
  return [`+${rollup.part.slice(part.length + 1)}|${key}`, value];
}
