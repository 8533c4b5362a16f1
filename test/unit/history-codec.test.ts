import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base36, decodeHistoryLines } from "../../src/backends/redis/history-codec.ts";
import { selects, type HistoryPart, type HistorySelector } from "../../src/model/history.ts";

/**
 * The Redis history codec's fast paths (src/backends/redis/history-codec.ts) against plain
 * implementations: `base36` is `toString(36)`, and `decodeHistoryLines` reads readHistory-2.lua's text
 * (status fields, own and late rollups, in any order) as a split-and-parse decoder would.
 */
describe("redis history codec", () => {
  it("writes base 36 as toString(36) does, for every safe integer", () => {
    for (const n of [0, 1, 35, 36, 46_655, 46_656, 2_176_782_335, 2_176_782_336, 101_559_956_668_415, 101_559_956_668_416, Number.MAX_SAFE_INTEGER]) {
      expect(base36(n)).toBe(n.toString(36));
    }
    fc.assert(fc.property(fc.maxSafeNat(), (n) => base36(n) === n.toString(36)), { numRuns: 20_000 });
    fc.assert(fc.property(fc.nat({ max: 3_000_000_000_000 }), (n) => base36(n) === n.toString(36)), { numRuns: 20_000 });
  });

  /** The decoder as it was: split the text into lines, parse each field and value. */
  function plainDecode(text: string, selection?: readonly HistorySelector[]): { status: { version: number; completeFor: string | null }; parts: HistoryPart[] } {
    const lines = text === "" ? [] : text.split("\n");
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < lines.length; i += 2) fields.set(lines[i] as string, lines[i + 1] as string);
    const own = fields.get("~e") ?? "";
    const parts: HistoryPart[] = [];
    for (const [field, value] of fields) {
      if (field.startsWith("~")) continue;
      const late = field.startsWith("+") ? field.slice(1, field.indexOf("|")) : undefined;
      const key = late === undefined ? field : field.slice(field.indexOf("|") + 1);
      const [day, type, ...tags] = key.split("|");
      const [count, sum, firstAt, lastAt, maxAmount] = value.split(",").map((digits) => parseInt(digits, 36));
      if (!selects(selection, type as string, tags.join("|"))) continue;
      parts.push({ part: late === undefined ? own : `${own}+${late}`, type: type as string, tags: tags.join("|"), day: parseInt(day as string, 36), count: count as number, sum: sum as number, firstAt: firstAt as number, lastAt: lastAt as number, maxAmount: maxAmount as number });
    }
    const version = fields.get("~q");
    return { status: { completeFor: fields.get("~h") ?? null, version: version === undefined ? 0 : Number(version) }, parts };
  }

  const rollupField = fc.record({
    late: fc.option(fc.nat({ max: 40 }), { nil: undefined }),
    day: fc.nat({ max: 60_000 }),
    type: fc.constantFrom("kill", "login", "loot", "kill_streak"),
    tags: fc.constantFrom("", '{"creature":"troll"}', '{"creature":"goblin","zone":"a|b"}', '{"zone":"north"}'),
    values: fc.tuple(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 1e12 }), fc.nat({ max: 4e12 }), fc.nat({ max: 4e12 }), fc.integer({ min: 1, max: 1e6 })),
  });
  const statusField = fc.constantFrom<[string, string]>(["~q", "17"], ["~e", "mi0abc0123"], ["~h", "set-1"], ["~t", "20400"], ["~c", "3"]);

  it("decodes what a plain split-and-parse decoder decodes, with and without a selection", () => {
    const selections: (readonly HistorySelector[] | undefined)[] = [undefined, [{ type: "kill", fragments: ['"creature":"troll"'] }], [{ type: "login", fragments: [] }, { type: "kill", fragments: [] }], []];
    fc.assert(
      fc.property(fc.array(fc.oneof(statusField, rollupField.map((r): [string, string] => [`${r.late === undefined ? "" : `+${r.late.toString(36)}|`}${r.day.toString(36)}|${r.type}|${r.tags}`, r.values.map((n) => n.toString(36)).join(",")])), { maxLength: 60 }), (pairs) => {
        // A hash holds each field once.
        const unique = [...new Map(pairs).entries()];
        const text = unique.flat().join("\n");
        for (const selection of selections) expect(decodeHistoryLines(text, selection)).toEqual(plainDecode(text, selection));
      }),
      { numRuns: 500 },
    );
  });
});
