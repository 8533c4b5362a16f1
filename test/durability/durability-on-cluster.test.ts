import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Socket } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { createDurability } from "../../src/durability/create-durability.ts";
import { BullMQEventBus } from "../../src/durability/events/bullmq-event-bus.ts";
import { bullPrefixFor, CLUSTER_BULL_PREFIX, hasHashTag } from "../../src/durability/jobs/queue-connection.ts";
import { createPostgresStore } from "../../src/durability/postgres/postgres-store.ts";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import type { HoldRecord } from "../../src/model/hold.ts";
import { startRedisCluster, type TestRedisCluster } from "../support/redis-cluster.ts";
import { openSuiteDatabase, type SuiteDatabase } from "./durability-fixtures.ts";

/**
 * Durability's BullMQ side on a real 3-master Redis Cluster of this file's own (so its connections can
 * be counted): the hash-tagged prefix, jobs that run once across two "processes", and a close that
 * leaves no connection open, on the Cluster or in this process.
 */

const run = promisify(execFile);
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const definitions: MilestoneDefinitionInput[] = [
  { code: "slayer_3", title: "t", description: "d", icon: "i", trigger: "kill", rule: { type: "count", threshold: 3 } },
];

let cluster: TestRedisCluster;
let database: SuiteDatabase;
let nodes: string[];

beforeAll(async () => {
  [cluster, database] = await Promise.all([startRedisCluster({ masters: 3 }), openSuiteDatabase()]);
  nodes = cluster.nodes.map((node) => `${node.host}:${node.port}`);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await database?.close();
});

/** Client connections on every node of the Cluster, redis-cli's own asking connection left out. */
async function clusterConnections(): Promise<number> {
  const lists = await Promise.all(cluster.nodes.map(async (node) => (await run("redis-cli", ["-p", String(node.port), "client", "list"])).stdout));
  return lists.flatMap((list) => list.split("\n")).filter((line) => line.includes("id=") && !line.includes("cmd=client|list")).length;
}

/** Sockets this process holds open to the Cluster's nodes (PostgreSQL's pool left out). */
function socketsToCluster(): number {
  const ports = new Set(cluster.nodes.map((node) => node.port));
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((handle) => handle instanceof Socket && !handle.destroyed && ports.has(handle.remotePort ?? 0)).length;
}

/** Keys matching `pattern` on each master. */
async function keysPerMaster(pattern: string): Promise<number[]> {
  const masters = cluster.nodes.slice(0, 3);
  return Promise.all(
    masters.map(async (node) => {
      const { stdout } = await run("redis-cli", ["-p", String(node.port), "--scan", "--pattern", pattern]);
      return stdout.split("\n").filter(Boolean).length;
    }),
  );
}

function refusal(make: () => unknown): Error {
  try {
    make();
  } catch (error) {
    expect(isProgressionError(error, ErrorCode.InvalidInput)).toBe(true);
    return error as Error;
  }
  throw new Error("expected a ProgressionError (INVALID_INPUT), nothing was thrown");
}

describe("the BullMQ prefix", () => {
  it("defaults to a hash tag on a Cluster only, and keeps a single Redis's prefix as it was", () => {
    expect(bullPrefixFor({ cluster: ["127.0.0.1:7000"] }, undefined)).toBe(CLUSTER_BULL_PREFIX);
    expect(bullPrefixFor("redis://127.0.0.1:6379", undefined)).toBe("bull");
    expect(bullPrefixFor("redis://127.0.0.1:6379", "jobs")).toBe("jobs");
    expect(bullPrefixFor({ cluster: ["127.0.0.1:7000"] }, "game:{jobs}")).toBe("game:{jobs}");
  });

  it("takes Redis Cluster's hash-tag rule: the first '{' and the next '}', with something between", () => {
    expect(["{bull}", "a{b}c", "{b}{c}", "x:{y", "{}", "}{", "bull", "{}{bull}"].map(hasHashTag)).toEqual([true, true, true, false, false, false, false, false]);
  });
});

describe("durability on a Redis Cluster", () => {
  it("refuses a BullMQ prefix without a hash tag, names the fix, and opens no connection", async () => {
    const before = await clusterConnections();
    const redis = { cluster: nodes };
    expect(refusal(() => createDurability({ redis, bullPrefix: "bull", logger: quiet })).message).toMatch(/bullPrefix "bull" has no hash tag.*"\{bull\}"/);
    // An empty tag is no tag: Redis would hash the whole key.
    expect(refusal(() => createDurability({ redis, bullPrefix: "{}jobs", logger: quiet })).message).toMatch(/has no hash tag/);
    expect(refusal(() => new BullMQEventBus({ redis, prefix: "jobs", logger: quiet })).message).toMatch(/prefix "jobs" has no hash tag.*"\{jobs\}"/);
    expect(refusal(() => createDurability({ redis: { cluster: [] }, logger: quiet })).message).toMatch(/redis\.cluster must list at least one node/);
    expect(refusal(() => createDurability({ redis: { cluster: ["127.0.0.1"] }, logger: quiet })).message).toMatch(/"host:port" or \{ host, port \}/);
    expect(refusal(() => createDurability({ redis: { cluster: nodes, options: { keyPrefix: "game:" } }, logger: quiet })).message).toMatch(/keyPrefix.*set bullPrefix/);
    // A client rather than data: durability would not know whether to close it, nor that it allows blocking commands.
    const client = cluster.client();
    try {
      expect(refusal(() => createDurability({ redis: client as never, logger: quiet })).message).toMatch(/not an ioredis client.*\{ cluster:/);
    } finally {
      client.disconnect();
    }
    await expect.poll(clusterConnections, { timeout: 5_000, interval: 50 }).toBe(before);
  });

  it("two processes on one queue: every domain event is delivered once, all of the queue's keys on one slot", async () => {
    const queueName = `events-${randomBytes(4).toString("hex")}`;
    const delivered = new Map<string, number>();
    const buses = [0, 1].map(() => new BullMQEventBus({ redis: { cluster: nodes }, queueName, backoffMs: 10, concurrency: 4, logger: quiet }));
    try {
      // The same listener in both processes, as the bus requires; each delivery runs in one of them.
      for (const bus of buses) bus.on("milestone.reached", "awards", (envelope) => void delivered.set(envelope.id, (delivered.get(envelope.id) ?? 0) + 1));
      for (let i = 0; i < 40; i += 1) {
        const bus = buses[i % 2] as BullMQEventBus;
        bus.emit("milestone.reached", `milestone.reached:p${i}:first_blood`, { subject: `p${i}`, code: "first_blood", earnedAt: i, retroactive: false }, i);
      }
      await expect.poll(() => delivered.size, { timeout: 10_000, interval: 20 }).toBe(40);
      // Nothing left that could run a second time: then each count is final.
      await Promise.all(buses.map((bus) => bus.drain()));
      expect([...delivered.values()].every((count) => count === 1)).toBe(true);
      // Default prefix "{bull}": every key of the queue on the one master that holds its slot.
      const perMaster = await keysPerMaster(`{bull}:${queueName}:*`);
      expect(perMaster.filter((count) => count > 0)).toHaveLength(1);
    } finally {
      await Promise.all(buses.map((bus) => bus.close()));
    }
  });

  it("runs the snapshot, hold expiry and event jobs on the Cluster, and close() leaves nothing open", async () => {
    const connectionsBefore = await clusterConnections();
    expect(socketsToCluster()).toBe(0);
    const schema = `cluster_${randomBytes(4).toString("hex")}`;
    const queuePrefix = `dur-${randomBytes(4).toString("hex")}`;
    const durability = createDurability({
      redis: { cluster: nodes },
      store: createPostgresStore({ pool: database.pool, schema }),
      queuePrefix,
      schedule: { minIntervalMs: 50, maxIntervalMs: 200 },
      holdSweepIntervalMs: 100,
      events: { backoffMs: 10 },
      logger: quiet,
    });
    const progression = createProgression({ definitions, backend: createMemoryBackend(), events: durability.bus, holdExpiry: durability.holdExpiry, onMissingTranslations: () => {} });
    const awards: string[] = [];
    const expired: HoldRecord[] = [];
    durability.bus.on("milestone.reached", "test-awards", (envelope) => void awards.push(envelope.payload.subject));
    durability.bus.on("hold.expired", "test-holds", (envelope) => void expired.push(envelope.payload.hold));
    let closed = false;
    try {
      await durability.start(progression);
      const subjects = ["ann", "bob", "cid"];
      await progression.recordBatch(subjects.map((subject) => ({ type: "kill", subject, amount: 3 })));
      await progression.ledger.acquire({ subject: "ann", item: "gem", quantity: 5, idempotencyKey: "grant" });
      const { hold } = await progression.ledger.hold({ subject: "ann", item: "gem", quantity: 2, ttlMs: 150, idempotencyKey: "hold" });

      // The scheduled snapshot job (not snapshotNow) wrote every awarded subject to PostgreSQL.
      const snapshotted = async (): Promise<string[]> =>
        (await database.pool.query<{ subject: string }>(`SELECT subject FROM ${schema}.awards ORDER BY subject`).catch(() => ({ rows: [] }))).rows.map((row) => row.subject);
      await expect.poll(snapshotted, { timeout: 10_000, interval: 50 }).toEqual(subjects);
      // The sweep job released the hold; the bus told its listener once.
      await expect.poll(() => expired.map((record) => record.holdId), { timeout: 10_000, interval: 20 }).toEqual([hold.holdId]);
      await expect.poll(() => [...awards].sort(), { timeout: 10_000, interval: 20 }).toEqual(subjects);
      expect(await progression.ledger.balance("ann", "gem")).toMatchObject({ free: 5, held: 0 });
      const counts = await durability.jobCounts();
      expect(counts.map((entry) => entry.queue).sort()).toEqual([`${queuePrefix}-backfill`, `${queuePrefix}-events`, `${queuePrefix}-hold-expiry`, `${queuePrefix}-snapshot`]);
      expect((await durability.health())["bullmq"]).toMatchObject({ ok: true, detail: expect.stringContaining("the Redis Cluster at") });

      await progression.close(); // closes durability first
      closed = true;
      expect(expired).toHaveLength(1);
      expect(awards).toHaveLength(3);
      // Every queue's keys on one slot (default "{bull}").
      expect((await keysPerMaster(`{bull}:${queuePrefix}-*`)).filter((count) => count > 0)).toHaveLength(1);
      // The Cluster clients durability opened, and BullMQ's duplicates of them, are all closed.
      await expect.poll(clusterConnections, { timeout: 10_000, interval: 50 }).toBe(connectionsBefore);
      await expect.poll(socketsToCluster, { timeout: 10_000, interval: 50 }).toBe(0);
    } finally {
      if (!closed) await progression.close();
    }
  }, 40_000);
});
