import { parentPort, workerData } from "node:worker_threads";
import { setTimeout as sleep } from "node:timers/promises";
import { ArenaBot } from "../bots/arena-bot-session.ts";
import type { BotWorkerData, RunnerToWorker, WorkerToRunner } from "./bot-worker-protocol.ts";

/**
 * A worker thread driving a share of the bots: joins them (bounded concurrency), then one timer ticks
 * every bot (cheaper than a timer per bot), then waits until every expected unlock and ledger reply
 * has arrived (bounded by the drain time), and reports.
 */

const data = workerData as BotWorkerData;
const port = parentPort;
if (port === null) throw new Error("bot-worker.ts must run as a worker thread (started by the load test runner)");
const bots = data.bots.map((settings) => new ArenaBot(settings));

function post(message: WorkerToRunner): void {
  port?.postMessage(message);
}

async function joinAll(): Promise<void> {
  const errors: string[] = [];
  let next = 0;
  const joiner = async (): Promise<void> => {
    while (next < bots.length) {
      const bot = bots[next++];
      if (bot === undefined) return;
      try {
        await bot.join();
      } catch (error) {
        if (errors.length < 10) errors.push(`${bot.settings.subject}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, data.joinConcurrency) }, joiner));
  const joined = bots.filter((bot) => bot.joined).length;
  post({ type: "joined", joined, failed: bots.length - joined, errors });
}

async function run(seconds: number, drainSeconds: number): Promise<void> {
  for (const bot of bots) bot.resetClock();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= deadline) {
        clearInterval(timer);
        resolve();
        return;
      }
      for (const bot of bots) bot.tick(now);
    }, data.tickMs);
  });
  const sendingMs = performance.now() - started;
  post({ type: "sent", sendingMs, reports: bots.map((bot) => bot.report()) });

  const drainStarted = performance.now();
  const drainDeadline = drainStarted + drainSeconds * 1000;
  while (performance.now() < drainDeadline && bots.some((bot) => bot.outstanding > 0)) await sleep(20);
  post({ type: "report", reports: bots.map((bot) => bot.report()), drainMs: performance.now() - drainStarted });
}

port.on("message", (message: RunnerToWorker) => {
  if (message.type === "start") {
    void run(message.seconds, message.drainSeconds);
  } else if (message.type === "leave") {
    void Promise.all(bots.map((bot) => bot.leave())).then(() => {
      post({ type: "left" });
      port.close();
    });
  }
});

await joinAll();
