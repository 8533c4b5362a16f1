import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";

/**
 * A redis-server for tests and benchmarks: uses `REDIS_URL` when set, otherwise starts its own
 * `redis-server` binary on a free port with persistence off, and stops only that process.
 */
export interface TestRedisServer {
  readonly url: string;
  /** True when this process started the server (and `stop` will end it). */
  readonly owned: boolean;
  stop(): Promise<void>;
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
    if (child.exitCode !== null) throw new Error(`redis-server exited early with code ${child.exitCode}`);
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

/** Starts a private redis-server (or wraps `REDIS_URL`). `binary` defaults to `redis-server` on PATH. */
export async function startRedisServer(options: { useEnv?: boolean; binary?: string } = {}): Promise<TestRedisServer> {
  const fromEnv = process.env.REDIS_URL;
  if ((options.useEnv ?? true) && fromEnv) {
    return { url: fromEnv, owned: false, stop: async () => undefined };
  }
  const port = await freePort();
  const child = spawn(
    options.binary ?? "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  // If this process exits without stop() (a crash, Ctrl-C), do not leave the server running.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  try {
    await waitUntilReady(url, child, 10_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    url,
    owned: true,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
