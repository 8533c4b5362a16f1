import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { Cluster } from "ioredis";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { packr } from "../../src/backends/redis/apply-request-codec.ts";
import { deleteClusterKeysWithPrefix, randomPrefix } from "../support/redis-prefix.ts";

const SHARDS = 8;

/** Six players, each on a shard of its own: every transfer between them is a saga. */
function playersOnDistinctShards(): string[] {
  const keys = createRedisKeys("any", SHARDS);
  const byShard = new Map<number, string>();
  for (let i = 0; byShard.size < 6; i += 1) {
    const shard = keys.shardOf(`crash-${i}`).index;
    if (!byShard.has(shard)) byShard.set(shard, `crash-${i}`);
  }
  return [...byShard.values()];
}

describe("cross-shard transfers when their process is killed (kill -9) at a random moment", () => {
  it("conserves every quantity, counting escrows, and the sweep finishes what was left in flight", async () => {
    const nodes = inject("redisClusterNodes");
    const client = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    const prefix = randomPrefix("crash");
    const players = playersOnDistinctShards();
    const backend = createRedisBackend({ redis: client, prefix, useServerTime: false, clusterShards: SHARDS, transferCompletionMs: 1 });
    const keys = createRedisKeys(prefix, SHARDS);
    /** The escrows' quantities not credited yet (an escrow whose saga's credit is recorded is delivered, not settled yet). */
    const escrowed = async (): Promise<{ open: number; undelivered: number }> => {
      let open = 0;
      let undelivered = 0;
      for (let shard = 0; shard < SHARDS; shard += 1) {
        for (const value of Object.values(await client.hgetallBuffer(keys.shard(shard).escrow))) {
          const escrow = packr.unpack(value) as { quantity: number; to: string; sagaId: string };
          open += 1;
          const credit = await client.getBuffer(keys.transferCredit(escrow.to, escrow.sagaId));
          if (credit === null || (packr.unpack(credit) as [number])[0] !== 0) undelivered += escrow.quantity;
        }
      }
      return { open, undelivered };
    };
    const balances = async (): Promise<number> => {
      let total = 0;
      for (const subject of players) total += (await backend.balance(subject, "gold", Date.now())).balance.free;
      return total;
    };
    try {
      for (const subject of players) await backend.acquire({ idempotencyKey: `seed-${subject}`, subject, item: "gold", quantity: 1_000, now: Date.now() });
      for (let kill = 0; kill < 8; kill += 1) {
        const child = spawn(process.execPath, [join(import.meta.dirname, "support/transfer-loop.ts")], {
          env: { ...process.env, CLUSTER_NODES: nodes.map((node) => `${node.host}:${node.port}`).join(","), PREFIX: prefix, SUBJECTS: players.join(",") },
          stdio: ["ignore", "pipe", "inherit"],
        });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => void (output += chunk.toString()));
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        // Killed once it has transferred for a while, at a random moment of a transfer.
        const deadline = Date.now() + 20_000;
        while ((output.match(/^done /gm)?.length ?? 0) < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, randomInt(0, 30)));
        child.kill("SIGKILL");
        await exited;
        expect(output.match(/^done /gm)?.length ?? 0).toBeGreaterThanOrEqual(20);
        expect(output).not.toMatch(/^failed /m); // every transfer it finished went through
        // At every moment, counted with the escrows, nothing was created or lost.
        // Wait out a command the killed process had already sent (Redis still runs it).
        const settled = async (): Promise<string> => JSON.stringify([await escrowed(), await balances()]);
        for (let last = await settled(), next = ""; ; last = next) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          next = await settled();
          if (next === last) break;
        }
        const inEscrow = await escrowed();
        // (A kill falls between a saga's steps about one time in three: then an escrow is open here.)
        expect((await balances()) + inEscrow.undelivered).toBe(6_000);
        // The sweep finishes what the killed process left between its steps.
        await backend.completeTransfers?.(Date.now() + 1_000);
        expect(await escrowed()).toEqual({ open: 0, undelivered: 0 });
        expect(await balances()).toBe(6_000);
      }
    } finally {
      await backend.close();
      await deleteClusterKeysWithPrefix(client, prefix);
      client.disconnect();
    }
  }, 120_000);
});
