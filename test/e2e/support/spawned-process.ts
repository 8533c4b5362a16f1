import { waitForPort as waitForListeningPort } from "../../../loadtest/runner/local-processes.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export const repoRoot = join(import.meta.dirname, "..", "..", "..");

/** A TypeScript file of this repository run by Node (type stripping), with its output captured. */
export interface SpawnedScript {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  /** Resolves once the output contains `text`; rejects if the process exits first or at the timeout. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL if still running (tests stop only the processes they started, by handle). */
  kill(): void;
}

export function runScript(script: string, env: Record<string, string> = {}): SpawnedScript {
  const child = spawn(process.execPath, ["--experimental-strip-types", script], {
    cwd: repoRoot,
    // Embedded mode unless a test asks: no inherited Redis or PostgreSQL.
    env: { ...process.env, REDIS_URL: "", DATABASE_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    process: child,
    exited,
    output: () => output,
    async waitForOutput(text, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes(text)) {
        if (child.exitCode !== null) throw new Error(`${script} exited (${child.exitCode}) before printing ${JSON.stringify(text)}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${script} did not print ${JSON.stringify(text)} in time:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** Resolves once something accepts TCP connections on the port (the load-test runner's check). */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  await waitForListeningPort(port, timeoutMs, () => null);
}
