import { describe, expect, inject, it, vi } from "vitest";
import { Cluster } from "ioredis";
import { deleteClusterKeysWithPrefix } from "../support/redis-prefix.ts";

// The README's Redis Cluster snippet, run against the test run's own Cluster (without PostgreSQL).
describe("the README's Redis Cluster quickstart", () => {
  it("records, acquires and transfers across shards on a Cluster, and prints what the README says", async () => {
    const nodes = inject("redisClusterNodes");
    process.env.REDIS_CLUSTER_NODES = nodes.map((node) => `${node.host}:${node.port}`).join(",");
    const databaseUrl = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    const client = new Cluster(nodes);
    try {
      await import("./cluster-quickstart.ts");
      expect(log.mock.calls).toEqual([
        ["first_blood"],
        [
          [
            { subject: "alice", item: "gold", free: 70, held: 0 },
            { subject: "bob", item: "gold", free: 30, held: 0 },
          ],
        ],
      ]);
    } finally {
      log.mockRestore();
      info.mockRestore();
      if (databaseUrl !== undefined) process.env.DATABASE_URL = databaseUrl;
      await deleteClusterKeysWithPrefix(client, "my-game");
      await deleteClusterKeysWithPrefix(client, "{bull}");
      client.disconnect();
    }
  }, 30_000);
});
