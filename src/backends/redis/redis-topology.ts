import type { ChainableCommander, Cluster, Redis } from "ioredis";
import type { ProgressionRedisClient } from "./redis-commands.ts";

/**
 * How commands reach Redis: one pipeline on a single Redis; on a Redis Cluster, where a pipeline may not
 * span nodes, every call on its own at once (ioredis routes each to its slot's master and follows MOVED
 * and ASK; with `enableAutoPipelining` the calls to one node leave as one write). Node-wide commands
 * (SCAN, INFO) go to every master.
 */
export interface RedisTopology {
  readonly isCluster: boolean;
  /** Sends every call in one round trip; one `[error, reply]` per call, in order. */
  sendAll(calls: readonly Send[]): Promise<Array<[Error | null, unknown]>>;
  /** The masters (the client itself on a single Redis), each with the address it answers at. */
  masters(): readonly { readonly address: string; readonly node: Pick<Redis, "info" | "scan"> }[];
  /**
   * One page of a SCAN over every master: `cursor` is "0" to start and "0" again when done. On a Cluster
   * it names the master by the first slot it serves (which survives a failover) and its own cursor.
   */
  scan(cursor: string, pattern: string, count: number): Promise<{ readonly cursor: string; readonly keys: readonly string[] }>;
}

/** One command, queued on a pipeline or sent on the client. */
export type Send = (target: ChainableCommander) => unknown;

export function redisTopology(client: ProgressionRedisClient, address: string): RedisTopology {
  if (client.isCluster !== true) {
    return {
      isCluster: false,
      async sendAll(calls) {
        const pipeline = client.pipeline();
        for (const send of calls) send(pipeline);
        return (await pipeline.exec()) ?? [];
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
    async sendAll(calls) {
      // The client stands in for a pipeline: the same command methods, each returning its own promise.
      const target = cluster as unknown as ChainableCommander;
      const settled = await Promise.allSettled(calls.map(async (send) => send(target)));
      return settled.map((outcome): [Error | null, unknown] =>
        outcome.status === "fulfilled" ? [null, outcome.value] : [outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason)), null],
      );
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
