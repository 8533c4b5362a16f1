import { spawn, fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";

/**
 * The processes the runner owns: its own redis-server(s) and the game server(s) under test. Everything
 * binds to 127.0.0.1; every wait is bounded; each process is stopped by its own pid (and killed when
 * this process exits without stopping it).
 */

export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit !== null) throw new Error(exit);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

export interface OwnedProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Last lines of output, for error messages. */
  readonly tail: () => string;
  /** A description of how it exited, or null while it runs. */
  readonly exited: () => string | null;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  readonly stop: (graceMs?: number) => Promise<void>;
}

/** What runs at this process's exit: one "exit" listener for all (one per started process passed Node's limit of 10). */
const exitCleanups = new Set<() => void>();
let exitListening = false;

/** Runs `cleanup` at this process's exit unless the returned function is called first. */
function atExit(cleanup: () => void): () => void {
  if (!exitListening) {
    exitListening = true;
    process.once("exit", () => {
      for (const run of exitCleanups) run();
    });
  }
  exitCleanups.add(cleanup);
  return () => void exitCleanups.delete(cleanup);
}

function own(child: ChildProcess, name: string, hint = ""): OwnedProcess {
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(...chunk.toString().split("\n").filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exit: string | null = null;
  // If the runner exits without stop() (a crash, an uncaught error), do not leave the process running.
  const forget = atExit(() => void child.kill("SIGKILL"));
  child.once("exit", forget);
  const gone = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = `${name} exited (code ${code}, signal ${signal}):\n${lines.join("\n")}`;
      resolve();
    });
    // Not started at all (e.g. no redis-server on PATH): no "exit" follows.
    child.once("error", (error) => {
      exit = `could not start ${name}: ${error.message}${hint}`;
      resolve();
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}${hint}`);
  return {
    pid: child.pid,
    child,
    tail: () => lines.join("\n"),
    exited: () => exit,
    stop: async (graceMs = 10_000) => {
      if (exit !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * Whether the Redis answering at `url` is the process `pid` (INFO server's process_id). Two runs that pick
 * the same free port at once (the port is probed free, then bound) would otherwise share one Redis: a
 * redis-server that could not bind exits, and the other run's server answers in its place.
 */
export async function isRedisProcess(url: string, pid: number | undefined): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const info = await client.info("server");
    return Number(/^process_id:(\d+)\r?$/m.exec(info)?.[1]) === pid;
  } finally {
    client.disconnect();
  }
}

export interface RedisServerOptions {
  /** The port; default a free one (tried again on another when taken meanwhile). With a port, one try. */
  readonly port?: number;
  /** More `redis-server` arguments (e.g. `--cluster-enabled yes`). */
  readonly extraArgs?: readonly string[];
}

/**
 * A throwaway redis-server on a free port, loopback only, with AOF (appendfsync everysec) as production
 * runs it (the ledger refuses a Redis without AOF) in a temporary folder removed when it exits.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<{ url: string; process: OwnedProcess }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), "loadtest-redis-"));
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", dir, "--protected-mode", "no"];
    const child = spawn("redis-server", [...args, ...(options.extraArgs ?? [])], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
    // Killed at this process's exit (see own): its folder goes too.
    const forget = atExit(removeDir);
    child.once("exit", () => {
      forget();
      removeDir();
    });
    const owned = own(child, "redis-server", " (install Redis so redis-server is on PATH, or pass --redis-url redis://127.0.0.1:6379)");
    const url = `redis://127.0.0.1:${port}`;
    // Another run may have bound the port between the probe and this bind: then its Redis answers here.
    const ours = await waitForPort(port, 10_000, owned.exited).then(
      () => isRedisProcess(url, child.pid),
      (error: unknown) => {
        if (attempt >= 5 || options.port !== undefined) throw error;
        return false;
      },
    );
    if (ours) return { url, process: owned };
    child.kill("SIGKILL");
    if (attempt >= 5 || options.port !== undefined) throw new Error(`redis-server: port ${port} is served by another process (${attempt} tries)`);
  }
}

/** A game server script (TypeScript, run by this Node) with an IPC channel, on `port`. */
export async function startGameServer(options: {
  script: string;
  port: number;
  /** Added to this process's environment; `undefined` removes a variable. */
  env: Record<string, string | undefined>;
  execArgv: readonly string[];
  name: string;
  /** Told as soon as the process runs, before it listens: the caller owns it even if the wait fails. */
  onStart?: (process: OwnedProcess) => void;
}): Promise<OwnedProcess> {
  const child = fork(options.script, [], {
    env: Object.fromEntries(
      Object.entries({ ...process.env, ...options.env, PORT: String(options.port) }).filter(([, value]) => value !== undefined),
    ),
    execArgv: [...options.execArgv],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const owned = own(child, options.name);
  options.onStart?.(owned);
  await waitForPort(options.port, 30_000, owned.exited);
  return owned;
}

/** CPU time (user + system) of a process in ms, from /proc (Linux). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** Resident memory of a process in MB, from /proc (Linux). */
export function processRssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match?.[1] === undefined ? 0 : Number(match[1]) / 1024;
}
