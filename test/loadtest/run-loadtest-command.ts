import { execFile } from "node:child_process";
import { resolve } from "node:path";

/** Runs `npm run loadtest -- <args>` (node loadtest/run-loadtest.ts) and parses its JSON report. */

const root = resolve(import.meta.dirname, "../..");

export interface LoadtestRun<Report> {
  readonly exitCode: number;
  readonly report: Report;
  readonly stderr: string;
}

export async function runLoadtest<Report>(args: readonly string[], timeoutMs = 40_000): Promise<LoadtestRun<Report>> {
  return await new Promise((resolvePromise, reject) => {
    execFile(process.execPath, ["loadtest/run-loadtest.ts", ...args], { cwd: root, timeout: timeoutMs }, (error, stdout, stderr) => {
      const exitCode = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      try {
        resolvePromise({ exitCode, report: JSON.parse(stdout) as Report, stderr });
      } catch {
        reject(new Error(`the load test printed no JSON report (exit ${exitCode}):\n${stderr}\n${stdout}`));
      }
    });
  });
}

/** Every pid the runner said it started ("pid 1, 2" in its progress lines). */
export function startedPids(stderr: string): number[] {
  return [...stderr.matchAll(/pid ([\d, ]+)\)/g)].flatMap((match) => (match[1] ?? "").split(",").map((pid) => Number(pid.trim()))).filter((pid) => pid > 0);
}

/** Whether a process with that pid still runs. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
