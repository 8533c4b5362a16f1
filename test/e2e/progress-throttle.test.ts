import { beforeAll, expect, it } from "vitest";
import type { ProgressMessage, UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { newPlayerId, describeArena, type ArenaServer } from "./support/arena-server.ts";

let arena: ArenaServer;

describeArena({ host: { progressIntervalMs: 150 } }, (handle) => {
  beforeAll(() => {
    arena = handle;
  });

  it("caps progress pushes per player at one per milestone per progressIntervalMs, latest value, never after the unlock", async () => {
    const player = await arena.join(newPlayerId("throttled"));
    await player.waitFor("progression:snapshot");
    const started = Date.now();
    for (let burst = 0; burst < 10; burst += 1) {
      for (let i = 0; i < 3; i += 1) player.send("kill", { creature: "goblin" });
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await player.waitFor<ProgressMessage>("progression:progress", (p) => p.code === "slayer_100" && p.current === 30, 2_000);
    const elapsed = Date.now() - started;

    const slayer100 = player.messages<ProgressMessage>("progression:progress").filter((p) => p.code === "slayer_100");
    // About 30 flushes happened; at most one push per 150 ms window got through (plus the first and last edges).
    expect(slayer100.length).toBeLessThanOrEqual(Math.ceil(elapsed / 150) + 2);
    expect(slayer100.length).toBeLessThan(15);

    // slayer_10 was reached on the way: its unlock came once, and no progress for it followed.
    const unlockIndex = player.received.findIndex(
      (m) => m.type === "progression:unlocked" && (m.payload as UnlockedMessage).code === "slayer_10",
    );
    expect(unlockIndex).toBeGreaterThanOrEqual(0);
    const after = player.received.slice(unlockIndex + 1);
    expect(after.filter((m) => m.type === "progression:progress" && (m.payload as ProgressMessage).code === "slayer_10")).toEqual([]);
  });
});
