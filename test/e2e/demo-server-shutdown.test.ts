import { ColyseusSDK } from "@colyseus/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, newPlayerId, TestClient } from "./support/arena-server.ts";
import { runScript, type SpawnedScript } from "./support/spawned-process.ts";

let demo: SpawnedScript | undefined;

afterEach(() => {
  demo?.kill();
  demo = undefined;
});

describe("the demo server (npm start)", () => {
  it("says loudly that it is embedded, serves the monitor, and on SIGTERM mid-stream applies every recorded event before exiting", async () => {
    const port = await freePort();
    demo = runScript("rooms/demo-server.ts", { PORT: String(port) });
    await demo.waitForOutput("arena room ready");
    expect(demo.output()).toContain("EMBEDDED MODE");
    expect(demo.output()).toContain(`ws://localhost:${port}`);

    const monitor = await fetch(`http://127.0.0.1:${port}/monitor/api`);
    expect(monitor.status).toBe(200);

    const sdk = new ColyseusSDK(`ws://127.0.0.1:${port}`);
    const player = new TestClient(await sdk.joinOrCreate("arena", { playerId: newPlayerId("sigterm") }));
    player.room.reconnection.enabled = false;
    await player.waitFor("progression:snapshot");

    // A stream of kills, and SIGTERM while it is still flowing.
    let sent = 0;
    const stream = (async () => {
      while (sent < 3_000 && player.room.connection.isOpen) {
        for (let i = 0; i < 50; i += 1) player.send("kill", { creature: "skaven_warrior" });
        sent += 50;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    while (sent < 500) await new Promise((resolve) => setTimeout(resolve, 1));
    await player.waitFor("progression:unlocked", (u) => u["code"] === "skaven_slayer", 5_000);
    demo.process.kill("SIGTERM");
    const code = await demo.exited;
    await stream;

    expect(code).toBe(0);
    const summary = /\[demo\] shutdown: applied=(\d+) pending=(\d+)/.exec(demo.output());
    expect(summary, demo.output()).not.toBeNull();
    const applied = Number(summary?.[1]);
    expect(Number(summary?.[2])).toBe(0);
    expect(applied).toBeGreaterThanOrEqual(100); // at least the kills that earned skaven_slayer
    expect(applied).toBeLessThanOrEqual(sent);
  });
});
