import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";

/**
 * `--pin`: the bots on one core, the server under test and its redis-server on the other, with `taskset`
 * (Linux, util-linux). Every thread of a process is pinned (`-a`); threads it starts later (workers, libuv)
 * inherit the affinity of the thread that starts them.
 */
export const botsCpu = 0;
export const serverCpu = 1;

/** Refuses `--pin` on a machine where it cannot mean what it says, naming why. */
export function checkPinning(): void {
  if (availableParallelism() < 2) throw new Error(`--pin needs at least 2 CPUs (this machine has ${availableParallelism()}); run without --pin`);
  const probe = spawnSync("taskset", ["-p", String(process.pid)], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) throw new Error("--pin needs taskset (util-linux) on PATH; install it or run without --pin");
}

/** Pins every thread of `pid` to `cpu`. */
export function pinProcess(pid: number, cpu: number): void {
  const result = spawnSync("taskset", ["-a", "-cp", String(cpu), String(pid)], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`taskset -a -cp ${cpu} ${pid} failed: ${(result.stderr || result.stdout || String(result.error)).trim()}`);
}

/** The CPUs `pid` may run on, as taskset prints them ("0", "1", "0,1"). */
export function cpusOf(pid: number): string {
  const result = spawnSync("taskset", ["-cp", String(pid)], { encoding: "utf8" });
  return result.status === 0 ? (result.stdout.split(":").pop() ?? "").trim() : "unknown";
}
