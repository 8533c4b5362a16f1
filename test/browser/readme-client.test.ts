import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./support/chromium.ts";
import { demoServers, type DemoServer, type DemoServers } from "./support/demo-server-process.ts";

/**
 * The README's browser snippet (test/readme/client-quickstart.ts, quoted verbatim by the README) runs in
 * Chromium as a game's page would: bundled, served by the game server's origin, against `npm start`.
 */
const snippet = fileURLToPath(new URL("../readme/client-quickstart.ts", import.meta.url));
const clientEntry = fileURLToPath(new URL("../../client/index.ts", import.meta.url));

describe("the README's client snippet in Chromium", () => {
  let servers: DemoServers;
  let server: DemoServer;
  let browser: Browser;

  beforeAll(async () => {
    servers = await demoServers("embedded");
    [server, browser] = await Promise.all([servers.start(), launchChromium()]);
  }, 40_000);

  afterAll(async () => {
    await browser?.close();
    await servers?.close();
  });

  async function pageWithSnippet(logs: string[]): Promise<Page> {
    const bundle = await build({
      entryPoints: [snippet],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      // The published name resolves to this repository's client kit.
      alias: { "colyseus-progression/client": clientEntry },
    });
    const script = bundle.outputFiles[0]?.text ?? "";
    const page = await browser.newPage();
    page.on("console", (message) => logs.push(message.text()));
    // A page of the game server's own origin (Chromium lets only such a page reach a loopback address),
    // emptied, then the game's script.
    await page.goto(server.url);
    await page.setContent(`<!doctype html><html lang="en"><head><title>A game</title></head><body></body></html>`);
    await page.addScriptTag({ type: "module", content: script });
    return page;
  }

  it("shows the player's milestones from the snapshot, then the unlock toast and the new balance when the player earns one", async () => {
    const logs: string[] = [];
    const page = await pageWithSnippet(logs);
    await expect.poll(() => logs.find((line) => line.includes("First Blood: 0/1")), { timeout: 10_000 }).toBeDefined();

    // The same player kills a goblin from the demo page: the snippet's page gets the push.
    const game = await browser.newPage();
    await game.goto(server.url);
    await game.getByLabel("Player id").fill("player-1");
    await game.getByRole("button", { name: "Join" }).click();
    await game.getByRole("button", { name: "Kill goblin" }).click();

    await expect.poll(() => page.locator(".cp-toast[role=status] .cp-toast-title").allTextContents(), { timeout: 10_000 }).toContain("First Blood");
    await expect.poll(() => logs.includes("gold 10 open holds 0"), { timeout: 10_000 }).toBe(true);
  });
});
