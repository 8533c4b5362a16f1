import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { connectRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { RedisBackend } from "../../src/backends/redis/redis-backend-options.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { startRedisCluster, type TestRedisCluster } from "../support/redis-cluster.ts";
import { T0, check, counter, planOf } from "./redis-backend-fixtures.ts";

/**
 * A master of the backend's Cluster fails over (a replica takes its slots) while writes flow: every write
 * acknowledged before, during or after is there afterwards, and a write that failed in the window, retried
 * with its idempotency key, takes effect once. The scripts also survive a node that forgot them.
 */
describe("redis backend on a Redis Cluster: failover and a node without scripts", () => {
  let cluster: TestRedisCluster;
  let backend: RedisBackend;
  const prefix = "failover";
  const players = Array.from({ length: 24 }, (_, i) => `fo-${i}`);

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    backend = await connectRedisBackend({ clusterNodes: cluster.nodes.slice(0, 3).map((node) => `${node.host}:${node.port}`), prefix, useServerTime: false, clusterShards: 16 });
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    await cluster?.stop();
  });

  /** The replica (a node of its own) of the master serving `key`'s slot, once the master lists it. */
  async function replicaOf(key: string): Promise<Redis> {
    const probe = cluster.client();
    try {
      const slot = Number(await probe.cluster("KEYSLOT", key));
      const deadline = Date.now() + 15_000;
      for (;;) {
        const ranges = await probe.cluster("SLOTS");
        const replica = ranges.find(([start, end]) => slot >= start && slot <= end)?.[3];
        if (replica) return new Redis(replica[1], replica[0], { maxRetriesPerRequest: 1 });
        if (Date.now() > deadline) throw new Error(`no replica serves slot ${slot}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      probe.disconnect();
    }
  }

  async function untilRole(node: Redis, role: "master" | "slave", timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await node.info("replication");
      if (info.includes(`role:${role}`)) return;
      if (Date.now() > deadline) throw new Error(`node did not become ${role} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("loses nothing acknowledged while a master fails over, and a retried write counts once", async () => {
    const plan = planOf(counter("kills001", "sum", [check("k100", 100)]));
    const acquired = new Map<string, number>(); // idempotency key -> quantity (acknowledged)
    const failed: { key: string; subject: string; quantity: number }[] = [];
    let kills = 0; // acknowledged kill increments
    let stop = false;
    const writer = (async () => {
      for (let round = 0; !stop && round < 10_000; round += 1) {
        const subject = players[round % players.length] as string;
        const key = `acq-${round}`;
        const quantity = 1 + (round % 3);
        try {
          await backend.acquire({ idempotencyKey: key, subject, item: "gold", quantity, now: T0 });
          acquired.set(key, quantity);
        } catch (error) {
          if (!isProgressionError(error) || error.code !== ErrorCode.BackendUnavailable) throw error;
          failed.push({ key, subject, quantity });
        }
        try {
          await backend.apply({ batchId: `b-${round}`, now: T0, plan, subjects: [{ subject, catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] }] });
          kills += 1;
        } catch (error) {
          if (!isProgressionError(error) || error.code !== ErrorCode.BackendUnavailable) throw error;
          // Retried as the recorder retries a flush: the same batch id, so it counts at most once.
          for (;;) {
            try {
              await backend.apply({ batchId: `b-${round}`, now: T0, plan, subjects: [{ subject, catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] }] });
              kills += 1;
              break;
            } catch {
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        }
      }
    })();
    // Let writes flow, then fail over the master of the first player's shard.
    while (acquired.size < 100) await new Promise((resolve) => setTimeout(resolve, 10));
    let replica: Redis | undefined;
    try {
      replica = await replicaOf(createRedisKeys(prefix, 16).subject(players[0] as string).state);
      await replica.cluster("FAILOVER");
      await untilRole(replica, "master", 15_000);
      const before = acquired.size;
      // Writes continue on the new master.
      while (acquired.size < before + 100) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      stop = true;
      await writer;
      replica?.disconnect();
    }
    for (const { key, subject, quantity } of failed) {
      await backend.acquire({ idempotencyKey: key, subject, item: "gold", quantity, now: T0 });
      acquired.set(key, quantity);
    }
    const perSubject = new Map<string, number>();
    for (const [key, quantity] of acquired) {
      const subject = players[Number(key.slice(4)) % players.length] as string;
      perSubject.set(subject, (perSubject.get(subject) ?? 0) + quantity);
    }
    for (const subject of players) expect((await backend.balance(subject, "gold", T0)).balance.free, subject).toBe(perSubject.get(subject) ?? 0);
    const counted = await Promise.all(
      players.map(async (subject) => {
        const state = (await backend.readState(subject)).counters.get("kills001");
        return state?.kind === "sum" ? state.value : 0;
      }),
    );
    expect(counted.reduce((sum, value) => sum + value, 0)).toBe(kills);
  }, 60_000);

  it("runs its scripts on a node that forgot them (SCRIPT FLUSH)", async () => {
    const subject = players[1] as string;
    const before = (await backend.balance(subject, "gold", T0)).balance.free;
    const masters = cluster.client();
    try {
      await masters.ping(); // connected: it knows the masters
      for (const node of masters.nodes("master")) await node.script("FLUSH");
    } finally {
      masters.disconnect();
    }
    await backend.acquire({ idempotencyKey: "after-flush", subject, item: "gold", quantity: 5, now: T0 });
    expect((await backend.balance(subject, "gold", T0)).balance.free).toBe(before + 5);
  }, 30_000);
});

/**
 * A master is killed (kill -9) under writes and its replica takes over: with `replicaAcks: 1` every write
 * acknowledged is on the replica before its reply, so nothing acknowledged is lost; writes that failed in
 * the window, retried with their keys, take effect once.
 */
describe("redis backend on a Redis Cluster: a master killed, with replicaAcks", () => {
  let cluster: TestRedisCluster;
  let backend: RedisBackend;
  const prefix = "killed";
  const players = Array.from({ length: 24 }, (_, i) => `kd-${i}`);

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    backend = await connectRedisBackend({ clusterNodes: cluster.nodes.map((node) => `${node.host}:${node.port}`), prefix, useServerTime: false, clusterShards: 16, replicaAcks: 1, replicaAckTimeoutMs: 200 });
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    await cluster?.stop();
  });

  it("loses no acknowledged write when a master dies and its replica takes over", async () => {
    const acquired = new Map<string, { subject: string; quantity: number }>();
    const failed: { key: string; subject: string; quantity: number }[] = [];
    let stop = false;
    const writer = (async () => {
      for (let round = 0; !stop && round < 20_000; round += 1) {
        const subject = players[round % players.length] as string;
        const key = `acq-${round}`;
        const quantity = 1 + (round % 3);
        try {
          await backend.acquire({ idempotencyKey: key, subject, item: "gold", quantity, now: T0 });
          acquired.set(key, { subject, quantity });
        } catch (error) {
          if (!isProgressionError(error) || error.code !== ErrorCode.BackendUnavailable) throw error;
          failed.push({ key, subject, quantity });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    })();
    try {
      while (acquired.size < 200) await new Promise((resolve) => setTimeout(resolve, 10));
      // The master of the first player's shard, by its port among the nodes this test started.
      const probe = cluster.client();
      let masterPort: number;
      try {
        const slot = Number(await probe.cluster("KEYSLOT", createRedisKeys(prefix, 16).subject(players[0] as string).state));
        const range = (await probe.cluster("SLOTS")).find(([start, end]) => slot >= start && slot <= end);
        masterPort = Number(range?.[2]?.[1]);
      } finally {
        probe.disconnect();
      }
      const victim = cluster.processes[cluster.nodes.findIndex((node) => node.port === masterPort)];
      if (victim === undefined) throw new Error(`no process of this test serves port ${masterPort}`);
      victim.child.kill("SIGKILL");
      // Writes to its slots fail: first while the replica is promoted, then while the new master has no
      // replica of its own to confirm them (replicaAcks: 1). Writes to the other masters go on.
      const failedBefore = failed.length;
      const deadline = Date.now() + 30_000;
      while (failed.length === failedBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const ackedAfterKill = acquired.size;
      while (acquired.size < ackedAfterKill + 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(acquired.size).toBeGreaterThanOrEqual(ackedAfterKill + 100);
    } finally {
      stop = true;
      await writer;
    }
    expect(failed.length).toBeGreaterThan(0); // the kill was felt
    // The new master has no replica: retries and the check go through a backend that waits for none.
    const plain = await connectRedisBackend({ clusterNodes: cluster.nodes.map((node) => `${node.host}:${node.port}`), prefix, useServerTime: false, clusterShards: 16 });
    for (const { key, subject, quantity } of failed) {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await plain.acquire({ idempotencyKey: key, subject, item: "gold", quantity, now: T0 });
          break;
        } catch (error) {
          if (attempt > 100) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      acquired.set(key, { subject, quantity });
    }
    const perSubject = new Map<string, number>();
    for (const { subject, quantity } of acquired.values()) perSubject.set(subject, (perSubject.get(subject) ?? 0) + quantity);
    try {
      for (const subject of players) expect((await plain.balance(subject, "gold", T0)).balance.free, subject).toBe(perSubject.get(subject) ?? 0);
    } finally {
      await plain.close();
    }
  }, 90_000);
});

