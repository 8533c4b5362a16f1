import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { loadLuaScripts } from "../../src/backends/redis/script-loader.ts";
import { startRedisServer, type TestRedisServer } from "../support/redis-server.ts";
import { T0, check, counter, planOf, redisBackendForTest } from "./redis-backend-fixtures.ts";

describe("redis backend: scripts evicted by SCRIPT FLUSH", () => {
  let backend: ProgressionBackend;
  let client: Redis;
  let cleanup: () => Promise<void>;
  // A private redis-server: SCRIPT FLUSH must not disturb the suites sharing the run's server.
  let server: TestRedisServer;
  beforeEach(async () => {
    server = await startRedisServer({ useEnv: false });
    ({ backend, client, cleanup } = await redisBackendForTest({}, server.url));
  });
  afterEach(async () => {
    await cleanup();
    await server.stop();
  });

  it("reload transparently, in pipelines (apply) and single calls (ledger)", async () => {
    const plan = planOf(counter("kills001", "sum", [check("k3", 3)]));
    const apply = (batchId: string) =>
      backend.apply({
        batchId,
        now: T0,
        plan,
        subjects: ["a", "b"].map((subject) => ({ subject, catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] })),
      });
    await apply("1");
    await backend.acquire({ idempotencyKey: "k1", subject: "a", item: "gem", quantity: 1, now: T0 });

    const shas = loadLuaScripts()
      .filter((script) => script.name === "applyBatch" || script.name === "changeFree")
      .map((script) => createHash("sha1").update(script.lua).digest("hex"));
    expect(await client.script("EXISTS", ...shas)).toEqual([1, 1]);
    await client.script("FLUSH");
    expect(await client.script("EXISTS", ...shas)).toEqual([0, 0]);
    await apply("2");
    await backend.acquire({ idempotencyKey: "k2", subject: "a", item: "gem", quantity: 1, now: T0 });

    await client.script("FLUSH");
    const third = await apply("3");
    expect(third.map((r) => r.reached.map((a) => a.code))).toEqual([["k3"], ["k3"]]);
    expect((await backend.balance("a", "gem", T0)).balance.free).toBe(2);
  });
});
