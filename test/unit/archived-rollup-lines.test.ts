import { describe, expect, it } from "vitest";
import { decodeRollupLines } from "../../src/durability/postgres/archived-rollup-lines.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { HistoryPart } from "../../src/model/history.ts";

/** The archive's compact rollup lines (`<6 integers>\t<part>\t<type>\t<tags>` per line): decoded, or refused. */

const decode = (text: string): HistoryPart[] => {
  const parts: HistoryPart[] = [];
  decodeRollupLines("s", text, parts);
  return parts;
};

describe("decodeRollupLines", () => {
  it("reads each line's numbers, part, type and tags, the tags to the end of the line", () => {
    const text = ['-3\t2\t9\t-259199993\t-172800001\t8\tp1\tkill\t{"creature":"tab\there"}', "20500\t1\t1\t1771200000000\t1771200000000\t1\tp1+2\tlogin\t", '20500\t3\t4\t1\t2\t2\tp1\tkill\t{"creature":"tab\there"}'].join("\n");
    const parts = decode(text);
    expect(parts).toEqual([
      { part: "p1", type: "kill", tags: '{"creature":"tab\there"}', day: -3, count: 2, sum: 9, firstAt: -259199993, lastAt: -172800001, maxAmount: 8 },
      { part: "p1+2", type: "login", tags: "", day: 20500, count: 1, sum: 1, firstAt: 1771200000000, lastAt: 1771200000000, maxAmount: 1 },
      { part: "p1", type: "kill", tags: '{"creature":"tab\there"}', day: 20500, count: 3, sum: 4, firstAt: 1, lastAt: 2, maxAmount: 2 },
    ]);
    // A key seen before is the same strings again.
    expect(parts[2]?.tags).toBe(parts[0]?.tags);
    expect(decode("")).toEqual([]);
  });

  it.each([
    ["a number that is not one", "20500\t1\tx\t1\t2\t1\tp\tkill\t"],
    ["a missing number", "20500\t1\t1\t1\t2\tp\tkill\t"],
    ["an empty number", "20500\t\t1\t1\t2\t1\tp\tkill\t"],
    ["no type or tags", "20500\t1\t1\t1\t2\t1\tp"],
    ["no tags", "20500\t1\t1\t1\t2\t1\tp\tkill"],
    ["a line split by a newline in its type", "20500\t1\t1\t1\t2\t1\tp\tki\nll\t"],
  ])("refuses %s with BACKEND_UNAVAILABLE naming the subject", (_, text) => {
    expect(() => decode(text)).toThrow(expect.objectContaining({ code: ErrorCode.BackendUnavailable, message: expect.stringMatching(/subject "s" does not read as a rollup/) }));
  });
});
