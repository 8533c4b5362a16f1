import { spawn } from "node:child_process";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { deleteKeysWithPrefix, isolatedRedis } from "../support/redis-prefix.ts";
import { freePort, isRedisProcess, startRedisServer } from "../support/redis-server.ts";

describe("test harness: isolated Redis prefixes", () => {
  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.map((cleanup) => cleanup()));
    cleanups = [];
  });

  it("deletes only the keys of its own prefix", async () => {
    const mine = await isolatedRedis();
    const other = await isolatedRedis();
    cleanups.push(mine.cleanup, other.cleanup);
    await mine.client.set(`${mine.prefix}:a`, "1");
    await mine.client.hset(`${mine.prefix}:{s}:b`, "f", "1");
    await other.client.set(`${other.prefix}:a`, "1");

    expect(await deleteKeysWithPrefix(mine.client, mine.prefix)).toBe(2);
    expect(await mine.client.exists(`${mine.prefix}:a`)).toBe(0);
    expect(await other.client.get(`${other.prefix}:a`)).toBe("1");
  });
});

describe("test harness: redis-servers of its own", () => {
  it("tells its own redis-server from another process answering on the port", async () => {
    const port = await freePort();
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    try {
      const url = `redis://127.0.0.1:${port}`;
      for (let i = 0; i < 100 && !(await isRedisProcess(url, child.pid).catch(() => false)); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await isRedisProcess(url, child.pid)).toBe(true);
      expect(await isRedisProcess(url, (child.pid ?? 0) + 1)).toBe(false);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("starts servers side by side, each on its own port as its own process", async () => {
    const servers = await Promise.all(Array.from({ length: 4 }, () => startRedisServer({ useEnv: false })));
    try {
      expect(new Set(servers.map((server) => server.url)).size).toBe(4);
      const pids = await Promise.all(
        servers.map(async (server) => {
          const client = new Redis(server.url);
          try {
            return /process_id:(\d+)/.exec(await client.info("server"))?.[1];
          } finally {
            client.disconnect();
          }
        }),
      );
      expect(new Set(pids).size).toBe(4);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });
});
