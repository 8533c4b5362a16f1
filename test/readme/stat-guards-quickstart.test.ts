import { expect, it, vi } from "vitest";

/** The README's "Stat guards" snippet (test/readme/stat-guards-quickstart.ts, quoted verbatim there) runs and prints what it says. */
it("the stat guards snippet refuses a bulk kill and a flush past the window, and reports both", async () => {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    const { slayerProgress } = await import("./stat-guards-quickstart.ts");
    expect(slayerProgress?.current).toBe(600);
    expect(log.mock.calls).toEqual([
      ["player-1", "maxAmount", 50, "over", 10],
      ["GUARD_EXCEEDED"],
      ["player-1", "maxPerWindow", 610, "over", 600],
      [600],
    ]);
  } finally {
    log.mockRestore();
  }
});
