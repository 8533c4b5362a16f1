import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { startRedisCluster, type TestRedisCluster } from "../support/redis-cluster.ts";

// The harness the Cluster backend configuration and the cross-process load test build on (issue 13).
describe("a Redis Cluster of the test run's own", () => {
  let cluster: TestRedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  }, 60_000);
  afterAll(async () => cluster?.stop());

  it("starts 3 masters with a replica each on loopback ports and routes keys of every slot", async () => {
    expect(cluster.nodes).toHaveLength(6);
    const client = cluster.client();
    try {
      const keys = Array.from({ length: 50 }, (_, index) => `harness:${index}`);
      for (const key of keys) await client.set(key, key);
      expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys);
      // Keys land on every master: the slots are spread, not all on one node.
      const masters = client.nodes("master");
      expect(masters).toHaveLength(3);
      const perMaster = await Promise.all(masters.map((node) => node.dbsize()));
      expect(perMaster.every((n) => n > 0)).toBe(true);
      await client.del(...keys.slice(0, 1));
      for (const key of keys.slice(1)) await client.del(key);
    } finally {
      client.disconnect();
    }
  });

  it("keeps a hash-tagged group of keys on one slot, so one script may touch them all", async () => {
    const client = cluster.client();
    try {
      const slots = await Promise.all(["p:s:{player-1}", "p:b:{player-1}", "p:h:{player-1}"].map((key) => client.cluster("KEYSLOT", key)));
      expect(new Set(slots).size).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it("stops every node it started", async () => {
    const other = await startRedisCluster({ masters: 3 });
    const probe = new Redis(other.nodes[0]!.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    await probe.connect();
    expect(await probe.ping()).toBe("PONG");
    probe.disconnect();
    await other.stop();
    const after = new Redis(other.nodes[0]!.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    after.on("error", () => undefined);
    await expect(after.connect()).rejects.toThrow();
    after.disconnect();
  }, 60_000);
});
