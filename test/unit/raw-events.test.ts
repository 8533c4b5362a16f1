import { describe, expect, it } from "vitest";
import { createProgression } from "../../src/engine/create-progression.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { decodeHistoryHash, decodeHistoryLines, historyField, rawEventsLogLine } from "../../src/backends/redis/history-codec.ts";
import { addRollup, completeRawEvents, mergeCopies, mergeParts, type HistoryPart } from "../../src/model/history.ts";
import { crossedAt } from "../../src/counters/counter-kind.ts";
import { DAY_MS } from "../../src/model/utc-day.ts";

const definitions = [{ code: "first_kill", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count" as const, threshold: 1 } }];
const DAY = 20_500;
const at = (ms: number): number => DAY * DAY_MS + ms;
const part = (values: Partial<HistoryPart> = {}): HistoryPart => ({ part: "p1", type: "kill", tags: '{"creature":"troll"}', day: DAY, count: 2, sum: 5, firstAt: at(10), lastAt: at(2000), maxAmount: 4, ...values });

describe("the historyRawEvents option", () => {
  it.each([
    [{ retentionDays: 0 }, /historyRawEvents\.retentionDays must be a whole number of UTC days from 1 to 3650.*got 0/],
    [{ retentionDays: 1.5 }, /historyRawEvents\.retentionDays/],
    [{}, /historyRawEvents\.retentionDays.*got undefined/],
    [{ retentionDays: 7, maxPerRollup: 0 }, /historyRawEvents\.maxPerRollup must be a whole number from 1 to 100000/],
    [{ retentionDays: 7, keep: true }, /historyRawEvents has unknown option "keep"/],
    [7, /historyRawEvents must be an object, got 7/],
  ])("refuses %j with INVALID_INPUT naming the option and the fix", (option, message) => {
    const create = () => createProgression({ definitions, historyRawEvents: option as never, onMissingTranslations: () => {} });
    expect(create).toThrow(message);
    expect(create).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput }));
  });

  it("needs the history", () => {
    expect(() => createProgression({ definitions, history: false, historyRawEvents: { retentionDays: 7 }, onMissingTranslations: () => {} })).toThrow(/historyRawEvents needs the event history/);
  });

  it("is off by default and on with a retention", async () => {
    for (const option of [undefined, { retentionDays: 7 }]) {
      const progression = createProgression({ definitions, clock: () => at(100), ...(option === undefined ? {} : { historyRawEvents: option }), onMissingTranslations: () => {} });
      await progression.record({ type: "kill", subject: "p1", at: at(5) });
      expect((await progression.backend.readHistory("p1")).parts.map((p) => p.rawEvents)).toEqual([option === undefined ? undefined : [at(5), 1]]);
      await progression.close();
    }
  });
});

describe("raw events of a rollup", () => {
  it("are complete when they hold every event it counts (the first `count` of them)", () => {
    expect(completeRawEvents(part())).toBeUndefined();
    expect(completeRawEvents(part({ rawEvents: [at(10), 1] }))).toBeUndefined();
    expect(completeRawEvents(part({ rawEvents: [at(10), 1, at(2000), 4] }))).toEqual([at(10), 1, at(2000), 4]);
    // A part object read earlier than later appends: its own events are the first ones.
    expect(completeRawEvents(part({ rawEvents: [at(10), 1, at(2000), 4, at(3000), 1] }))).toEqual([at(10), 1, at(2000), 4]);
  });

  it("merge by the longer copy, add up only when both parts are complete", () => {
    const short = part({ count: 1, rawEvents: [at(10), 1] });
    const long = part({ rawEvents: [at(10), 1, at(2000), 4] });
    expect(mergeCopies(short, long).rawEvents).toEqual(long.rawEvents);
    expect(mergeCopies(long, short).rawEvents).toEqual(long.rawEvents);
    expect(mergeCopies(part(), part()).rawEvents).toBeUndefined();
    expect(addRollup(long, part({ part: "p1+1", count: 1, sum: 1, rawEvents: [at(5), 1] })).rawEvents).toEqual([at(10), 1, at(2000), 4, at(5), 1]);
    expect(addRollup(long, part({ part: "p1+1", count: 1, sum: 1 }))).not.toHaveProperty("rawEvents");
    const [merged] = mergeParts([[long], [part({ part: "p2", count: 1, sum: 3, rawEvents: [at(1), 3] })]]);
    expect(merged).toMatchObject({ count: 3, sum: 8, rawEvents: [at(10), 1, at(2000), 4, at(1), 3] });
  });

  it("stamp a crossing at the event that made it, and by the day rule when they do not add up", () => {
    const day = { day: DAY, count: 3, sum: 6, firstAt: at(1), lastAt: at(3), maxAmount: 3, events: [at(1), 1, at(2), 2, at(3), 3] };
    expect(crossedAt(day, 0, 3, day.lastAt)).toBe(at(2));
    expect(crossedAt(day, 2, 3, day.lastAt)).toBe(at(1));
    expect(crossedAt(day, 0, 7, day.lastAt)).toBe(day.lastAt);
    expect(crossedAt({ ...day, events: undefined }, 0, 3, day.lastAt)).toBe(day.lastAt);
  });
});

describe("the Redis text of raw events", () => {
  const field = `${DAY.toString(36)}|kill|{"creature":"troll"}`;
  const value = `${(10).toString(36)},${(2000).toString(36)}:4`;

  it("reads back from a hash and from readHistory's lines, own and late parts alike", () => {
    const rollup = `2,5,${at(10).toString(36)},${at(2000).toString(36)},4`;
    const hash = { "~e": "p1", "~q": "3", "~h": "set", [field]: rollup, [`*${field}`]: value, [`+1|${field}`]: rollup, [`*+1|${field}`]: value };
    const lines = Object.entries(hash).flat().join("\n");
    for (const decoded of [decodeHistoryHash(hash), decodeHistoryLines(lines)]) {
      expect(decoded.parts.map((p) => [p.part, p.count, p.rawEvents])).toEqual([
        ["p1", 2, [at(10), 1, at(2000), 4]],
        ["p1+1", 2, [at(10), 1, at(2000), 4]],
      ]);
    }
    // The drop after archiving names the raw field with the exact value it holds.
    const [own] = decodeHistoryHash(hash).parts;
    expect(historyField(own as HistoryPart, "p1")).toEqual([field, rollup, `*${field}`, value]);
  });

  it("is a log line only for a rollup that carries all of its events", () => {
    expect(rawEventsLogLine(part({ rawEvents: [at(10), 1, at(2000), 4] }))).toBe(`*${field}\t${value}`);
    expect(rawEventsLogLine(part({ rawEvents: [at(10), 1] }))).toBeNull();
    expect(rawEventsLogLine(part())).toBeNull();
  });
});
