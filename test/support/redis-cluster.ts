/**
 * A Redis Cluster of the test's own on loopback ports. The starter lives in loadtest/runner/redis-cluster.ts
 * so the load test (`--redis-cluster N`) starts the same one without importing from test/.
 */
export { startRedisCluster, type LocalRedisCluster as TestRedisCluster, type RedisClusterOptions } from "../../loadtest/runner/redis-cluster.ts";
