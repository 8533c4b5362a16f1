import type { ChainableCommander, Cluster, Redis } from "ioredis";
import calculateSlot from "cluster-key-slot";
import { runScript, type ProgressionRedisClient, type ScriptCall } from "./redis-commands.ts";

/**
 * How commands reach Redis: one pipeline on a single Redis; on a Redis Cluster, where a pipeline may not
 * span nodes, every call on its own at once (ioredis routes each to its slot's master and follows MOVED
 * and ASK). Not with `enableAutoPipelining` on the client: ioredis takes a script call's slot from its
 * first argument, which is the key count. Node-wide commands (SCAN, INFO) go to every master.
 */
export interface RedisTopology {
  readonly isCluster: boolean;
  /**
   * Sends every call in one round trip; one `[error, reply]` per call, in order. With `replicas`, each write
   * is followed by `WAIT` on its node, and a call whose node heard back from fewer replicas in time gets a
   * `ReplicaAckError` instead of its reply (it was written on the master, not acknowledged).
   */
  sendAll(calls: readonly Send[], replicas?: ReplicaAcks): Promise<Array<[Error | null, unknown]>>;
  /** The masters (the client itself on a single Redis), each with the address it answers at. */
  masters(): readonly { readonly address: string; readonly node: Pick<Redis, "info" | "scan"> }[];
  /**
   * One page of a SCAN over every master: `cursor` is "0" to start and "0" again when done. On a Cluster
   * it names the master by the first slot it serves (which survives a failover) and its own cursor.
   */
  scan(cursor: string, pattern: string, count: number): Promise<{ readonly cursor: string; readonly keys: readonly string[] }>;
}

/** One command, queued on a pipeline or sent on the client; `key` names its slot (for WAIT on a Cluster). */
export type Send = ((target: ChainableCommander) => unknown) & { readonly key?: string };

/** A script call as a Send, keyed by its first key. */
export function sendScript(script: ScriptCall): Send {
  return Object.assign((target: ChainableCommander) => runScript(target, script), { key: script.keys[0] });
}

/** How many replicas must have a write before it is acknowledged, and how long to wait for them. */
export interface ReplicaAcks {
  readonly count: number;
  readonly timeoutMs: number;
}

/** A write its master made but too few replicas confirmed in time: not acknowledged (retry: calls are idempotent). */
export class ReplicaAckError extends Error {
  constructor(acknowledged: number, replicas: ReplicaAcks) {
    super(`written on the master but confirmed by ${acknowledged} of ${replicas.count} replicas within ${replicas.timeoutMs} ms (replicaAcks)`);
    this.name = "ReplicaAckError";
  }
}

/** The replies of a pipeline that ended in WAIT: each call's, or the shortfall where WAIT heard too few. */
function acknowledged(replies: Array<[Error | null, unknown]>, replicas: ReplicaAcks): Array<[Error | null, unknown]> {
  const [waitError, acks] = replies[replies.length - 1] ?? [new Error("no WAIT reply"), 0];
  const calls = replies.slice(0, -1);
  if (waitError) return calls.map(() => [waitError, null]);
  if (Number(acks) >= replicas.count) return calls;
  return calls.map(([error]) => [error ?? new ReplicaAckError(Number(acks), replicas), null]);
}

export function redisTopology(client: ProgressionRedisClient, address: string): RedisTopology {
  if (client.isCluster !== true) {
    return {
      isCluster: false,
      async sendAll(calls, replicas) {
        const pipeline = client.pipeline();
        for (const send of calls) send(pipeline);
        // One WAIT after them all: a connection's writes replicate in order.
        if (replicas !== undefined) pipeline.wait(replicas.count, replicas.timeoutMs);
        const replies = (await pipeline.exec()) ?? [];
        return replicas === undefined ? replies : acknowledged(replies, replicas);
      },
      masters: () => [{ address, node: client }],
      async scan(cursor, pattern, count) {
        const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", count);
        return { cursor: next, keys };
      },
    };
  }
  const cluster = client as unknown as Cluster;
  /** The masters in the order of the first slot each serves. */
  const mastersBySlot = (): { firstSlot: number; node: Redis }[] => {
    const firstSlot = new Map<string, number>();
    cluster.slots.forEach((nodes, slot) => {
      const master = nodes[0];
      if (master !== undefined && !firstSlot.has(master)) firstSlot.set(master, slot);
    });
    return cluster
      .nodes("master")
      .map((node) => ({ node, firstSlot: firstSlot.get(nodeKey(node)) ?? Number.MAX_SAFE_INTEGER }))
      .filter((entry) => entry.firstSlot !== Number.MAX_SAFE_INTEGER)
      .sort((a, b) => a.firstSlot - b.firstSlot);
  };
  return {
    isCluster: true,
    async sendAll(calls, replicas) {
      // The client stands in for a pipeline: the same command methods, each returning its own promise
      // (ioredis follows MOVED and ASK for each).
      const target = cluster as unknown as ChainableCommander;
      const settled = await Promise.allSettled(calls.map(async (send) => send(target)));
      const replies = settled.map((outcome): [Error | null, unknown] =>
        outcome.status === "fulfilled" ? [null, outcome.value] : [outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason)), null],
      );
      if (replicas === undefined) return replies;
      // Then WAIT on the connection of each master that served a write (it now serves the write's slot):
      // WAIT covers every earlier write on that connection.
      const nodes = new Map<Redis, number[]>();
      calls.forEach((send, i) => {
        const slotMaster = send.key === undefined ? undefined : cluster.slots[calculateSlot(send.key)]?.[0];
        const served = cluster.nodes("master").filter((node) => slotMaster === undefined || nodeKey(node) === slotMaster);
        for (const node of served) nodes.set(node, [...(nodes.get(node) ?? []), i]);
      });
      await Promise.all(
        [...nodes].map(async ([node, indexes]) => {
          let acks: number;
          try {
            acks = await node.wait(replicas.count, replicas.timeoutMs);
          } catch (error) {
            for (const i of indexes) if (replies[i]?.[0] === null) replies[i] = [error instanceof Error ? error : new Error(String(error)), null];
            return;
          }
          if (acks >= replicas.count) return;
          for (const i of indexes) if (replies[i]?.[0] === null) replies[i] = [new ReplicaAckError(acks, replicas), null];
        }),
      );
      return replies;
    },
    masters: () => cluster.nodes("master").map((node) => ({ address: nodeKey(node), node })),
    async scan(cursor, pattern, count) {
      const masters = mastersBySlot();
      const [slotText, nodeCursor] = cursor === "0" ? ["0", "0"] : cursor.split("/");
      const fromSlot = Number(slotText);
      const at = masters.findIndex((master) => master.firstSlot >= fromSlot);
      const current = masters[at];
      if (current === undefined) return { cursor: "0", keys: [] };
      // A master that took over the slot range (failover) continues its predecessor's cursor: SCAN may
      // then repeat keys, never skip one that was there all along.
      const [next, keys] = await current.node.scan(current.firstSlot === fromSlot ? (nodeCursor ?? "0") : "0", "MATCH", pattern, "COUNT", count);
      if (next !== "0") return { cursor: `${current.firstSlot}/${next}`, keys };
      const following = masters[at + 1];
      return { cursor: following === undefined ? "0" : `${following.firstSlot}/0`, keys };
    },
  };
}

function nodeKey(node: Redis): string {
  return `${node.options.host ?? "127.0.0.1"}:${node.options.port ?? 6379}`;
}

/**
 * The commands `build` queues on a stand-in pipeline, as calls `sendAll` sends to wherever their keys live:
 * code written against a pipeline runs unchanged on a Cluster.
 */
export function recordedCalls(build: (pipeline: ChainableCommander) => void): Send[] {
  const calls: Send[] = [];
  const recorder: ChainableCommander = new Proxy({} as ChainableCommander, {
    get:
      (_, command) =>
      (...args: unknown[]) => {
        calls.push((target) => (target as unknown as Record<string | symbol, (...args: unknown[]) => unknown>)[command]?.(...args));
        return recorder;
      },
  });
  build(recorder);
  return calls;
}
