import { Cluster, Redis } from "ioredis";
import { inject } from "vitest";
import { createMemoryBackend } from "../../src/backends/memory/memory-backend.ts";
import { createRedisBackend } from "../../src/backends/redis/create-redis-backend.ts";
import { deleteClusterKeysWithPrefix, deleteKeysWithPrefix, randomPrefix, testRedisUrl } from "./redis-prefix.ts";
import type { ProgressionBackend } from "../../src/backends/contract/progression-backend.ts";
import type { SubjectLoader } from "../../src/model/subject-state.ts";

/**
 * Every backend the conformance suites run against. Each fixture is isolated (its own prefix or
 * instance) and `cleanup` removes whatever it created. Backends must honour the `now` the engine
 * passes (tests drive time with a fake clock).
 */
export interface BackendFixture {
  readonly backend: ProgressionBackend;
  cleanup(): Promise<void>;
}

export interface BackendFactory {
  readonly name: string;
  create(options?: { loader?: SubjectLoader }): Promise<BackendFixture>;
}

export const memoryFactory: BackendFactory = {
  name: "memory",
  async create(options = {}) {
    const backend = createMemoryBackend(options);
    return { backend, cleanup: () => backend.close() };
  },
};

/** Redis on the run's redis-server (global-setup.ts), a random prefix per fixture, engine clock for holds. */
export const redisFactory: BackendFactory = {
  name: "redis",
  async create(options = {}) {
    const client = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    const prefix = randomPrefix("conf");
    const backend = createRedisBackend({ redis: client, prefix, useServerTime: false, ...options });
    return {
      backend,
      cleanup: async () => {
        await backend.close();
        await deleteKeysWithPrefix(client, prefix);
        client.disconnect();
      },
    };
  },
};

/**
 * The run's own 3-master Redis Cluster (global-setup.ts), a random prefix per fixture. Four shards, so
 * the subjects of one test often share a shard (several subjects in one script call) and as often not.
 */
export const redisClusterFactory: BackendFactory = {
  name: "redis-cluster",
  async create(options = {}) {
    const client = new Cluster(inject("redisClusterNodes"), { redisOptions: { maxRetriesPerRequest: 1 } });
    const prefix = randomPrefix("conf");
    const backend = createRedisBackend({ redis: client, prefix, useServerTime: false, clusterShards: 4, ...options });
    return {
      backend,
      cleanup: async () => {
        await backend.close();
        await deleteClusterKeysWithPrefix(client, prefix);
        client.disconnect();
      },
    };
  },
};

export const backendFactories: BackendFactory[] = [memoryFactory, redisFactory, redisClusterFactory];
