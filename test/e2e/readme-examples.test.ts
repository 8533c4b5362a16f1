import { ColyseusSDK } from "@colyseus/sdk";
import { afterEach, describe, expect, it } from "vitest";
import type { UnlockedMessage } from "../../src/protocol/client-messages.ts";
import { freePort, newPlayerId, TestClient } from "./support/arena-server.ts";
import { runScript, waitForPort, type SpawnedScript } from "./support/spawned-process.ts";

/**
 * The README's "Add it to your room" and "Client messages" snippets are these files, verbatim
 * (test/readme checks that); here they run for real.
 */
const started: SpawnedScript[] = [];

afterEach(() => {
  for (const script of started.splice(0)) script.kill();
});

describe("README examples", () => {
  it("the room quickstart serves a room with the plugin and flushes on SIGTERM", async () => {
    const port = await freePort();
    const server = runScript("rooms/quickstart/quickstart-server.ts", { PORT: String(port) });
    started.push(server);
    await waitForPort(port);

    const sdk = new ColyseusSDK(`ws://127.0.0.1:${port}`);
    const player = new TestClient(await sdk.joinOrCreate("arena", { playerId: newPlayerId("readme") }));
    player.room.reconnection.enabled = false;
    await player.waitFor("progression:snapshot");
    player.send("kill", { creature: "skaven_warrior" });
    expect((await player.waitFor<UnlockedMessage>("progression:unlocked")).code).toBe("first_blood");
    player.send("kill", { creature: "unicorn" });
    expect((await player.waitFor<{ code: string }>("progression:rejected")).code).toBe("INVALID_INPUT");

    server.process.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });

  it("the client example runs against npm start's demo server", async () => {
    const port = await freePort();
    const demo = runScript("rooms/demo-server.ts", { PORT: String(port) });
    started.push(demo);
    await demo.waitForOutput("arena room ready");

    const client = runScript("rooms/quickstart/quickstart-client.ts", { ENDPOINT: `ws://127.0.0.1:${port}` });
    started.push(client);
    expect(await client.exited, client.output()).toBe(0);
    const output = client.output();
    expect(output).toContain("snapshot: 12 milestones");
    expect(output).toContain("unlocked: First Blood (first_blood)");
    expect(output).toContain("unlocked: Slayer I (slayer_10)");
    expect(output).toContain("claimed: [ { item: 'potion', quantity: 2 } ]");
    expect(output).toContain("rejected: ALREADY_CLAIMED");
  });
});
