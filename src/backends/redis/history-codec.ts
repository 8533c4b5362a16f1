import type { HistoryPart, HistoryRollup, HistorySelector, HistoryStatus } from "../../model/history.ts";
import { selects } from "../../model/history.ts";
import type { SubjectHistory } from "../contract/history-backend.ts";
import { enc36 } from "../../counters/counter-kind.ts";
import { DAY_MS } from "../../model/utc-day.ts";

/**
 * A subject's history hash as lua/includes/history.lua writes it: status fields `~q ~h ~e ~t ~c ~x`, rollups
 * of the hash's own part under `<day36>|<type>|<tags>`, late parts under `+<version36>|<day36>|<type>|<tags>`,
 * each valued `<count>,<sum>,<firstAt>,<lastAt>,<maxAmount>` in base 36; a rollup's raw events under its
 * field with a leading `*`, valued `<event>,<event>,...` in the order recorded, an event being
 * `<at - day start>` or `<at - day start>:<amount>` (amount 1 is left out), base 36.
 */

export function statusOf(version: string | null | undefined, completeFor: string | null | undefined): HistoryStatus {
  return { completeFor: completeFor ?? null, version: version === undefined || version === null ? 0 : Number(version) };
}

/** `selection`: only the rollups it selects are decoded (the others are skipped before their values are parsed). */
export function decodeHistoryHash(fields: Readonly<Record<string, string>>, selection?: readonly HistorySelector[]): SubjectHistory {
  const part = fields["~e"] ?? null;
  const parts: HistoryPart[] = [];
  for (const field in fields) {
    const first = field.charCodeAt(0);
    if (first === TILDE || first === STAR) continue;
    const rollup = decodeRollup(field, fields[field] as string, part ?? "", selection);
    if (rollup === null) continue;
    const raw = fields[`*${field}`];
    parts.push(raw === undefined ? rollup : { ...rollup, rawEvents: decodeRawEvents(raw, 0, raw.length, rollup.day) });
  }
  return { status: statusOf(fields["~q"], fields["~h"]), parts };
}

/**
 * The text readHistory-2.lua returns: fields and values, one per line. Decoded in one pass over the
 * text without splitting it (backfill and simulate read every player's history: this is their hot
 * path): numbers are read digit by digit where they stand, and a rollup's type and tags are the same
 * string objects as those of an earlier rollup with the same ones (a player has few).
 */
export function decodeHistoryLines(text: string, selection?: readonly HistorySelector[]): SubjectHistory {
  if (text === "") return { status: statusOf(undefined, undefined), parts: [] };
  let part: string | null = null;
  let version: string | undefined;
  let completeFor: string | undefined;
  // Status fields first (the part name names every rollup): "~x" lines, wherever they are (a hash
  // lists them first, being its oldest fields, so this stops after three lines as a rule).
  for (let at = 0, found = 0; at < text.length && found < 3; ) {
    const fieldEnd = text.indexOf("\n", at);
    if (fieldEnd < 0) break;
    const valueEnd = endOfLine(text, fieldEnd + 1);
    if (text.charCodeAt(at) === TILDE && fieldEnd - at === 2) {
      const name = text.charCodeAt(at + 1);
      if (name === 101) part = text.slice(fieldEnd + 1, valueEnd); // ~e
      else if (name === 113) version = text.slice(fieldEnd + 1, valueEnd); // ~q
      else if (name === 104) completeFor = text.slice(fieldEnd + 1, valueEnd); // ~h
      if (name === 101 || name === 113 || name === 104) found += 1;
    }
    at = valueEnd + 1;
  }
  const ownPart = part ?? "";
  const keys = new KeyCache(selection);
  const parts: HistoryPart[] = [];
  // Raw events (fields "*<rollup field>"), by their rollup's field, and each part's field: only when the
  // reply holds any (a field follows a newline, so this finds every one of them).
  const raw = text.charCodeAt(0) === STAR || text.includes("\n*") ? new Map<string, [start: number, end: number]>() : undefined;
  const partFields: string[] = [];
  for (let at = 0; at < text.length; ) {
    const fieldEnd = text.indexOf("\n", at);
    if (fieldEnd < 0) break;
    const valueEnd = endOfLine(text, fieldEnd + 1);
    const first = text.charCodeAt(at);
    if (first === STAR) {
      raw?.set(text.slice(at + 1, fieldEnd), [fieldEnd + 1, valueEnd]);
    } else if (first !== TILDE) {
      let name = ownPart;
      let start = at;
      if (first === PLUS) {
        start = text.indexOf("|", at) + 1;
        name = `${ownPart}+${text.slice(at + 1, start - 1)}`;
      }
      const bar = text.indexOf("|", start);
      const key = keys.of(text, bar + 1, fieldEnd);
      if (key !== null) {
        const v = fieldEnd + 1;
        const c1 = text.indexOf(",", v);
        const c2 = text.indexOf(",", c1 + 1);
        const c3 = text.indexOf(",", c2 + 1);
        const c4 = text.indexOf(",", c3 + 1);
        parts.push({
          part: name,
          type: key.type,
          tags: key.tags,
          day: dec36Between(text, start, bar),
          count: dec36Between(text, v, c1),
          sum: dec36Between(text, c1 + 1, c2),
          firstAt: dec36Between(text, c2 + 1, c3),
          lastAt: dec36Between(text, c3 + 1, c4),
          maxAmount: dec36Between(text, c4 + 1, valueEnd),
        });
        if (raw !== undefined) partFields.push(text.slice(at, fieldEnd));
      }
    }
    at = valueEnd + 1;
  }
  if (raw !== undefined && raw.size > 0) {
    for (const [i, rollup] of parts.entries()) {
      const value = raw.get(partFields[i] as string);
      if (value !== undefined) parts[i] = { ...rollup, rawEvents: decodeRawEvents(text, value[0], value[1], rollup.day) };
    }
  }
  return { status: statusOf(version, completeFor), parts };
}

/** The raw events of text[start, end) (a raw-events value) of a rollup of `day`: `[at, amount, ...]`. */
function decodeRawEvents(text: string, start: number, end: number, day: number): number[] {
  const events: number[] = [];
  if (start >= end) return events;
  const dayStart = day * DAY_MS;
  let offset = 0;
  let amount = 0;
  let inAmount = false;
  for (let i = start; i <= end; i += 1) {
    const c = i === end ? COMMA : text.charCodeAt(i);
    if (c === COMMA) {
      events.push(dayStart + offset, inAmount ? amount : 1);
      offset = 0;
      amount = 0;
      inAmount = false;
    } else if (c === COLON) {
      inAmount = true;
    } else {
      const digit = c < 58 ? c - 48 : c - 87;
      if (inAmount) amount = amount * 36 + digit;
      else offset = offset * 36 + digit;
    }
  }
  return events;
}

/** One event of a raw-events value (see the hash layout above). */
function rawEvent(at: number, amount: number, dayStart: number): string {
  return amount === 1 ? base36(at - dayStart) : `${base36(at - dayStart)}:${base36(amount)}`;
}

/** The value of a rollup's raw-events field: its events as `rawEvents` holds them. */
export function rawEventsValue(rawEvents: readonly number[], day: number): string {
  const dayStart = day * DAY_MS;
  let value = "";
  for (let i = 0; i + 1 < rawEvents.length; i += 2) {
    if (i > 0) value += ",";
    value += rawEvent(rawEvents[i] as number, rawEvents[i + 1] as number, dayStart);
  }
  return value;
}

/**
 * The raw-events log line of a rollup of one apply (lua/includes/history.lua), or null when it does not
 * carry every one of its events (the script then keeps none for it).
 */
export function rawEventsLogLine(r: HistoryRollup): string | null {
  const raw = r.rawEvents;
  if (raw === undefined || raw.length !== 2 * r.count || r.count === 0) return null;
  return `*${base36(r.day)}|${r.type}|${r.tags}\t${rawEventsValue(raw, r.day)}`;
}

function endOfLine(text: string, from: number): number {
  const end = text.indexOf("\n", from);
  return end < 0 ? text.length : end;
}

/** A base-36 number (digits and lower-case letters) of text[start, end), read where it stands. */
function dec36Between(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i += 1) {
    const c = text.charCodeAt(i);
    n = n * 36 + (c < 58 ? c - 48 : c - 87);
  }
  return n;
}

interface RollupKey {
  readonly type: string;
  readonly tags: string;
  /** Whether the reader's selection selects it. */
  readonly selected: boolean;
}

/** The (type, tags) of rollup fields seen so far in one reply: "<type>|<tags>" found again without slicing it. */
class KeyCache {
  readonly #known: RollupKey[] = [];
  readonly #selection: readonly HistorySelector[] | undefined;

  constructor(selection: readonly HistorySelector[] | undefined) {
    this.#selection = selection;
  }

  /** The key of text[start, end) ("<type>|<tags>"), or null when the selection does not select it. */
  of(text: string, start: number, end: number): RollupKey | null {
    for (const key of this.#known) {
      if (end - start === key.type.length + 1 + key.tags.length && text.startsWith(key.type, start) && text.charCodeAt(start + key.type.length) === BAR && text.startsWith(key.tags, start + key.type.length + 1)) {
        return key.selected ? key : null;
      }
    }
    const bar = text.indexOf("|", start);
    const type = text.slice(start, bar);
    const tags = text.slice(bar + 1, end);
    const key = { type, tags, selected: selects(this.#selection, type, tags) };
    // A player has a few keys; past a few dozen, a scan would cost more than slicing.
    if (this.#known.length < KEY_CACHE_SIZE) this.#known.push(key);
    return key.selected ? key : null;
  }
}

const KEY_CACHE_SIZE = 32;
const BAR = 124;
const TILDE = 126;
const PLUS = 43;
const STAR = 42;
const COMMA = 44;
const COLON = 58;

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
  return `${base36(r.day)}|${r.type}|${r.tags}\t${base36(r.count)},${base36(r.sum)},${base36(r.firstAt)},${base36(r.lastAt)},${base36(r.maxAmount)}`;
}

/** Base-36 digits of every number below 36^3, and the same padded to three digits. */
const DIGITS3 = Array.from({ length: 46_656 }, (_, n) => n.toString(36));
const PADDED3 = DIGITS3.map((digits) => digits.padStart(3, "0"));
const B3 = 46_656;
const B6 = B3 * B3;
const B9 = B6 * B3;

/**
 * `n.toString(36)` for a non-negative safe integer, by table (three digits a look-up): the log lines of
 * every flush carry five or six numbers per rollup, timestamps among them, and V8's radix conversion
 * of a large number costs several times more.
 */
export function base36(n: number): string {
  if (!(n >= 0 && n < B9 && Number.isInteger(n))) return n.toString(36);
  if (n < B3) return DIGITS3[n] as string;
  if (n < B6) {
    // Below 2^32: integer arithmetic.
    const high = (n / B3) | 0;
    return (DIGITS3[high] as string) + (PADDED3[n - high * B3] as string);
  }
  const high = Math.floor(n / B6);
  const rest = n - high * B6;
  const mid = (rest / B3) | 0;
  return (DIGITS3[high] as string) + (PADDED3[mid] as string) + (PADDED3[rest - mid * B3] as string);
}

/**
 * The fields and values of an exported part in the hash it came from (`part`: the hash's `~e`): its
 * rollup, then its raw events' when it carries any (flat: field, value, field, value).
 */
export function historyField(rollup: HistoryPart, part: string): string[] {
  const value = [rollup.count, rollup.sum, rollup.firstAt, rollup.lastAt, rollup.maxAmount].map(enc36).join(",");
  const key = `${enc36(rollup.day)}|${rollup.type}|${rollup.tags}`;
  const field = rollup.part === part ? key : `+${rollup.part.slice(part.length + 1)}|${key}`;
  return rollup.rawEvents === undefined ? [field, value] : [field, value, `*${field}`, rawEventsValue(rollup.rawEvents, rollup.day)];
}
