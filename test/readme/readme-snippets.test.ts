import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";

/**
 * The README's code blocks marked `<!-- snippet: path -->` must be that file, verbatim, and each
 * such file is run by a test (here or in its own suite), so the README never shows code that broke.
 */
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const snippets = [...readme.matchAll(/<!-- snippet: (\S+) -->\s*```\w*\n([\s\S]*?)```/g)].map((match) => ({ path: match[1] ?? "", code: match[2] ?? "" }));

describe("README snippets", () => {
  it("has snippets", () => {
    expect(snippets.length).toBeGreaterThan(0);
  });

  it.each(snippets)("$path is quoted verbatim", ({ path, code }) => {
    expect(code).toBe(readFileSync(new URL(`../../${path}`, import.meta.url), "utf8"));
  });

  it("the engine quickstart runs and prints what the README says", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const { progress, unlock } = await import("./engine-quickstart.ts");
      expect([progress?.current, progress?.target]).toEqual([99, 100]);
      expect(unlock).toMatchObject({ code: "skaven_slayer", title: "Skaven Slayer", animation: { kind: "confetti" } });
      expect(log.mock.calls).toEqual([
        [99, "/", 100],
        ["Skaven Slayer", { kind: "confetti" }],
        [{ subject: "player-1", item: "gold", free: 500, held: 0 }],
      ]);
    } finally {
      log.mockRestore();
      warn.mockRestore();
    }
  });

  it("the history quickstart runs and prints what the README says", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      const { unlock } = await import("./history-quickstart.ts");
      expect(unlock).toMatchObject({ code: "troll_hunter", retroactive: true });
      expect(log.mock.calls).toEqual([
        ["new", 1],
        ["troll_hunter", true, "2026-11-03T18:01:00.000Z"],
        [{ visited: 1, seeded: 0, awarded: 0, cursor: "0" }],
      ]);
    } finally {
      log.mockRestore();
    }
  });
});
