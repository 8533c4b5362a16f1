import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

/**
 * `npm run loadtest:matrix -- [--clients 100,500,1000] [--total-rate 60000] [--seconds 10]`
 *
 * The benchmark protocol of BENCHMARKS.md: for each client count, the same offered load (total
 * events/s split over the bots) against the bare reference room and then the arena, one run after
 * the other on the same machine, and a Markdown table with the arena/bare ratio. Each run is a full
 * `run-loadtest.ts` (own redis-server and server process), so runs do not share state.
 */

interface RunReport {
  ok: boolean;
  room: string;
  clients: { joined: number };
  ratePerBot: number;
  events: { sentPerSecond: number; appliedPerSecond: number | null; backlogSettledMs: number | null };
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  unlocks: { expected: number; received: number; duplicated: number };
  store: { ok?: boolean };
  errors: { count: number };
  resources: { serverCpuPercent: number | null; redisCpuPercent: number | null; botsCpuPercent: number | null; serverRssMbPeak: number | null };
  machine: { loadAverage1m: number };
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    clients: { type: "string", default: "100,500,1000" },
    "total-rate": { type: "string", default: "60000" },
    seconds: { type: "string", default: "10" },
    rooms: { type: "string", default: "bare,arena" },
  },
});
const clientCounts = values.clients.split(",").map(Number);
const totalRate = Number(values["total-rate"]);
const rooms = values.rooms.split(",");
const root = resolve(import.meta.dirname, "..");

async function run(room: string, clients: number): Promise<RunReport> {
  const args = ["loadtest/run-loadtest.ts", "--room", room, "--clients", String(clients), "--rate", String(totalRate / clients), "--seconds", values.seconds];
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
  for (const [room, report] of byRoom) {
    const applied = report.events.appliedPerSecond;
    const ratio = room === "arena" && bare !== null && applied !== null && bare > 0 ? `${Math.round((applied / bare) * 100)}%` : "";
    const { p50, p95, p99, max } = report.latencyMs;
    const exact = report.ok ? "yes" : `no (store ${report.store.ok ?? "-"}, errors ${report.errors.count})`;
    rows.push(
      `| ${room} | ${report.clients.joined} | ${Math.round(report.ratePerBot)} | ${report.events.sentPerSecond} | ${applied ?? "-"} | ${ratio} | ` +
        `${report.events.backlogSettledMs ?? "-"} | ${p50 ?? "-"} / ${p95 ?? "-"} / ${p99 ?? "-"} / ${max ?? "-"} | ` +
        `${report.unlocks.expected} / ${report.unlocks.received} / ${report.unlocks.duplicated} | ${exact} | ` +
        `${report.resources.serverCpuPercent ?? "-"} / ${report.resources.redisCpuPercent ?? "-"} / ${report.resources.botsCpuPercent ?? "-"} | ` +
        `${report.resources.serverRssMbPeak ?? "-"} | ${report.machine.loadAverage1m} |`,
    );
  }
}
process.stdout.write(
  [
    "",
    "| room | clients | events/s per bot | sent/s | applied/s | arena/bare | backlog ms | push latency p50 / p95 / p99 / max ms | unlocks expected / received / duplicated | exact | CPU % server / redis / bots | server RSS MB | load avg |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n"),
);
