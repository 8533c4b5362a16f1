import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Cluster } from "ioredis";
import { freePort, startRedisServer, type TestRedisServer } from "./redis-server.ts";

const run = promisify(execFile);

/**
 * A Redis Cluster of its own on loopback ports for tests and load tests: `masters` redis-servers (AOF on,
 * as the Redis backend requires) with `replicasPerMaster` replicas each, joined by `redis-cli --cluster
 * create`, ready when every node reports `cluster_state:ok` and agrees on the slots. `stop` ends only
 * the processes it started.
 */
export interface TestRedisCluster {
  /** The nodes, masters first: `{ host, port }` as ioredis' `Cluster` takes them. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
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

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  if (masters < 3) throw new Error(`a Redis Cluster needs at least 3 masters, got ${masters}`);
  const count = masters * (1 + replicas);
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: both must be free and distinct from the other nodes'.
    if (port + 10_000 > 65_535 || ports.includes(port) || ports.some((other) => other + 10_000 === port || port + 10_000 === other)) continue;
    if (!(await isFree(port + 10_000))) continue;
    ports.push(port);
  }
  const servers: TestRedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    for (const port of ports) {
      servers.push(
        await startRedisServer({
          useEnv: false,
          port,
          extraArgs: ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000"],
        }),
      );
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
    client: () => new Cluster(nodes.slice(0, masters), { redisOptions: { maxRetriesPerRequest: 1 } }),
    stop,
  };
}

async function isFree(port: number): Promise<boolean> {
  const { createServer } = await import("node:net");
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
    const infos = await Promise.all(
      ports.map(async (port) => (await run("redis-cli", ["-p", String(port), "cluster", "info"], { timeout: 5_000 })).stdout),
    );
    if (infos.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_assigned:16384/.test(info))) return;
    if (Date.now() > deadline) throw new Error(`the Redis Cluster on ports ${ports.join(", ")} was not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
