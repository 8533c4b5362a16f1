import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { Cluster } from "ioredis";
import { freePort, startRedisServer, type OwnedProcess } from "./local-processes.ts";

const run = promisify(execFile);

/**
 * A Redis Cluster of its own on loopback ports, for the load test (`--redis-cluster N`) and the tests
 * (test/support/redis-cluster.ts re-exports it): `masters` redis-servers (AOF on, as the Redis backend
 * requires) with `replicasPerMaster` replicas each, joined by `redis-cli --cluster create`, ready when
 * every node reports `cluster_state:ok` and knows all 16384 slots. `stop` ends only the processes it
 * started (and they are killed if this process exits first).
 */
export interface LocalRedisCluster {
  /** The nodes, masters first: `{ host, port }` as ioredis' `Cluster` takes them. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** The redis-server processes, in the order of `nodes` (CPU figures). */
  readonly processes: readonly OwnedProcess[];
  /** A new ioredis Cluster client on these nodes (the caller closes it). */
  client(): Cluster;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Masters; at least 3 (what `redis-cli --cluster create` accepts). Default 3. */
  readonly masters?: number;
  /** Replicas per master. Default 0. */
  readonly replicasPerMaster?: number;
  /** How long to wait for the cluster to become ready. Default 20 s. */
  readonly readyTimeoutMs?: number;
}

/** Bounds of what this starts on one machine. */
export const REDIS_CLUSTER_LIMITS = { minMasters: 3, maxMasters: 9, maxReplicasPerMaster: 2 } as const;

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  if (!Number.isInteger(masters) || masters < REDIS_CLUSTER_LIMITS.minMasters || masters > REDIS_CLUSTER_LIMITS.maxMasters) {
    throw new Error(`a local Redis Cluster takes ${REDIS_CLUSTER_LIMITS.minMasters} to ${REDIS_CLUSTER_LIMITS.maxMasters} masters, got ${masters}`);
  }
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > REDIS_CLUSTER_LIMITS.maxReplicasPerMaster) {
    throw new Error(`a local Redis Cluster takes 0 to ${REDIS_CLUSTER_LIMITS.maxReplicasPerMaster} replicas per master, got ${replicas}`);
  }
  const ports = await clusterPorts(masters * (1 + replicas));
  const processes: OwnedProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((owned) => owned.stop(5_000)));
  };
  try {
    for (const port of ports) {
      const server = await startRedisServer({
        port,
        // Its config file in the server's own folder: a node never reads another run's.
        extraArgs: ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000"],
      });
      processes.push(server.process);
    }
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", String(replicas), "--cluster-yes"], { timeout: 30_000 });
    await waitForClusterOk(ports, options.readyTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = ports.map((port) => ({ host: "127.0.0.1", port }));
  return {
    nodes,
    processes,
    client: () => new Cluster(nodes.slice(0, masters), { redisOptions: { maxRetriesPerRequest: 1 } }),
    stop,
  };
}

/** `count` free ports whose cluster bus ports (port + 10000) are free too and clash with none of the others. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries += 1) {
    if (tries > count * 50) throw new Error(`found only ${ports.length} of ${count} free port pairs (port and port + 10000) on 127.0.0.1`);
    const port = await freePort();
    if (port + 10_000 > 65_535 || ports.includes(port) || ports.some((other) => other + 10_000 === port || port + 10_000 === other)) continue;
    if (!(await isFree(port + 10_000))) continue;
    ports.push(port);
  }
  return ports;
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** Every node says the cluster is ok and knows all 16384 slots assigned. */
async function waitForClusterOk(ports: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(ports.map(async (port) => (await run("redis-cli", ["-p", String(port), "cluster", "info"], { timeout: 5_000 })).stdout));
    if (infos.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_assigned:16384/.test(info))) return;
    if (Date.now() > deadline) throw new Error(`the Redis Cluster on ports ${ports.join(", ")} was not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
