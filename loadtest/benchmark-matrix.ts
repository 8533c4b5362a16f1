import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

/**
 * `npm run loadtest:matrix -- [--clients 100,500,1000] [--total-rate 60000] [--seconds 10] [--pin] [--arrivals steady|burst]`
 *
 * The benchmark protocol of BENCHMARKS.md: for each client count, the same offered load (total
 * events/s split over the bots) against the bare reference room and then the arena, one run after
 * the other on the same machine, and a Markdown table with the arena/bare ratios: of the applied rate,
 * and of the latency (the arena's send -> unlock p99 against the bare room's send -> ack p99 for the same
 * predicted events, with the target 2 x bare p99 + 25 ms). Each run is a full `run-loadtest.ts` (own
 * redis-server and server process), so runs do not share state. `--pin` and `--arrivals` are passed on to every run.
 */

interface RunReport {
  ok: boolean;
  room: string;
  clients: { joined: number };
  ratePerBot: number;
  events: { sentPerSecond: number; appliedPerSecond: number | null; backlogSettledMs: number | null };
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  latencyMeasures: string;
  requestLatencyMs: { p50: number | null; p99: number | null; samples: number };
  unlocks: { expected: number; received: number; duplicated: number };
  store: { ok?: boolean };
  errors: { count: number };
  resources: { serverCpuPercent: number | null; redisCpuPercent: number | null; botsCpuPercent: number | null; serverRssMbPeak: number | null };
  machine: { loadAverage1m: number; pinning: string };
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    clients: { type: "string", default: "100,500,1000" },
    "total-rate": { type: "string", default: "60000" },
    seconds: { type: "string", default: "10" },
    rooms: { type: "string", default: "bare,arena" },
    pin: { type: "boolean", default: false },
    arrivals: { type: "string", default: "steady" },
  },
});
const clientCounts = values.clients.split(",").map(Number);
const totalRate = Number(values["total-rate"]);
const rooms = values.rooms.split(",");
const root = resolve(import.meta.dirname, "..");

async function run(room: string, clients: number): Promise<RunReport> {
  const args = ["loadtest/run-loadtest.ts", "--room", room, "--clients", String(clients), "--rate", String(totalRate / clients), "--seconds", values.seconds, "--arrivals", values.arrivals, ...(values.pin ? ["--pin"] : [])];
  process.stderr.write(`[matrix] node ${args.join(" ")}\n`);
  return await new Promise((done, fail) => {
    execFile(process.execPath, args, { cwd: root, timeout: 600_000, maxBuffer: 16 * 2 ** 20 }, (_error, stdout, stderr) => {
      try {
        done(JSON.parse(stdout) as RunReport);
      } catch {
        fail(new Error(`no report from the ${room} run with ${clients} clients:\n${stderr}`));
      }
    });
  });
}

const rows: string[] = [];
for (const clients of clientCounts) {
  const byRoom = new Map<string, RunReport>();
  for (const room of rooms) {
    const report = await run(room, clients);
    byRoom.set(room, report);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  }
  const bare = byRoom.get("bare")?.events.appliedPerSecond ?? null;
  const bareP99 = byRoom.get("bare")?.latencyMs.p99 ?? null;
  for (const [room, report] of byRoom) {
    const applied = report.events.appliedPerSecond;
    const ratio = room === "arena" && bare !== null && applied !== null && bare > 0 ? `${Math.round((applied / bare) * 100)}%` : "";
    const { p50, p95, p99, max } = report.latencyMs;
    // The arena's p99 against the reference measured in this matrix (bare send -> ack), and the target.
    const latencyRatio = room === "arena" && bareP99 !== null && p99 !== null && bareP99 > 0 ? `${(p99 / bareP99).toFixed(1)}x (target <= ${Math.round(2 * bareP99 + 25)} ms)` : "";
    const exact = report.ok ? "yes" : `no (store ${report.store.ok ?? "-"}, errors ${report.errors.count})`;
    rows.push(
      `| ${room} | ${report.clients.joined} | ${Math.round(report.ratePerBot)} | ${report.events.sentPerSecond} | ${applied ?? "-"} | ${ratio} | ` +
        `${report.events.backlogSettledMs ?? "-"} | ${report.latencyMeasures} | ${p50 ?? "-"} / ${p95 ?? "-"} / ${p99 ?? "-"} / ${max ?? "-"} | ${latencyRatio} | ` +
        `${report.requestLatencyMs.p50 ?? "-"} / ${report.requestLatencyMs.p99 ?? "-"} (${report.requestLatencyMs.samples}) | ` +
        `${report.unlocks.expected} / ${report.unlocks.received} / ${report.unlocks.duplicated} | ${exact} | ` +
        `${report.resources.serverCpuPercent ?? "-"} / ${report.resources.redisCpuPercent ?? "-"} / ${report.resources.botsCpuPercent ?? "-"} | ` +
        `${report.resources.serverRssMbPeak ?? "-"} | ${report.machine.loadAverage1m} | ${report.machine.pinning} |`,
    );
  }
}
process.stdout.write(
  [
    "",
    "| room | clients | events/s per bot | sent/s | applied/s | arena/bare | backlog ms | latency of | p50 / p95 / p99 / max ms | p99 arena/bare | ledger requests p50 / p99 ms (answered) | unlocks expected / received / duplicated | exact | CPU % server / redis / bots | server RSS MB | load avg | pinning |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n"),
);
