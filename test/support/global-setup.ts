import type { TestProject } from "vitest/node";
import { startRedisServer, type TestRedisServer } from "./redis-server.ts";

/**
 * Starts one redis-server for the whole test run (or uses `REDIS_URL`) and hands its URL to the
 * suites: `inject("redisUrl")` in tests, or `process.env.REDIS_URL` in code that reads the env.
 */
declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let server: TestRedisServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startRedisServer();
  project.provide("redisUrl", server.url);
  process.env.REDIS_URL = server.url;
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
}
