import { cli, type Options } from "@colyseus/loadtest";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { creatures, lootItems } from "../../rooms/arena/arena-catalog.ts";
import { milestoneDefinitionSchema } from "../../src/definitions/milestone-schema.ts";
import { summarizeLatencies } from "../runner/latency-summary.ts";
import { ArenaBot, defaultEventMix } from "./arena-bot-session.ts";
import { predictableThresholds } from "./expected-unlocks.ts";

/**
 * The interactive bot script, in @colyseus/loadtest's form (terminal UI):
 *
 *   node loadtest/bots/arena-bot.ts --endpoint ws://127.0.0.1:2567 --room arena --numClients 100 \
 *     [--rate 50] [--definitions rooms/arena/milestones.json]
 *
 * Each bot is its own subject, sends kills, loot and the occasional trade and shop purchase at
 * `--rate` events/s, and measures send -> `progression:unlocked` for every event that crosses a
 * threshold. For runs without a terminal (CI, benchmarks) use `npm run loadtest`.
 */

const extra = parseArgs({
  args: process.argv.slice(2),
  options: { rate: { type: "string" }, definitions: { type: "string" } },
  strict: false,
}).values;
const rate = Number(extra.rate ?? 50);
const definitionsFile = typeof extra.definitions === "string" ? extra.definitions : "rooms/arena/milestones.json";
const thresholds = predictableThresholds(z.array(milestoneDefinitionSchema).parse(JSON.parse(readFileSync(definitionsFile, "utf8"))));
const runId = Math.random().toString(36).slice(2, 8);
const bots: ArenaBot[] = [];

cli(async (options: Options) => {
  const subject = `bot-${runId}-${options.clientId}`;
  const bot = new ArenaBot({
    endpoint: options.endpoint,
    roomName: options.roomName,
    subject,
    ratePerSecond: rate,
    mix: defaultEventMix,
    creatures,
    lootItems,
    shopItems: ["potion"],
    peers: options.clientId > 0 ? [`bot-${runId}-${options.clientId - 1}`] : [],
    thresholds,
  });
  await bot.join();
  bots.push(bot);
  const timer = setInterval(() => bot.tick(performance.now()), 10);
  timer.unref();
});

// One summary line every 5 s in the tool's log pane.
setInterval(() => {
  const reports = bots.map((bot) => bot.report());
  const sent = reports.reduce((sum, report) => sum + Object.values(report.sent).reduce((a, b) => a + b, 0), 0);
  const latency = summarizeLatencies(reports.flatMap((report) => report.latenciesMs));
  const duplicated = reports.reduce((sum, report) => sum + Object.values(report.received).reduce((d, n) => d + Math.max(0, n - 1), 0), 0);
  console.log(`bots ${bots.length} sent ${sent} unlocks ${latency.samples} p50 ${latency.p50} p99 ${latency.p99} max ${latency.max} ms, duplicated ${duplicated}`);
}, 5_000).unref();
