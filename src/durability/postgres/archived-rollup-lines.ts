import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import { rollupKey, type HistoryPart } from "../../model/history.ts";

/**
 * The compact form in which the archive hands a subject's rollups to Node (backfill and simulate read
 * every player's history: this is their hot path). PostgreSQL joins a subject's rows into one text
 * value, a line per row, `<day>\t<count>\t<sum>\t<first_at>\t<last_at>\t<max_amount>\t<part>\t<type>\t<tags>`,
 * so the driver parses one field per subject instead of ten per row, and `decodeRollupLines` reads the
 * numbers where they stand and finds a line's (part, type, tags) among those of earlier lines without
 * slicing it. Parts are the engine's names and types identifiers, neither holds a tab or a newline;
 * tags are canonical JSON (control characters escaped) and come last, so they are read to the end of
 * the line. A line that does not read as a rollup is refused, never guessed at.
 */

/** The aggregate of `<schema>.history` rows into one text value per subject (GROUP BY subject). */
export const ROLLUP_LINES_AGGREGATE = "string_agg(concat_ws(E'\\t', day, count, sum, first_at, last_at, max_amount, part, type, tags), E'\\n')";

/** The (part, type, tags) of lines seen so far in one value. */
interface LineKey {
  /** `<part>\t<type>\t<tags>`, as the line ends. */
  readonly text: string;
  readonly part: string;
  readonly type: string;
  readonly tags: string;
}

/** A subject has a few keys; past a few dozen, a scan would cost more than slicing. */
const KEY_CACHE_SIZE = 32;
const TAB = 9;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

/** The parts of one subject's `ROLLUP_LINES_AGGREGATE` value, appended to `into`. */
export function decodeRollupLines(subject: string, text: string, into: HistoryPart[]): void {
  const keys: LineKey[] = [];
  const values = [0, 0, 0, 0, 0, 0];
  for (let at = 0; at < text.length; ) {
    // Six integers, each ending with a tab, read digit by digit (every one was a safe integer when written).
    let i = at;
    for (let field = 0; field < 6; field += 1) {
      let c = text.charCodeAt(i);
      const negative = c === MINUS;
      if (negative) c = text.charCodeAt((i += 1));
      const first = i;
      let value = 0;
      while (c >= ZERO && c <= NINE) {
        value = value * 10 + (c - ZERO);
        c = text.charCodeAt((i += 1));
      }
      if (i === first || c !== TAB) throw malformed(subject, text, at);
      values[field] = negative ? -value : value;
      i += 1;
    }
    let end = text.indexOf("\n", i);
    if (end < 0) end = text.length;
    let key: LineKey | undefined;
    for (const known of keys) {
      if (known.text.length === end - i && text.startsWith(known.text, i)) {
        key = known;
        break;
      }
    }
    if (key === undefined) {
      const typeAt = text.indexOf("\t", i) + 1;
      const tagsAt = typeAt === 0 ? 0 : text.indexOf("\t", typeAt) + 1;
      if (typeAt === 0 || typeAt > end || tagsAt === 0 || tagsAt > end) throw malformed(subject, text, at);
      key = { text: text.slice(i, end), part: text.slice(i, typeAt - 1), type: text.slice(typeAt, tagsAt - 1), tags: text.slice(tagsAt, end) };
      if (keys.length < KEY_CACHE_SIZE) keys.push(key);
    }
    into.push({
      part: key.part,
      type: key.type,
      tags: key.tags,
      day: values[0] as number,
      count: values[1] as number,
      sum: values[2] as number,
      firstAt: values[3] as number,
      lastAt: values[4] as number,
      maxAmount: values[5] as number,
    });
    at = end + 1;
  }
}

function malformed(subject: string, text: string, at: number): ProgressionError {
  const end = text.indexOf("\n", at);
  const line = text.slice(at, Math.min(end < 0 ? text.length : end, at + 200));
  return new ProgressionError(
    ErrorCode.BackendUnavailable,
    `history archive: a row of subject ${JSON.stringify(subject)} does not read as a rollup (${JSON.stringify(line)}); its part or type holds a tab or a newline, which the engine never writes: repair or delete that row`,
    { subject, line },
  );
}

/**
 * The parts of a read, kept as each subject's text and decoded when asked for: a reader that takes one
 * subject at a time (a backfill page, a simulation) replays its parts and drops them before the next
 * subject's are made, so they die young instead of a page's worth living through collections.
 * `rawEvents`: by subject, the raw events of the parts that have them, by `<part>#<rollupKey>`.
 */
export class ArchivedRollupLines implements ReadonlyMap<string, readonly HistoryPart[]> {
  readonly #texts: ReadonlyMap<string, string>;
  readonly #rawEvents: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>> | undefined;

  constructor(texts: ReadonlyMap<string, string>, rawEvents?: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>) {
    this.#texts = texts;
    this.#rawEvents = rawEvents;
  }

  get size(): number {
    return this.#texts.size;
  }

  has(subject: string): boolean {
    return this.#texts.has(subject);
  }

  get(subject: string): readonly HistoryPart[] | undefined {
    const text = this.#texts.get(subject);
    if (text === undefined) return undefined;
    const parts: HistoryPart[] = [];
    decodeRollupLines(subject, text, parts);
    const byKey = this.#rawEvents?.get(subject);
    if (byKey !== undefined) {
      for (const [i, part] of parts.entries()) {
        const rawEvents = byKey.get(`${part.part}#${rollupKey(part)}`);
        if (rawEvents !== undefined) parts[i] = { ...part, rawEvents };
      }
    }
    return parts;
  }

  *keys(): MapIterator<string> {
    yield* this.#texts.keys();
  }

  *entries(): MapIterator<[string, readonly HistoryPart[]]> {
    for (const subject of this.#texts.keys()) yield [subject, this.get(subject) as readonly HistoryPart[]];
  }

  *values(): MapIterator<readonly HistoryPart[]> {
    for (const [, parts] of this.entries()) yield parts;
  }

  [Symbol.iterator](): MapIterator<[string, readonly HistoryPart[]]> {
    return this.entries();
  }

  forEach(callback: (parts: readonly HistoryPart[], subject: string, map: ReadonlyMap<string, readonly HistoryPart[]>) => void): void {
    for (const [subject, parts] of this.entries()) callback(parts, subject, this);
  }
}
