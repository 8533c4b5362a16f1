import { describe, expect, it, vi } from "vitest";

describe("README: preconditions, series, seasons and rarity", () => {
  it("the game-features snippet runs and prints what its comments say", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await import("./game-features-quickstart.ts");
      expect(log.mock.calls).toEqual([
        [["slayer_1", "winter_hunt"]],
        ["in_progress", 60, [{ code: "boss_slain", title: "boss_slain", awarded: false }]],
        [["boss_slain", "champion"]],
        [{ id: "slayer", order: 1, of: 2, next: { masked: false, code: "slayer_2", title: "slayer_2", target: 100 } }],
        [{ percent: 50, holders: 1, activePlayers: 2, windowDays: 30 }],
      ]);
    } finally {
      log.mockRestore();
    }
  });
});
