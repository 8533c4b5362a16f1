import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { isRedisProcess } from "../../loadtest/runner/local-processes.ts";

/**
 * A redis-server for tests and benchmarks: uses `REDIS_URL` when set, otherwise starts its own
 * `redis-server` binary on a free port, with AOF (`appendfsync everysec`, as the Redis backend
 * requires) in its own temp dir, and stops only that process (and removes that dir).
 */
export interface TestRedisServer {
  readonly url: string;
  /** True when this process started the server (and `stop` will end it). */
  readonly owned: boolean;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Use `REDIS_URL` when it is set. Default: true. */
  readonly useEnv?: boolean;
  /** The binary. Default: `redis-server` on PATH. */
  readonly binary?: string;
  /** Run with AOF (`appendonly yes`, `appendfsync everysec`). False: no persistence at all (volatile). Default: true. */
  readonly appendOnly?: boolean;
  /** More `redis-server` arguments (e.g. `--cluster-enabled yes`). */
  readonly extraArgs?: readonly string[];
  /** The port. Default: a free one. */
  readonly port?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    // Most often the port was taken between the probe and the bind (the caller tries another one).
    if (child.exitCode !== null) throw new PortTakenError(`redis-server exited early with code ${child.exitCode}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      if (Date.now() - started > deadlineMs) throw new Error(`redis-server at ${url} did not answer within ${deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
}

// Whether the Redis at a URL is a given process: one check for the tests, the load test and the fault suite.
export { isRedisProcess };

/** Fails with one line when `REDIS_URL` names a Redis without AOF: the Redis backend would refuse it. */
async function requireAppendOnly(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const info = await client.info("persistence");
    if (!/^aof_enabled:1\r?$/m.test(info)) {
      throw new Error(`REDIS_URL ${url} runs without AOF; the tests need "appendonly yes" there (the Redis backend refuses a volatile Redis), or unset REDIS_URL`);
    }
  } finally {
    client.disconnect();
  }
}

/** Starts a private redis-server (or wraps `REDIS_URL`). */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<TestRedisServer> {
  const fromEnv = process.env.REDIS_URL;
  if ((options.useEnv ?? true) && fromEnv) {
    await requireAppendOnly(fromEnv);
    return { url: fromEnv, owned: false, stop: async () => undefined };
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOwnRedisServer(options, options.port ?? (await freePort()));
    } catch (error) {
      // Another run took the port between the probe and the bind: try another one.
      if (!(error instanceof PortTakenError) || options.port !== undefined || attempt >= 5) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOwnRedisServer(options: RedisServerOptions, port: number): Promise<TestRedisServer> {
  // Its own dir: the AOF files of one server never meet another's (nor the working tree).
  const dir = mkdtempSync(join(tmpdir(), "progression-redis-"));
  const persistence = (options.appendOnly ?? true) ? ["--appendonly", "yes", "--appendfsync", "everysec"] : ["--appendonly", "no"];
  const child = spawn(
    options.binary ?? "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", ...persistence, "--protected-mode", "no", ...(options.extraArgs ?? [])],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  // If this process exits without stop() (a crash, Ctrl-C), do not leave the server running.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
    removeDir();
  };
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  try {
    await waitUntilReady(url, child, 10_000);
    if (!(await isRedisProcess(url, child.pid))) throw new PortTakenError(`port ${port} is served by another redis-server`);
  } catch (error) {
    child.kill("SIGKILL");
    removeDir();
    throw error;
  }
  return {
    url,
    owned: true,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          removeDir();
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once("exit", done);
        child.kill("SIGTERM");
      }),
  };
}
