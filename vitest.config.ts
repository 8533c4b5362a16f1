import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Suites share one redis-server and one PostgreSQL; isolation is by key prefix and schema.
    pool: "forks",
    // One redis-server for the run (its own binary on a free port, or REDIS_URL): inject("redisUrl").
    globalSetup: ["test/support/global-setup.ts"],
  },
});
