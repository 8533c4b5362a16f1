/**
 * A process that transfers gold between players of several shards of a Redis Cluster until it is killed:
 * cluster-saga-crash.test.ts kills it (SIGKILL) at a random moment, possibly between a saga's steps.
 * Env: CLUSTER_NODES (host:port,...), PREFIX, SUBJECTS (comma-separated). Prints "started <key>" before each
 * transfer and "done <key>" after it.
 */
import { connectRedisBackend } from "../../../src/backends/redis/create-redis-backend.ts";

const subjects = (process.env.SUBJECTS ?? "").split(",");
const backend = await connectRedisBackend({ clusterNodes: (process.env.CLUSTER_NODES ?? "").split(","), prefix: process.env.PREFIX ?? "", clusterShards: 8, useServerTime: false });
process.stdout.write("ready\n");
// Each process its own keys: a later one starts new transfers rather than replaying the last one's.
const run = process.pid;
for (let round = 0; ; round += 1) {
  const from = subjects[round % subjects.length] as string;
  const to = subjects[(round * 7 + 3) % subjects.length] as string;
  if (from === to) continue;
  const key = `loop-${run}-${round}`;
  process.stdout.write(`started ${key}\n`);
  await backend.transfer({ idempotencyKey: key, from, to, item: "gold", quantity: 1 + (round % 3), now: Date.now() }).catch((error: unknown) => process.stdout.write(`failed ${key} ${String(error)}\n`));
  process.stdout.write(`done ${key}\n`);
}
