import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MilestoneProgress } from "../../../src/model/progress.ts";
import { launchChromium } from "./chromium.ts";
import { demoServers, type DemoMode, type DemoServer, type DemoServers } from "./demo-server-process.ts";

/**
 * The demo page and the admin tab in real Chromium, against the demo server as `npm start` runs it. Every
 * wait is on a condition (Playwright's auto-waiting locators, expect.poll), never a fixed sleep.
 */
const screenshots = join(import.meta.dirname, "..", "..", "..", "test-output", "screenshots");
const waitMs = 10_000;

interface CatalogEntry {
  readonly code: string;
  readonly reached: number;
  readonly claimed: number;
}

export function describeBrowser(mode: DemoMode): void {
  describe(`the demo page and the admin tab in Chromium (${mode} mode)`, () => {
    let servers: DemoServers;
    let server: DemoServer;
    let browser: Browser;
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      mkdirSync(screenshots, { recursive: true });
      servers = await demoServers(mode);
      // Both settle before a failure is thrown: a server started while Chromium failed is closed by afterAll.
      const [started, launched] = await Promise.allSettled([servers.start(), launchChromium()]);
      if (started.status === "fulfilled") server = started.value;
      if (launched.status === "fulfilled") browser = launched.value;
      for (const outcome of [started, launched]) if (outcome.status === "rejected") throw outcome.reason;
    }, 40_000);

    afterAll(async () => {
      await Promise.all(contexts.map((context) => context.close()));
      await browser?.close();
      await servers?.close();
    });

    async function newPage(): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(waitMs);
      return page;
    }

    /** Opens the demo page and joins as `playerId`; resolves once the first snapshot is shown. */
    async function joinDemo(playerId: string, locale: "en" | "de" = "en", on: DemoServer = server): Promise<Page> {
      const page = await newPage();
      await page.goto(on.url);
      await page.getByLabel("Player id").fill(playerId);
      await page.getByLabel("Locale").selectOption(locale);
      await page.getByRole("button", { name: "Join" }).click();
      await expect.poll(() => page.locator(".milestone").count(), { timeout: waitMs }).toBeGreaterThan(0);
      return page;
    }

    const milestone = (page: Page, code: string): Locator => page.locator(`li.milestone[data-code="${code}"]`);
    const inventoryCell = (page: Page, item: string, column: "free" | "held"): Locator => page.locator(`#inventory tr[data-item="${item}"] td.${column}`);
    const toast = (page: Page, title: string): Locator => page.locator(".cp-toast[role=status]").filter({ has: page.locator(".cp-toast-title", { hasText: new RegExp(`^${title}$`) }) });
    const catalogCounts = async (): Promise<Record<string, CatalogEntry>> => {
      const catalog = await server.admin<{ milestones: CatalogEntry[] }>("/catalog");
      return Object.fromEntries(catalog.milestones.map((entry) => [entry.code, entry]));
    };
    const progressOf = async (playerId: string): Promise<Record<string, MilestoneProgress>> => {
      const { milestones } = await server.admin<{ milestones: MilestoneProgress[] }>(`/progress?subject=${encodeURIComponent(playerId)}`);
      return Object.fromEntries(milestones.map((entry) => [entry.code, entry]));
    };
    /** Opens the admin tab and signs in with `token` (the server's by default). */
    async function openAdminTab(token = server.adminToken): Promise<Page> {
      const page = await newPage();
      await page.goto(`${server.url}/progression/admin`);
      await page.getByLabel("Admin token").fill(token);
      await page.getByRole("button", { name: "Sign in" }).click();
      return page;
    }

    it("join, ten goblins: First Blood then Slayer I toasts, confetti drawn, bars moved; claiming grants the reward in the inventory", async () => {
      const playerId = `hero-${mode}-${Date.now().toString(36)}`;
      const page = await joinDemo(playerId);
      const slayerBar = milestone(page, "slayer_100").getByRole("progressbar");
      await expect.poll(() => slayerBar.getAttribute("aria-valuenow")).toBe("0");
      expect(await slayerBar.getAttribute("aria-valuemax")).toBe("100");
      // Hidden milestones show nothing about themselves until reached.
      await expect.poll(() => milestone(page, "rat_whisperer").textContent()).toContain("Hidden milestone");
      expect(await milestone(page, "rat_whisperer").getByRole("progressbar").count()).toBe(0);

      const killGoblin = page.getByRole("button", { name: "Kill goblin" });
      await killGoblin.click();
      await toast(page, "First Blood").waitFor();
      // First Blood claims itself: 10 gold.
      await expect.poll(() => inventoryCell(page, "gold", "free").textContent()).toBe("10");
      // The default animation: confetti drawn on the presenter's full-window canvas.
      await expect.poll(() => drawnPixels(page), { timeout: waitMs }).toBeGreaterThan(0);

      for (let kill = 2; kill <= 10; kill += 1) await killGoblin.click();
      const slayer = toast(page, "Slayer I");
      await slayer.waitFor();
      expect(await slayer.getAttribute("aria-live")).toBe("polite");
      expect(await slayer.locator(".cp-toast-rewards").textContent()).toContain("potion");
      expect(await slayer.locator(".cp-toast-series").textContent()).toBe("Tier 1 of 3 · next: Slayer II (100)");
      await expect.poll(() => slayerBar.getAttribute("aria-valuenow")).toBe("10");
      await expect.poll(() => milestone(page, "slayer_10").getAttribute("data-status")).toBe("completed");
      await settled(slayer);
      await page.screenshot({ path: join(screenshots, `demo-page-${mode}.png`) });

      // Claim from the milestone list: 2 potions in the inventory, the claim gone from the list and the toast.
      await milestone(page, "slayer_10").getByRole("button", { name: "Claim" }).click();
      await expect.poll(() => inventoryCell(page, "potion", "free").textContent()).toBe("2");
      await expect.poll(() => milestone(page, "slayer_10").getAttribute("data-status")).toBe("claimed");
      await expect.poll(() => milestone(page, "slayer_10").getByRole("button", { name: "Claim" }).isVisible()).toBe(false);
      const stored = await progressOf(playerId);
      expect(stored["slayer_10"]?.status).toBe("claimed");
      expect(stored["slayer_100"]?.current).toBe(10);
    });

    it("tiers are labelled with their place in the series, a locked milestone says what it requires, a seasonal one its period; the admin catalog shows them too", async () => {
      const page = await joinDemo(`tiers-${mode}-${Date.now().toString(36)}`);
      const line = (code: string, text: RegExp): Locator => milestone(page, code).getByText(text);
      expect(await line("slayer_10", /^Tier /).textContent()).toBe("Tier 1 of 3 · next: 100 kills (Slayer II)");
      expect(await line("slayer_100", /^Tier /).textContent()).toBe("Tier 2 of 3 · next: 1000 kills (Slayer III)");
      expect(await line("slayer_1000", /^Tier /).textContent()).toBe("Tier 3 of 3 · the last tier");
      expect(await milestone(page, "first_blood").getByText(/^Tier /).count()).toBe(0);
      const locked = line("champion", /^Locked: /);
      expect(await locked.textContent()).toBe("Locked: requires Slayer II and Skaven Slayer");
      // Still counting while locked: the bar is there.
      expect(await milestone(page, "champion").getByRole("progressbar").getAttribute("aria-valuenow")).toBe("0");
      const from = Date.UTC(2026, 11, 1);
      const until = Date.UTC(2027, 2, 1);
      const now = Date.now();
      const when = now < from ? /starts in \d+/ : now >= until ? /ended/ : /ends in \d+/;
      const period = await line("winter_hunt", /^Seasonal: /).textContent();
      expect(period).toContain("Seasonal: Dec 1, 2026 – Mar 1, 2027 · ");
      expect(period).toMatch(when);
      await page.screenshot({ path: join(screenshots, `demo-page-tiers-${mode}.png`), fullPage: true });

      const admin = await openAdminTab();
      const row = (code: string): Locator => admin.locator(`#catalog tr[data-code="${code}"]`);
      await row("champion").waitFor();
      expect(await row("champion").locator("td.requires").innerText()).toBe("slayer_100\nskaven_slayer");
      expect(await row("slayer_100").getByText("slayer · 2 of 3").count()).toBe(1);
      expect(await row("slayer_100").getByText("slayer_10 → slayer_100 → slayer_1000").count()).toBe(1);
      expect(await row("winter_hunt").getByText("until 2027-03-01T00:00:00.000Z").count()).toBe(1);
      expect(await row("winter_hunt").getByText(now < from ? "upcoming" : now >= until ? "closed" : "open", { exact: true }).count()).toBe(1);
    });

    it("in the chosen locale: the toast's own Claim button, and a trade", async () => {
      const page = await joinDemo(`trader-${mode}-${Date.now().toString(36)}`, "de");
      const killGoblin = page.getByRole("button", { name: "Kill goblin" });
      for (let kill = 1; kill <= 10; kill += 1) await killGoblin.click();
      await toast(page, "Erstes Blut").waitFor();
      const slayer = toast(page, "Schlächter I");
      await slayer.getByRole("button", { name: "Claim" }).click();
      await expect.poll(() => inventoryCell(page, "potion", "free").textContent()).toBe("2");
      await expect.poll(() => milestone(page, "slayer_10").getAttribute("data-status")).toBe("claimed");

      // Trades go to players the store knows: the friend plays too, in a second tab.
      const friendId = `friend-${mode}-${Date.now().toString(36)}`;
      const friend = await joinDemo(friendId);
      await page.getByLabel("Receiver").fill(friendId);
      await page.getByLabel("Item").selectOption("gold");
      await page.getByLabel("Quantity").fill("3");
      await page.getByRole("button", { name: "Trade" }).click();
      await expect.poll(() => inventoryCell(page, "gold", "free").textContent()).toBe("7");
      await expect.poll(() => inventoryCell(friend, "gold", "free").textContent()).toBe("3");
    });

    it("a shop hold counts down and expires: the gold is free again", async () => {
      const page = await joinDemo(`shopper-${mode}-${Date.now().toString(36)}`);
      await page.getByRole("button", { name: "Kill goblin" }).click();
      await expect.poll(() => inventoryCell(page, "gold", "free").textContent()).toBe("10");

      await page.getByRole("button", { name: "Buy potion" }).click();
      const hold = page.locator("#holds li.hold");
      await hold.waitFor();
      await expect.poll(() => inventoryCell(page, "gold", "held").textContent()).toBe("5");
      expect(await inventoryCell(page, "gold", "free").textContent()).toBe("5");
      const secondsLeft = async (): Promise<number> => Number(/(\d+) s/.exec((await hold.getByRole("timer").textContent()) ?? "")?.[1] ?? -1);
      const first = await secondsLeft();
      expect(first).toBeGreaterThan(0);
      await expect.poll(secondsLeft, { timeout: waitMs }).toBeLessThan(first);
      // The server's hold-expired push takes it off the page and frees the gold.
      await expect.poll(() => hold.count(), { timeout: 15_000 }).toBe(0);
      await expect.poll(() => inventoryCell(page, "gold", "free").textContent()).toBe("10");
      expect(await inventoryCell(page, "gold", "held").textContent()).toBe("0");
      await expect.poll(() => page.getByRole("log").textContent()).toContain("expired");

      // Bought and confirmed: the potion, for 5 gold.
      await page.getByRole("button", { name: "Buy potion" }).click();
      await hold.getByRole("button", { name: "Confirm" }).click();
      await expect.poll(() => inventoryCell(page, "potion", "free").textContent()).toBe("1");
      await expect.poll(() => hold.count()).toBe(0);
      expect(await inventoryCell(page, "gold", "free").textContent()).toBe("5");
    }, 30_000);

    it("the admin tab refuses a wrong token with the server's reason", async () => {
      const page = await openAdminTab("not-the-token-at-all");
      await expect.poll(() => page.getByRole("alert").textContent()).toContain("wrong admin token");
      expect(await page.locator("#catalog tbody tr").count()).toBe(0);
    });

    it("the admin tab's Preview plays the unlock as a player sees it, webm included, and awards nothing", async () => {
      const before = await catalogCounts();
      const page = await openAdminTab();
      const row = page.locator('#catalog tr[data-code="slayer_1000"]');
      await row.waitFor();
      expect(await row.textContent()).toContain("Slayer III");
      await row.getByRole("button", { name: "Preview", exact: true }).click();
      const shown = toast(page, "Slayer III");
      await shown.waitFor();
      expect(await shown.getAttribute("data-preview")).toBe("true");
      expect(await shown.getAttribute("data-animation")).toBe("webm");
      expect(await shown.getByRole("button", { name: "Claim" }).count()).toBe(0);
      await expect.poll(() => videoPlayback(shown), { timeout: waitMs }).toMatchObject({ playing: true, width: 240 });
      await settled(shown);
      await page.screenshot({ path: join(screenshots, `admin-tab-${mode}.png`) });

      // In German too.
      await page.getByLabel("Locale").selectOption("de");
      await page.locator('#catalog tr[data-code="first_blood"]').getByRole("button", { name: "Preview", exact: true }).click();
      await toast(page, "Erstes Blut").waitFor();

      expect(await catalogCounts()).toEqual(before);
    });

    it("Preview on a live player reaches every open demo page of that player; nothing is awarded", async () => {
      const playerId = `watched-${mode}-${Date.now().toString(36)}`;
      // Redis mode: the second page is on another demo process; the preview crosses over through presence.
      const other = mode === "redis" ? await servers.start() : server;
      const [first, second] = await Promise.all([joinDemo(playerId), joinDemo(playerId, "de", other)]);
      const before = await catalogCounts();

      const admin = await openAdminTab();
      await admin.getByRole("button", { name: "Refresh players" }).click();
      await admin.getByLabel("Player to preview").selectOption(playerId);
      await admin.getByLabel("Milestone to preview").selectOption("slayer_1000");
      await admin.getByRole("button", { name: "Preview on a live player" }).click();
      // One client here (the first page); the second page is reached through presence (redis) or is here too.
      const reachedHere = mode === "redis" ? "1 client" : "2 clients";
      await expect.poll(() => admin.locator("#live-status").textContent()).toContain(`to ${playerId}: ${reachedHere} on this server`);

      for (const [page, title] of [[first, "Slayer III"], [second, "Schlächter III"]] as const) {
        const shown = toast(page, title);
        await shown.waitFor();
        expect(await shown.getAttribute("data-preview")).toBe("true");
        await expect.poll(() => videoPlayback(shown), { timeout: waitMs }).toMatchObject({ playing: true });
      }
      expect(await catalogCounts()).toEqual(before);
      const stored = await progressOf(playerId);
      expect(stored["slayer_1000"]).toMatchObject({ status: "in_progress", current: 0 });
      expect(await milestone(first, "slayer_1000").getAttribute("data-status")).toBe("in_progress");

      // The admin tab's own progress lookup says the same.
      await admin.getByLabel("Player id").fill(playerId);
      await admin.getByRole("button", { name: "Look up progress" }).click();
      await expect.poll(() => admin.locator('#progress tr[data-code="slayer_1000"] .status').textContent()).toBe("in progress");
    }, 40_000);

    it("the admin tab's simulate and explain views answer from the server", async () => {
      const playerId = `explained-${mode}-${Date.now().toString(36)}`;
      const page = await joinDemo(playerId);
      await page.getByRole("button", { name: "Kill goblin" }).click();
      await toast(page, "First Blood").waitFor();

      const admin = await openAdminTab();
      await admin.getByRole("button", { name: "Simulate" }).click();
      // The definitions running now, unchanged: the text area starts with them.
      await expect.poll(() => admin.locator('#simulate-result tr[data-code="first_blood"]').textContent()).toContain("unchanged");
      await admin.getByLabel("Player to explain").fill(playerId);
      await admin.getByLabel("Milestone to explain").selectOption("first_blood");
      await admin.getByRole("button", { name: "Explain" }).click();
      await expect.poll(() => admin.getByLabel("Explanation").textContent()).toContain("first_blood");
    });
  });
}

/** Resolves once the toast's entrance transition is over (for screenshots that show it as a player does). */
async function settled(toast: Locator): Promise<void> {
  await expect.poll(() => toast.evaluate((node) => node.getAnimations({ subtree: true }).filter((animation) => animation.playState === "running" && !(animation.effect?.getTiming().iterations === Infinity)).length + (getComputedStyle(node).opacity === "1" ? 0 : 1))).toBe(0);
}

/** How many pixels of the confetti canvas are not transparent. */
async function drawnPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>("canvas.cp-confetti");
    const context = canvas?.getContext("2d");
    if (canvas === null || canvas === undefined || context === null || context === undefined || canvas.width === 0) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let drawn = 0;
    for (let alpha = 3; alpha < data.length; alpha += 4) if (data[alpha] !== 0) drawn += 1;
    return drawn;
  });
}

/** Whether the toast's video is playing (time moving, frames decoded), and its size. */
async function videoPlayback(toast: Locator): Promise<{ playing: boolean; width: number }> {
  return toast.locator("video.cp-animation-video").evaluate((video: HTMLVideoElement) => ({
    playing: !video.paused && video.currentTime > 0 && video.readyState >= 2,
    width: video.videoWidth,
  }));
}
