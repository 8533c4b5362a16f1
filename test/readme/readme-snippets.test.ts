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
});
