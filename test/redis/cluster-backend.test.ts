import { afterEach, describe, expect, it } from "vitest";
import { Cluster, Redis } from "ioredis";
import { inject } from "vitest";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import type { RedisBackend } from "../../src/backends/redis/redis-backend-options.ts";
import { createRedisKeys } from "../../src/backends/redis/redis-keys.ts";
import { registerScripts, runScript } from "../../src/backends/redis/redis-commands.ts";
import { transferDebitArgs, transferFingerprint, transferPrepareArgs, type ScriptSettings, type Transfer } from "../../src/backends/redis/script-args.ts";
import { packr } from "../../src/backends/redis/apply-request-codec.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { CounterState } from "../../src/model/counter-state.ts";
import { deleteClusterKeysWithPrefix, deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "../support/redis-prefix.ts";
import { T0, check, counter, planOf } from "./redis-backend-fixtures.ts";

const SHARDS = 8;

/** Subjects of distinct shards under `shards` shards: `count` of them, each in a shard of its own. */
function subjectsOnDistinctShards(shards: number, count: number, label = "p"): string[] {
  const keys = createRedisKeys("any", shards);
  const byShard = new Map<number, string>();
  for (let i = 0; byShard.size < count; i += 1) {
    const subject = `${label}${i}`;
    const shard = keys.shardOf(subject).index;
    if (!byShard.has(shard)) byShard.set(shard, subject);
  }
  return [...byShard.values()];
}

describe("redis backend on a Redis Cluster", () => {
  const opened: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of opened.splice(0).reverse()) await close();
  });

  async function clusterBackend(options: { prefix?: string; clusterShards?: number; transferCompletionMs?: number } = {}): Promise<{ backend: RedisBackend; client: Cluster; prefix: string }> {
    const client = new Cluster(inject("redisClusterNodes"), { redisOptions: { maxRetriesPerRequest: 1 } });
    const prefix = options.prefix ?? randomPrefix("cl");
    const backend = createRedisBackend({ redis: client, prefix, useServerTime: false, clusterShards: options.clusterShards ?? SHARDS, ...(options.transferCompletionMs === undefined ? {} : { transferCompletionMs: options.transferCompletionMs }) });
    opened.push(async () => {
      await backend.close();
      if (options.prefix === undefined) await deleteClusterKeysWithPrefix(client, prefix);
      client.disconnect();
    });
    await backend.ready();
    return { backend, client, prefix };
  }

  /** A Cluster client with the scripts on it and their settings for `prefix`: a saga's steps run by hand. */
  function scriptsOn(prefix: string): { raw: Cluster; settings: ScriptSettings } {
    const raw = new Cluster(inject("redisClusterNodes"), { redisOptions: { maxRetriesPerRequest: 1 } });
    opened.push(async () => void raw.disconnect());
    registerScripts(raw);
    return { raw, settings: { keys: createRedisKeys(prefix, SHARDS), useServerTime: false, idempotencyRetentionMs: 86_400_000, checkRestore: false } };
  }

  /** free + held of `item` over `subjects`, plus every escrow of the prefix. */
  async function totalWithEscrow(backend: RedisBackend, client: Cluster, prefix: string, subjects: readonly string[], item: string): Promise<{ balances: number; escrowed: number }> {
    let balances = 0;
    for (const subject of subjects) {
      const { balance } = await backend.balance(subject, item, T0);
      balances += balance.free + balance.held;
    }
    const keys = createRedisKeys(prefix, SHARDS);
    let escrowed = 0;
    for (let shard = 0; shard < SHARDS; shard += 1) {
      for (const value of Object.values(await client.hgetallBuffer(keys.shard(shard).escrow))) escrowed += (packr.unpack(value) as { quantity: number }).quantity;
    }
    return { balances, escrowed };
  }

  it("spreads the shards over every master, each shard's keys on one slot", async () => {
    const { client } = await clusterBackend();
    const keys = createRedisKeys("spread", 256);
    const slots = await Promise.all(Array.from({ length: 256 }, (_, shard) => client.cluster("KEYSLOT", keys.shard(shard).dirty)));
    // Evenly over the slot space: shard i's tag hashes into [i * 64, (i + 1) * 64).
    slots.forEach((slot, shard) => expect(Math.floor(Number(slot) / 64), `shard ${shard}`).toBe(shard));
    const subject = keys.subject("player-1");
    const shard = keys.shardOf("player-1");
    const together = await Promise.all([subject.state, subject.balances, subject.history, keys.idempotency("player-1", "k"), shard.dirty, shard.escrow].map((key) => client.cluster("KEYSLOT", key)));
    expect(new Set(together).size).toBe(1);
  });

  it("applies many shards' subjects at once through a client the backend made from clusterNodes", async () => {
    const prefix = randomPrefix("cl");
    const backend = createRedisBackend({ clusterNodes: inject("redisClusterNodes").map((node) => `${node.host}:${node.port}`), prefix, useServerTime: false, clusterShards: SHARDS });
    const client = new Cluster(inject("redisClusterNodes"), { redisOptions: { maxRetriesPerRequest: 1 } });
    opened.push(async () => {
      await backend.close();
      await deleteClusterKeysWithPrefix(client, prefix);
      client.disconnect();
    });
    const plan = planOf(counter("kills001", "sum", [check("k1", 1)]));
    const subjects = Array.from({ length: 40 }, (_, i) => `own-${i}`);
    // Several applies in one turn: their calls to different masters leave together.
    const results = await Promise.all([0, 1, 2].map((n) => backend.apply({ batchId: `o${n}`, now: T0, plan, subjects: subjects.map((subject) => ({ subject, catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] })) })));
    expect(results.flat().filter((result) => result.reached.length > 0)).toHaveLength(40);
  });

  it("applies subjects of many shards in one apply, marks them dirty per shard, and hands each out once", async () => {
    const { backend } = await clusterBackend();
    const plan = planOf(counter("kills001", "sum", [check("k2", 2)]));
    const subjects = Array.from({ length: 40 }, (_, i) => `player-${i}`);
    const results = await backend.apply({ batchId: "b1", now: T0, plan, subjects: subjects.map((subject) => ({ subject, catchUp: false, increments: [{ counter: "kills001", amount: 2, at: T0 }] })) });
    expect(results.map((result) => result.reached.map((award) => award.code))).toEqual(subjects.map(() => ["k2"]));
    expect(await backend.dirtyCount()).toBe(40);
    const taken: string[] = [];
    for (let round = 0; round < 10 && taken.length < 40; round += 1) taken.push(...(await backend.takeDirtySubjects(7)));
    expect(taken.sort()).toEqual([...subjects].sort());
    expect(await backend.dirtyCount()).toBe(0);
    expect((await backend.milestoneStats()).get("k2")).toEqual({ reached: 40, claimed: 0 });
  });

  it("exports subjects of many shards, each with its own state (one transaction per shard)", async () => {
    const { backend } = await clusterBackend();
    const plan = planOf(counter("kills001", "sum", [check("k50", 50)]));
    const subjects = Array.from({ length: 24 }, (_, i) => `exported-${i}`);
    await backend.apply({ batchId: "e1", now: T0, plan, subjects: subjects.map((subject, i) => ({ subject, catchUp: false, increments: [{ counter: "kills001", amount: i + 1, at: T0 }] })) });
    const exported = await backend.exportSubjects(subjects);
    const sumOf = (state: CounterState | undefined): number | undefined => (state?.kind === "sum" ? state.value : undefined);
    expect(exported.map((snapshot) => [snapshot.subject, sumOf(snapshot.counters.get("kills001"))])).toEqual(subjects.map((subject, i) => [subject, i + 1]));
  });

  it("walks every master for the history's subjects, page by page", async () => {
    const { backend } = await clusterBackend();
    const plan = planOf(counter("kills001", "sum", [check("k9", 9)]));
    const subjects = Array.from({ length: 30 }, (_, i) => `walker-${i}`);
    await backend.apply({
      batchId: "h1",
      now: T0,
      plan,
      subjects: subjects.map((subject) => ({ subject, catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }], history: [{ type: "kill", tags: "", day: Math.floor(T0 / 86_400_000), count: 1, sum: 1, firstAt: T0, lastAt: T0, maxAmount: 1 }] })),
    });
    const found = new Set<string>();
    let cursor = "0";
    let pages = 0;
    do {
      const page = await backend.historySubjects(cursor, 5);
      for (const subject of page.subjects) found.add(subject);
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== "0" && pages < 1000);
    expect([...found].sort()).toEqual([...subjects].sort());
  });

  it("transfers between subjects of two shards, exactly once per key, and replays the receipt", async () => {
    const { backend } = await clusterBackend();
    const [from, to] = subjectsOnDistinctShards(SHARDS, 2);
    if (from === undefined || to === undefined) throw new Error("two shards");
    await backend.acquire({ idempotencyKey: "a1", subject: from, item: "gold", quantity: 10, now: T0 });
    await backend.acquire({ idempotencyKey: "a2", subject: to, item: "gold", quantity: 1, now: T0 });
    const request = { idempotencyKey: "t1", from, to, item: "gold", quantity: 4, now: T0 };
    const first = await backend.transfer(request);
    expect(first.replayed).toBe(false);
    expect(first.balances).toEqual([
      { subject: from, item: "gold", free: 6, held: 0 },
      { subject: to, item: "gold", free: 5, held: 0 },
    ]);
    const again = await backend.transfer(request);
    expect(again).toMatchObject({ replayed: true, balances: first.balances });
    await expect(backend.transfer({ ...request, quantity: 5 })).rejects.toMatchObject({ code: ErrorCode.IdempotencyConflict });
    expect((await backend.balance(from, "gold", T0)).balance.free).toBe(6);
    expect((await backend.balance(to, "gold", T0)).balance.free).toBe(5);
  });

  it("erases a receiver of cross-shard transfers everywhere, its credit records too", async () => {
    const { backend, client, prefix } = await clusterBackend();
    const [from, to] = subjectsOnDistinctShards(SHARDS, 2, "e");
    if (from === undefined || to === undefined) throw new Error("two shards");
    await backend.acquire({ idempotencyKey: "a1", subject: from, item: "gold", quantity: 5, now: T0 });
    await backend.transfer({ idempotencyKey: "t1", from, to, item: "gold", quantity: 2, now: T0, allowNewReceiver: true });
    const keys = createRedisKeys(prefix, SHARDS);
    const keysOf = async (pattern: string): Promise<string[]> => {
      const found: string[] = [];
      for (const node of client.nodes("master")) {
        let cursor = "0";
        do {
          const [next, page] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
          found.push(...page);
          cursor = next;
        } while (cursor !== "0");
      }
      return found;
    };
    expect(await keysOf(keys.transferCreditPattern(to))).toHaveLength(1);
    await backend.eraseSubject(to);
    expect(await keysOf(keys.transferCreditPattern(to))).toEqual([]);
    expect((await keysOf(`${prefix}:*`)).filter((key) => key.endsWith(`}${to}`))).toEqual([]);
    expect((await backend.balance(from, "gold", T0)).balance.free).toBe(3);
  });

  it("refuses across shards as on one Redis, changing nothing: overdraft, unknown receiver, a receiver past the largest safe balance", async () => {
    const { backend, client, prefix } = await clusterBackend();
    const [from, to, stranger] = subjectsOnDistinctShards(SHARDS, 3);
    if (from === undefined || to === undefined || stranger === undefined) throw new Error("three shards");
    await backend.acquire({ idempotencyKey: "a1", subject: from, item: "gold", quantity: 3, now: T0 });
    await backend.acquire({ idempotencyKey: "a2", subject: to, item: "gold", quantity: Number.MAX_SAFE_INTEGER - 1, now: T0 });
    await expect(backend.transfer({ idempotencyKey: "t1", from, to, item: "gold", quantity: 4, now: T0 })).rejects.toMatchObject({ code: ErrorCode.Insufficient });
    await expect(backend.transfer({ idempotencyKey: "t2", from, to: stranger, item: "gold", quantity: 1, now: T0 })).rejects.toMatchObject({ code: ErrorCode.UnknownSubject });
    await expect(backend.transfer({ idempotencyKey: "t3", from, to, item: "gold", quantity: 2, now: T0 })).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
    expect(await totalWithEscrow(backend, client, prefix, [from], "gold")).toEqual({ balances: 3, escrowed: 0 });
    // A gift to a new player is allowed when asked for.
    await backend.transfer({ idempotencyKey: "t4", from, to: stranger, item: "gold", quantity: 1, now: T0, allowNewReceiver: true });
    expect((await backend.balance(stranger, "gold", T0)).balance.free).toBe(1);
  });

  it("finishes a transfer whose caller stopped after the debit: the retry continues it, the sweep finishes the ones nobody retries", async () => {
    const { backend, client, prefix } = await clusterBackend({ transferCompletionMs: 1_000 });
    const [from, to, other] = subjectsOnDistinctShards(SHARDS, 3);
    if (from === undefined || to === undefined || other === undefined) throw new Error("three shards");
    for (const subject of [from, to, other]) await backend.acquire({ idempotencyKey: `a-${subject}`, subject, item: "gold", quantity: 10, now: T0 });
    const { raw, settings } = scriptsOn(prefix);
    /** What a process that died between the saga's steps leaves behind: the debit done, the credit not. */
    const stopAfterDebit = async (transfer: Transfer): Promise<void> => {
      const prepared = packr.unpack(await runScript(raw, transferPrepareArgs(settings, transfer))) as unknown[];
      const step = { transfer, fingerprint: transferFingerprint(transfer), escrowField: `${transfer.from}\n${transfer.idempotencyKey}` };
      const debit = packr.unpack(await runScript(raw, transferDebitArgs(settings, step, { known: prepared[1] === 1, total: Number(prepared[2]) }, `saga-${transfer.idempotencyKey}`))) as unknown[];
      expect(debit[0]).toBe(0);
    };
    const retried: Transfer = { from, to, item: "gold", quantity: 3, idempotencyKey: "crash-1", now: T0, allowNewReceiver: false };
    const abandoned: Transfer = { from: other, to, item: "gold", quantity: 2, idempotencyKey: "crash-2", now: T0, allowNewReceiver: false };
    await stopAfterDebit(retried);
    await stopAfterDebit(abandoned);
    // In between: the quantity left the senders and sits in escrow; counted with it, nothing is lost.
    expect(await totalWithEscrow(backend, client, prefix, [from, to, other], "gold")).toEqual({ balances: 25, escrowed: 5 });
    expect((await backend.balance(to, "gold", T0)).balance.free).toBe(10);

    const receipt = await backend.transfer({ ...retried, allowNewReceiver: false });
    expect(receipt.replayed).toBe(false);
    expect(receipt.balances).toEqual([
      { subject: from, item: "gold", free: 7, held: 0 },
      { subject: to, item: "gold", free: 13, held: 0 },
    ]);
    expect(await backend.completeTransfers?.(T0 + 500)).toEqual([]); // too young to be taken from its caller
    const completed = (await backend.completeTransfers?.(T0 + 2_000)) ?? [];
    expect(completed.map((done) => [done.request.idempotencyKey, done.receipt?.replayed])).toEqual([["crash-2", false]]);
    expect(await totalWithEscrow(backend, client, prefix, [from, to, other], "gold")).toEqual({ balances: 30, escrowed: 0 });
    expect((await backend.balance(to, "gold", T0)).balance.free).toBe(15);
    // The abandoned transfer's own caller, back later, gets its receipt replayed: credited once.
    expect(await backend.transfer(abandoned)).toMatchObject({ replayed: true });
    expect((await backend.balance(to, "gold", T0)).balance.free).toBe(15);
  });

  it("gives an escrow back to the sender when the receiver can no longer take it", async () => {
    const { backend, client, prefix } = await clusterBackend();
    const [from, to] = subjectsOnDistinctShards(SHARDS, 2, "q");
    if (from === undefined || to === undefined) throw new Error("two shards");
    await backend.acquire({ idempotencyKey: "a1", subject: from, item: "gold", quantity: 10, now: T0 });
    await backend.acquire({ idempotencyKey: "a2", subject: to, item: "gold", quantity: 1, now: T0 });
    const { raw, settings } = scriptsOn(prefix);
    const transfer: Transfer = { from, to, item: "gold", quantity: 4, idempotencyKey: "t", now: T0, allowNewReceiver: false };
    const step = { transfer, fingerprint: transferFingerprint(transfer), escrowField: `${from}\nt` };
    await runScript(raw, transferDebitArgs(settings, step, { known: true, total: 1 }, "saga-1"));
    // Meanwhile the receiver filled up to the largest safe balance.
    await backend.acquire({ idempotencyKey: "a3", subject: to, item: "gold", quantity: Number.MAX_SAFE_INTEGER - 2, now: T0 });
    await expect(backend.transfer(transfer)).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
    expect(await totalWithEscrow(backend, client, prefix, [from], "gold")).toEqual({ balances: 10, escrowed: 0 });
    // The key is free again: a retry runs anew (and is refused the same way, changing nothing).
    await expect(backend.transfer(transfer)).rejects.toMatchObject({ code: ErrorCode.InvalidQuantity });
    expect((await backend.balance(from, "gold", T0)).balance.free).toBe(10);
  });

  it("conserves every quantity under concurrent transfers across shards, each retried key once", async () => {
    const { backend, client, prefix } = await clusterBackend();
    const subjects = subjectsOnDistinctShards(SHARDS, 5, "c");
    for (const subject of subjects) await backend.acquire({ idempotencyKey: `a-${subject}`, subject, item: "gem", quantity: 100, now: T0 });
    const transfers = Array.from({ length: 60 }, (_, i) => ({
      idempotencyKey: `x${i}`,
      from: subjects[i % 5] as string,
      to: subjects[(i * 3 + 1) % 5] as string,
      item: "gem",
      quantity: 1 + (i % 4),
      now: T0,
    })).filter((transfer) => transfer.from !== transfer.to);
    // Every transfer sent twice at once (a client retrying while its first try still runs).
    const outcomes = await Promise.allSettled(transfers.flatMap((transfer) => [backend.transfer(transfer), backend.transfer(transfer)]));
    const applied = new Map<string, number>();
    outcomes.forEach((outcome, i) => {
      const transfer = transfers[Math.floor(i / 2)];
      if (transfer && outcome.status === "fulfilled") applied.set(transfer.idempotencyKey, transfer.quantity);
    });
    expect(await totalWithEscrow(backend, client, prefix, subjects, "gem")).toEqual({ balances: 500, escrowed: 0 });
    // Each subject's balance is what its applied transfers say, counted once per key.
    const expected = new Map(subjects.map((subject) => [subject, 100]));
    for (const transfer of transfers) {
      if (!applied.has(transfer.idempotencyKey)) continue;
      expected.set(transfer.from, (expected.get(transfer.from) ?? 0) - transfer.quantity);
      expected.set(transfer.to, (expected.get(transfer.to) ?? 0) + transfer.quantity);
    }
    for (const subject of subjects) expect((await backend.balance(subject, "gem", T0)).balance.free, subject).toBe(expected.get(subject));
  });

  it("refuses data written with another layout, naming the fix, and changes nothing", async () => {
    const prefix = randomPrefix("layout");
    const first = await clusterBackend({ prefix, clusterShards: 4 });
    await first.backend.acquire({ idempotencyKey: "a", subject: "p", item: "gold", quantity: 1, now: T0 });
    const client = new Cluster(inject("redisClusterNodes"), { redisOptions: { maxRetriesPerRequest: 1 } });
    const other = createRedisBackend({ redis: client, prefix, useServerTime: false, clusterShards: 8 });
    try {
      await expect(other.ready()).rejects.toMatchObject({ code: ErrorCode.InvalidInput, message: expect.stringContaining("set clusterShards: 4") });
      await expect(other.acquire({ idempotencyKey: "b", subject: "p", item: "gold", quantity: 1, now: T0 })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
      expect((await first.backend.balance("p", "gold", T0)).balance.free).toBe(1);
    } finally {
      await deleteClusterKeysWithPrefix(client, prefix);
      client.disconnect();
    }
    // A single Redis holding a Cluster layout's record under the prefix is refused too.
    const single = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    const singlePrefix = randomPrefix("layout");
    await single.set(createRedisKeys(singlePrefix).layout, "shards=16");
    const onSingle = createRedisBackend({ redis: single, prefix: singlePrefix, useServerTime: false });
    try {
      await expect(onSingle.ready()).rejects.toMatchObject({ code: ErrorCode.InvalidInput, message: expect.stringContaining("connect to that Redis Cluster") });
    } finally {
      await deleteKeysWithPrefix(single, singlePrefix);
      single.disconnect();
    }
  });

  it("refuses malformed cluster options with a message naming them", () => {
    expect(() => createRedisBackend({ clusterNodes: [] })).toThrow(/clusterNodes must be a non-empty list/);
    expect(() => createRedisBackend({ clusterNodes: ["127.0.0.1"] })).toThrow(/"127.0.0.1" is not "host:port"/);
    const client = new Cluster(inject("redisClusterNodes"), { lazyConnect: true });
    try {
      expect(() => createRedisBackend({ redis: client, clusterShards: 0 })).toThrow(/clusterShards must be an integer from 1 to 1024/);
      const autoPipelined = new Cluster(inject("redisClusterNodes"), { lazyConnect: true, enableAutoPipelining: true });
      expect(() => createRedisBackend({ redis: autoPipelined })).toThrow(/Cluster with enableAutoPipelining cannot run/);
      autoPipelined.disconnect();
    } finally {
      client.disconnect();
    }
  });
});
