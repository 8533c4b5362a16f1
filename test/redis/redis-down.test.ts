import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { freePort } from "../support/redis-server.ts";
import { T0, check, counter, planOf } from "./plan-builders.ts";

describe("redis backend: Redis unreachable", () => {
  it("fails with a retryable BACKEND_UNAVAILABLE naming the operation, never a raw client error", async () => {
    const connectionErrors: Error[] = [];
    const backend = createRedisBackend({
      url: `redis://127.0.0.1:${await freePort()}`,
      prefix: "down",
      useServerTime: false,
      onConnectionError: (error) => connectionErrors.push(error),
    });
    try {
      const plan = planOf(counter("kills001", "sum", [check("k1", 1)]));
      const error = await backend
        .apply({ batchId: "b", now: T0, plan, subjects: [{ subject: "p", catchUp: false, increments: [{ counter: "kills001", amount: 1, at: T0 }] }] })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "ProgressionError", code: ErrorCode.BackendUnavailable, message: expect.stringContaining("apply: Redis failed") });
      await expect(backend.acquire({ idempotencyKey: "k", subject: "p", item: "gold", quantity: 1, now: T0 })).rejects.toMatchObject({
        code: ErrorCode.BackendUnavailable,
        message: expect.stringContaining("acquire"),
      });
      // Reported once per outage, not once per reconnection attempt.
      expect(connectionErrors).toHaveLength(1);
      expect(connectionErrors[0]?.message).toContain("ECONNREFUSED");
    } finally {
      await backend.close();
    }
  });
});
