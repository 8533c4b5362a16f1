import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ColyseusSDK } from "@colyseus/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, newPlayerId, TestClient } from "./support/arena-server.ts";

const repoRoot = join(import.meta.dirname, "..", "..");
let child: ChildProcess | undefined;

afterEach(() => {
  // Only the process this test started, by its own handle.
  if (child !== undefined && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
});

/** Starts `npm start`'s script on a free port and resolves once it listens. */
async function startDemo(env: Record<string, string> = {}): Promise<{ port: number; output: () => string; exited: Promise<number | null> }> {
  const port = await freePort();
  const started = spawn(process.execPath, ["--experimental-strip-types", "rooms/demo-server.ts"], {
    cwd: repoRoot,
    env: { ...process.env, REDIS_URL: "", PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = started;
  let output = "";
  started.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  started.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => started.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  while (!output.includes("arena room ready")) {
    if (started.exitCode !== null || Date.now() > deadline) throw new Error(`demo server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { port, output: () => output, exited };
}

describe("the demo server (npm start)", () => {
  it("says loudly that it is embedded, serves the monitor, and on SIGTERM mid-stream applies every recorded event before exiting", async () => {
    const demo = await startDemo();
    expect(demo.output()).toContain("EMBEDDED MODE");
    expect(demo.output()).toContain(`ws://localhost:${demo.port}`);

    const monitor = await fetch(`http://127.0.0.1:${demo.port}/monitor/api`);
    expect(monitor.status).toBe(200);

    const sdk = new ColyseusSDK(`ws://127.0.0.1:${demo.port}`);
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
    child?.kill("SIGTERM");
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
