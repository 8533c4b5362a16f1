import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { connectRedisBackend, createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { ProgressionLogger } from "../../src/logging/logger.ts";
import { testRedisUrl } from "../support/redis-prefix.ts";
import { freePort } from "../support/redis-server.ts";
import { runScript, type SpawnedScript } from "./support/spawned-process.ts";

const started: SpawnedScript[] = [];
const servers: ChildProcess[] = [];

afterEach(() => {
  for (const script of started.splice(0)) script.kill();
  for (const server of servers.splice(0)) server.kill("SIGKILL");
});

/** Every line the process printed, without blank ones. */
const linesOf = (output: string): string[] => output.split("\n").filter((line) => line.trim() !== "");

function recordingLogger(): ProgressionLogger & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => void lines.push(`info ${m}`), warn: (m) => void lines.push(`warn ${m}`), error: (m) => void lines.push(`error ${m}`) };
}

async function redisServerOn(port: number): Promise<ChildProcess> {
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  servers.push(server);
  return server;
}

describe("start-up with a dependency that is not there", () => {
  it("a wrong REDIS_URL: one line naming the variable and the address, exit code 1", async () => {
    const port = await freePort();
    const demo = runScript("rooms/demo-server.ts", { PORT: String(await freePort()), REDIS_URL: `redis://127.0.0.1:${port}` });
    started.push(demo);
    expect(await demo.exited).toBe(1);
    expect(linesOf(demo.output())).toEqual([`[colyseus-progression] cannot reach Redis at 127.0.0.1:${port} (REDIS_URL): connection refused`]);
  }, 20_000);

  it("a wrong DATABASE_URL: one line naming PostgreSQL, the variable and the address, exit code 1", async () => {
    const port = await freePort();
    const demo = runScript("rooms/demo-server.ts", {
      PORT: String(await freePort()),
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: `failfast-${process.pid}`,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
    });
    started.push(demo);
    expect(await demo.exited).toBe(1);
    expect(linesOf(demo.output())).toEqual([`[colyseus-progression] cannot reach PostgreSQL at 127.0.0.1:${port} (DATABASE_URL): connection refused`]);
  }, 20_000);

  it("connectRedisBackend waits at most connectTimeoutMs and fails with a typed error", async () => {
    const port = await freePort();
    const logger = recordingLogger();
    const started = Date.now();
    const failure = await connectRedisBackend({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300, logger }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: ErrorCode.BackendUnavailable, message: `cannot reach Redis at 127.0.0.1:${port} (url): connection refused` });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(logger.lines).toEqual([]); // the thrown error is the one report
  });
});

describe("an outage after start", () => {
  it("is logged once when it starts and once when Redis is back, however many calls fail in between", async () => {
    const port = await freePort();
    let server = await redisServerOn(port);
    const logger = recordingLogger();
    // This Redis keeps nothing on disk on purpose (the test kills it); durability is not what is tested.
    const backend = await connectRedisBackend({ url: `redis://127.0.0.1:${port}`, prefix: "outage", logger, allowVolatileRedis: true });
    try {
      const acquire = (key: string) => backend.acquire({ subject: "p", item: "gold", quantity: 1, idempotencyKey: key, now: Date.now() });
      await acquire("before");
      server.kill("SIGKILL");
      await new Promise((resolve) => server.once("exit", resolve));
      for (let i = 0; i < 5; i += 1) {
        await expect(acquire(`during-${i}`)).rejects.toMatchObject({ code: ErrorCode.BackendUnavailable });
      }
      server = await redisServerOn(port);
      await expect.poll(() => acquire("after").then(() => true, () => false), { timeout: 10_000, interval: 100 }).toBe(true);
      expect(logger.lines).toHaveLength(2);
      expect(logger.lines[0]).toMatch(new RegExp(`^error Redis at 127\\.0\\.0\\.1:${port} failed: .*\\(retrying; logged once until it recovers\\)$`));
      expect(logger.lines[1]).toMatch(new RegExp(`^info Redis at 127\\.0\\.0\\.1:${port} recovered after \\d+ failed attempts?$`));
    } finally {
      await backend.close();
    }
  }, 30_000);

  it("health() answers within its timeout, also while Redis is down", async () => {
    const port = await freePort();
    const backend = createRedisBackend({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300, logger: recordingLogger() });
    try {
      const health = await backend.health();
      expect(health).toEqual({ ok: false, detail: `Redis at 127.0.0.1:${port}: connection refused` });
    } finally {
      await backend.close();
    }
  });
});
