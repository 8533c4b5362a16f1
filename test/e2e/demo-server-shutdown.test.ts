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

  it("serves the admin preview only with the token, without awarding anything", async () => {
    const port = await freePort();
    const token = "test-admin-token-0123456789";
    demo = runScript("rooms/demo-server.ts", { PORT: String(port), ADMIN_TOKEN: token });
    await demo.waitForOutput("arena room ready");
    const base = `http://127.0.0.1:${port}/progression/admin`;
    const auth = { authorization: `Bearer ${token}` };

    expect((await fetch(`${base}/preview?code=skaven_slayer`)).status).toBe(401);
    expect((await fetch(`${base}/preview?code=skaven_slayer`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);

    const preview = await fetch(`${base}/preview?code=skaven_slayer&locale=de`, { headers: auth });
    expect(preview.status).toBe(200);
    expect(await preview.json()).toMatchObject({ code: "skaven_slayer", title: "Skavenjäger", icon: "icons/skaven_slayer.svg" });

    const unknown = await fetch(`${base}/preview?code=nope`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "UNKNOWN_MILESTONE" });

    const codes = (await (await fetch(`${base}/milestones`, { headers: auth })).json()) as { codes: string[] };
    expect(codes.codes).toContain("first_blood");
    const progress = (await (await fetch(`${base}/progress?subject=nobody`, { headers: auth })).json()) as {
      milestones: Array<{ status: string }>;
    };
    expect(progress.milestones.every((milestone) => milestone.status === "in_progress")).toBe(true);

    expect(await (await fetch(`${base}/history?subject=nobody`, { headers: auth })).json()).toEqual({ subject: "nobody", rollups: [] });
    expect(await (await fetch(`${base}/explain?subject=nobody&code=first_blood`, { headers: auth })).json()).toMatchObject({
      code: "first_blood",
      award: null,
      history: [],
    });
    const post = (body: unknown) => fetch(`${base}/simulate`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await fetch(`${base}/simulate`, { method: "POST", body: "{}" })).status).toBe(401);
    const added = { code: "troll_hunter", title: "t", description: "d", icon: "i.png", trigger: "kill", rule: { type: "count", threshold: 3, where: { creature: "troll" } } };
    const simulated = await post({ definitions: [added] });
    expect(simulated.status).toBe(200);
    const report = (await simulated.json()) as { milestones: Array<{ code: string; change: string }> };
    expect(report.milestones).toEqual(expect.arrayContaining([expect.objectContaining({ code: "troll_hunter", change: "new" }), expect.objectContaining({ code: "first_blood", change: "removed" })]));
    const invalid = await post({ definitions: [{ ...added, rule: { type: "count" } }, { ...added, code: "b", trigger: "" }] });
    expect(invalid.status).toBe(400);
    const refusal = (await invalid.json()) as { code: string; problems: Array<{ code: string }> };
    expect([refusal.code, refusal.problems.map((problem) => problem.code)]).toEqual(["INVALID_DEFINITION", ["troll_hunter", "b"]]);
  });
});
