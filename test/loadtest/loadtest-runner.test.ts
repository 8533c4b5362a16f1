import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { runLoadtest as runCommand } from "./run-loadtest-command.ts";

/**
 * Runs the real load test command for a couple of seconds with a few bots, so the runner, the bots
 * and the checks cannot rot: its own redis-server, the server under test, real WebSockets.
 */

interface RunResult {
  readonly exitCode: number;
  readonly report: Record<string, unknown> & {
    ok: boolean;
    clients: { joined: number; failed: number };
    events: { sent: number; byType: Record<string, number>; gameplaySent: number; gameplayCounted: number | null };
    unlocks: { expected: number; received: number; duplicated: number; missing: number };
    store: { ok?: boolean; mismatches?: string[]; expectedEvents?: number; countedEvents?: number };
    errors: { count: number; samples: string[] };
    latencyMs: { samples: number; p99: number | null };
    latencyMeasures: string;
    requestLatencyMs: { samples: number; p99: number | null };
    machine: { pinning: string };
  };
  readonly stderr: string;
}

const runLoadtest = (args: readonly string[]): Promise<RunResult> => runCommand<RunResult["report"]>(args);

describe("npm run loadtest", () => {
  it("bare reference room: every message sent is received, nothing fails", async () => {
    const { exitCode, report, stderr } = await runLoadtest(["--room", "bare", "--clients", "4", "--rate", "40", "--seconds", "2", "--drain-seconds", "5"]);
    expect(report.errors, stderr).toEqual({ count: 0, samples: [] });
    expect(report.clients).toMatchObject({ joined: 4, failed: 0 });
    expect(report.events.sent).toBeGreaterThan(100);
    expect(report.events.gameplayCounted).toBe(report.events.gameplaySent);
    expect(report.store).toMatchObject({ ok: true, mismatches: [] });
    expect(report.store.countedEvents).toBe(report.events.sent);
    // The latency reference: the same predicted events, answered by the room with an ack.
    expect(report.latencyMeasures).toContain("send -> ack");
    expect(report.unlocks.expected).toBeGreaterThanOrEqual(4);
    expect(report.unlocks).toMatchObject({ received: report.unlocks.expected, duplicated: 0, missing: 0 });
    expect(report.latencyMs.samples).toBe(report.unlocks.expected);
    expect(report.machine.pinning).toBe("none");
    expect(report.ok).toBe(true);
    expect(exitCode).toBe(0);
  }, 30_000);

  it.runIf(availableParallelism() >= 2)("--pin puts the bots on CPU 0 and the server and redis-server on CPU 1, and says so", async () => {
    const { exitCode, report, stderr } = await runLoadtest(["--room", "bare", "--clients", "2", "--rate", "20", "--seconds", "1", "--drain-seconds", "5", "--pin"]);
    expect(report.errors, stderr).toEqual({ count: 0, samples: [] });
    expect(report.machine.pinning).toBe("bots: cpu 0; server: cpu 1; redis-server: cpu 1");
    expect(report.ok).toBe(true);
    expect(exitCode).toBe(0);
  }, 30_000);

  it("arena with the plugin on Redis: counters equal what was sent, every expected unlock pushed exactly once", async () => {
    const { exitCode, report, stderr } = await runLoadtest(["--room", "arena", "--clients", "4", "--rate", "60", "--seconds", "2", "--drain-seconds", "8"]);
    expect(report.errors, stderr).toEqual({ count: 0, samples: [] });
    expect(report.clients).toMatchObject({ joined: 4, failed: 0 });
    // ~70 kills per bot; even at a quarter of the rate on a busy machine, first_blood and slayer_10 for each.
    expect(report.unlocks.expected).toBeGreaterThanOrEqual(8);
    expect(report.unlocks).toMatchObject({ received: report.unlocks.expected, duplicated: 0, missing: 0 });
    expect(report.latencyMs.samples).toBe(report.unlocks.expected);
    // Every ledger request was answered (or refused with a reason), and timed.
    const requests = ["trade", "buy", "confirm", "cancel"].reduce((sum, type) => sum + (report.events.byType[type] ?? 0), 0);
    expect(report.requestLatencyMs.samples).toBe(requests);
    expect(report.store).toMatchObject({ ok: true, mismatches: [] });
    expect(report.events.gameplayCounted).toBe(report.events.gameplaySent);
    expect(report.ok).toBe(true);
    expect(exitCode).toBe(0);
  }, 30_000);
});
