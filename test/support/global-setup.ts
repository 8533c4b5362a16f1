import type { TestProject } from "vitest/node";
import { startRedisServer, type TestRedisServer } from "./redis-server.ts";
import { startRedisCluster, type TestRedisCluster } from "./redis-cluster.ts";

/**
 * Starts one redis-server for the whole test run (or uses `REDIS_URL`) and hands its URL to the
 * suites: `inject("redisUrl")` in tests, or `process.env.REDIS_URL` in code that reads the env. And one
 * 3-master Redis Cluster of its own, for the backend's Cluster configuration: `inject("redisClusterNodes")`.
 */
declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    redisClusterNodes: { host: string; port: number }[];
  }
}

let server: TestRedisServer | undefined;
let cluster: TestRedisCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster({ masters: 3 })]);
  project.provide("redisUrl", server.url);
  project.provide("redisClusterNodes", [...cluster.nodes]);
  process.env.REDIS_URL = server.url;
}

export async function teardown(): Promise<void> {
  await Promise.all([server?.stop(), cluster?.stop()]);
  server = undefined;
  cluster = undefined;
}
