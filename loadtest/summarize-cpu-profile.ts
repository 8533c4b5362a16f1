import { readFileSync } from "node:fs";

/**
 * `node loadtest/summarize-cpu-profile.ts FILE.cpuprofile [--callers NAME]`
 *
 * Where the server's time goes, from the V8 profile `npm run loadtest -- --cpu-prof DIR` writes: self
 * time by package or source file, the top functions, and (with --callers) the call chains that lead
 * to one function (e.g. `writeUtf8String`, a socket write, to see who writes).
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, flag, callersOf] = process.argv.slice(2);
if (file === undefined || (flag !== undefined && (flag !== "--callers" || callersOf === undefined))) {
  console.error("usage: node loadtest/summarize-cpu-profile.ts FILE.cpuprofile [--callers FUNCTION_NAME]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

const selfTime = new Map<number, number>();
profile.samples.forEach((id, index) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);

function place(frame: CallFrame): string {
  if (frame.url === "") return "(native)";
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (packageMatch?.[1] !== undefined) return packageMatch[1];
  return frame.url.replace(/^file:\/\/.*?\/(src|plugins|rooms|loadtest)\//, "$1/");
}
function label(frame: CallFrame): string {
  return `${frame.functionName || "(anonymous)"} ${place(frame).split("/").pop() ?? ""}:${frame.lineNumber + 1}`;
}
function top(totals: Map<string, number>, count: number): string[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, time]) => `${((100 * time) / total).toFixed(1).padStart(5)}%  ${name}`);
}

const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, time] of selfTime) {
  const frame = nodes.get(id)?.callFrame;
  if (frame === undefined) continue;
  byPlace.set(place(frame), (byPlace.get(place(frame)) ?? 0) + time);
  byFunction.set(label(frame), (byFunction.get(label(frame)) ?? 0) + time);
}

const lines = [`profile: ${(total / 1e6).toFixed(1)} s sampled`, "", "self time by package / file:", ...top(byPlace, 20), "", "top functions:", ...top(byFunction, 25)];
if (callersOf !== undefined) {
  const chains = new Map<string, number>();
  for (const [id, time] of selfTime) {
    if (nodes.get(id)?.callFrame.functionName !== callersOf) continue;
    const chain: string[] = [];
    for (let parent = parents.get(id); parent !== undefined && chain.length < 12; parent = parents.get(parent)) {
      const frame = nodes.get(parent)?.callFrame;
      if (frame !== undefined) chain.push(label(frame));
    }
    const key = chain.join(" <- ");
    chains.set(key, (chains.get(key) ?? 0) + time);
  }
  lines.push("", `callers of ${callersOf}:`, ...top(chains, 8));
}
console.log(lines.join("\n"));
