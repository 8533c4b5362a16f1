import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort, waitForPort } from "../runner/local-processes.ts";
import { isRedisProcess } from "../../test/support/redis-server.ts";

class PortTakenError extends Error {}

/**
 * A redis-server the fault suite owns: loopback, a free port, AOF on (`always` or `everysec`) in a
 * temporary directory of its own. `kill9()` ends it the hard way (SIGKILL, by its pid) and
 * `restart()` starts it again on the same port and directory, so it comes back from its AOF.
 * `stop()` ends it and removes the directory.
 */
export interface OwnedRedis {
  readonly url: string;
  readonly port: number;
  fsync(): "always" | "everysec";
  /** CONFIG SET appendfsync now, and the same on every restart. */
  setFsync(mode: "always" | "everysec"): Promise<void>;
  pid(): number;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOwnedRedis(initialFsync: "always" | "everysec" = "everysec"): Promise<OwnedRedis> {
  let fsync = initialFsync;
  let port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "faults-redis-"));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let exit: string | null = null;

  const launch = async (): Promise<void> => {
    exit = null;
    const started = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", fsync, "--save", "", "--protected-mode", "no"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child = started;
    exited = new Promise((resolve) => {
      started.once("exit", (code, signal) => {
        exit = `redis-server exited (code ${code}, signal ${signal})`;
        resolve();
      });
      started.once("error", (error) => {
        exit = `could not start redis-server: ${error.message} (install Redis so redis-server is on PATH)`;
        resolve();
      });
    });
    try {
      await waitForPort(port, 15_000, () => exit);
    } catch (error) {
      // It exited before serving: most often the port was bound by another run meanwhile.
      const reason = exit as string | null; // set by the exit listener meanwhile
      if (reason !== null && !reason.startsWith("could not start")) throw new PortTakenError(reason);
      throw error;
    }
    // Loading a large AOF answers LOADING for a moment: wait until it serves.
    const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          await probe.ping();
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      probe.disconnect();
    }
    // Another run may have bound the port between the probe and this bind: then its Redis answers here,
    // and killing or restarting "ours" would hit theirs.
    if (!(await isRedisProcess(`redis://127.0.0.1:${port}`, child?.pid))) {
      child?.kill("SIGKILL");
      await exited;
      throw new PortTakenError(`port ${port} is served by another redis-server`);
    }
  };
  const firstLaunch = async (): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await launch();
      } catch (error) {
        if (!(error instanceof PortTakenError) || attempt >= 5) throw error;
        port = await freePort();
      }
    }
  };
  const signal = async (name: NodeJS.Signals): Promise<void> => {
    if (child === undefined || exit !== null) return;
    child.kill(name);
    await exited;
  };
  // If the runner dies first, its redis-server goes with it.
  const onExit = (): void => void child?.kill("SIGKILL");
  process.once("exit", onExit);

  await firstLaunch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    fsync: () => fsync,
    setFsync: async (mode) => {
      const client = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1 });
      try {
        await client.config("SET", "appendfsync", mode);
        fsync = mode;
      } finally {
        client.disconnect();
      }
    },
    pid: () => child?.pid ?? -1,
    kill9: () => signal("SIGKILL"),
    restart: launch,
    stop: async () => {
      const timer = setTimeout(() => void child?.kill("SIGKILL"), 5_000);
      await signal("SIGTERM");
      clearTimeout(timer);
      process.off("exit", onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
