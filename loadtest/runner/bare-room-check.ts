import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { BotReport } from "../bots/bot-report.ts";
import type { StoreCheck, StoreCheckResult } from "./store-check.ts";

/**
 * The bare room has no store: the check compares what the bots sent with what the reference
 * server's rooms received, by message type, read over the server's IPC channel.
 */
export function bareRoomCheck(server: ChildProcess): StoreCheck {
  const readReceived = async (): Promise<Record<string, number>> =>
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the bare reference server did not answer the received-count request within 5 s")), 5_000);
      server.once("message", (message: { received?: Record<string, number> }) => {
        clearTimeout(timer);
        resolve(message.received ?? {});
      });
      server.send({ type: "received" });
    });

  return {
    async verify(reports: readonly BotReport[], timeoutMs: number, only?: readonly string[]): Promise<StoreCheckResult> {
      const sent: Record<string, number> = {};
      for (const report of reports) {
        for (const [type, count] of Object.entries(report.sent)) {
          if (only === undefined || only.includes(type)) sent[type] = (sent[type] ?? 0) + count;
        }
      }
      const expectedEvents = Object.values(sent).reduce((a, b) => a + b, 0);
      const started = performance.now();
      for (;;) {
        const received = await readReceived();
        const mismatches = Object.entries(sent)
          .filter(([type, count]) => (received[type] ?? 0) !== count)
          .map(([type, count]) => `${type}: sent ${count}, received ${received[type] ?? 0}`);
        const countedEvents = Object.keys(sent).reduce((sum, type) => sum + Math.min(received[type] ?? 0, sent[type] ?? 0), 0);
        const elapsed = performance.now() - started;
        if (mismatches.length === 0 || elapsed >= timeoutMs) {
          return { method: "bare room receive counters", ok: mismatches.length === 0, expectedEvents, countedEvents, mismatches, settledMs: Math.round(elapsed) };
        }
        await sleep(50);
      }
    },
    async close(): Promise<void> {},
  };
}
