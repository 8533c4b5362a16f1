import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addRollup, mergeCopies, mergeParts, type HistoryPart, type HistoryRollup } from "../../src/model/history.ts";
import { DAY_MS } from "../../src/model/utc-day.ts";

/**
 * `mergeParts` merges by sort (a counting sort by day, then the copies and parts of one key side by side):
 * against the plain model of the contract, a map per key and part. Copies of one part merge by maximum,
 * the parts of one key add up (in part-name order), sorted by day, type and tags.
 */

function model(sources: readonly (readonly HistoryPart[])[], types?: ReadonlySet<string>): HistoryRollup[] {
  const byKey = new Map<string, Map<string, HistoryPart>>();
  for (const parts of sources) {
    for (const part of parts) {
      if (types !== undefined && !types.has(part.type)) continue;
      const key = JSON.stringify([part.day, part.type, part.tags]);
      const copies = byKey.get(key) ?? new Map<string, HistoryPart>();
      byKey.set(key, copies);
      const earlier = copies.get(part.part);
      copies.set(part.part, earlier === undefined ? part : mergeCopies(earlier, part));
    }
  }
  const merged: HistoryRollup[] = [];
  for (const copies of byKey.values()) {
    const parts = [...copies.values()].sort((a, b) => (a.part < b.part ? -1 : a.part > b.part ? 1 : 0));
    merged.push(parts.slice(1).reduce<HistoryRollup>((total, part) => addRollup(total, part), parts[0] as HistoryPart));
  }
  const text = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return merged.sort((a, b) => a.day - b.day || text(a.type, b.type) || text(a.tags, b.tags));
}

/** The rollup's own fields (mergeParts hands back part objects where nothing merged). */
const rollupOf = ({ type, tags, day, count, sum, firstAt, lastAt, maxAmount, rawEvents }: HistoryRollup): HistoryRollup =>
  rawEvents === undefined ? { type, tags, day, count, sum, firstAt, lastAt, maxAmount } : { type, tags, day, count, sum, firstAt, lastAt, maxAmount, rawEvents };

const partArbitrary = (days: fc.Arbitrary<number>): fc.Arbitrary<HistoryPart> =>
  fc
    .record({
      part: fc.constantFrom("a", "b", "a+1", "é", "\u{1F600}"),
      type: fc.constantFrom("kill", "login", "loot"),
      tags: fc.constantFrom("", '{"creature":"troll"}', '{"creature":"goblin"}', '{"zone":"\u{1F600}"}'),
      day: days,
      count: fc.integer({ min: 1, max: 4 }),
      sum: fc.integer({ min: 1, max: 50 }),
      offset: fc.integer({ min: 0, max: DAY_MS - 1 }),
      span: fc.integer({ min: 0, max: 1000 }),
      maxAmount: fc.integer({ min: 1, max: 20 }),
      raw: fc.boolean(),
    })
    .map(({ raw, offset, span, ...part }) => {
      const firstAt = part.day * DAY_MS + offset;
      const rawEvents = raw ? Array.from({ length: part.count }, (_, i) => [firstAt + i, 1]).flat() : undefined;
      return { ...part, firstAt, lastAt: firstAt + span, ...(rawEvents === undefined ? {} : { rawEvents }) };
    });

describe("mergeParts", () => {
  it("merges any sources as the model does: copies by maximum, parts added up, sorted", () => {
    for (const days of [fc.integer({ min: 20_000, max: 20_040 }), fc.integer({ min: -5_000, max: 5_000 })]) {
      fc.assert(
        fc.property(fc.array(fc.array(partArbitrary(days), { maxLength: 60 }), { maxLength: 3 }), fc.option(fc.constantFrom(new Set(["kill"]), new Set(["kill", "login"])), { nil: undefined }), (sources, types) => {
          const before = JSON.stringify(sources);
          expect(mergeParts(sources, types).map(rollupOf)).toEqual(model(sources, types).map(rollupOf));
          expect(JSON.stringify(sources)).toBe(before); // the sources are not reordered or changed
        }),
        { numRuns: 300 },
      );
    }
  });

  it("keeps a history with one copy of each key as it is, in order, whatever order it came in", () => {
    const parts: HistoryPart[] = [];
    for (let day = 20_030; day >= 20_000; day -= 1) {
      for (const tags of ['{"creature":"troll"}', "", '{"creature":"goblin"}']) {
        parts.push({ part: "p", type: tags === "" ? "login" : "kill", tags, day, count: 1, sum: 1, firstAt: day * DAY_MS, lastAt: day * DAY_MS, maxAmount: 1 });
      }
    }
    const merged = mergeParts([parts.slice(0, 40), parts.slice(40)]);
    expect(merged).toHaveLength(parts.length);
    expect(new Set(merged)).toEqual(new Set(parts)); // the same objects, none copied
    expect(merged.map((r) => `${r.day}|${r.type}|${r.tags}`)).toEqual(model([parts]).map((r) => `${r.day}|${r.type}|${r.tags}`));
  });
});
