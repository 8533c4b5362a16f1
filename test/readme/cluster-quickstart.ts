import { createProgression } from "colyseus-progression";
import { createDurability } from "colyseus-progression/durability";
import { connectRedisBackend } from "colyseus-progression/redis";

// REDIS_CLUSTER_NODES=10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000 (a few nodes: the client finds the rest)
const nodes = (process.env.REDIS_CLUSTER_NODES ?? "").split(",");
// With replicas, add `replicaAcks: 1`: a write is acknowledged once a replica has it, so a master that
// dies loses nothing acknowledged (docs/durability.md).
const backend = await connectRedisBackend({ clusterNodes: nodes, prefix: "my-game" });
const durability = createDurability({ redis: { cluster: nodes }, databaseUrl: process.env.DATABASE_URL }); // BullMQ prefix "{bull}"
const progression = createProgression({
  definitions: [{ code: "first_blood", title: "First Blood", description: "Win a fight", icon: "icons/first-blood.png", trigger: "kill", rule: { type: "count", threshold: 1 } }],
  backend,
  events: durability.bus,
  holdExpiry: durability.holdExpiry,
});
await durability.start(progression);

const [unlock] = await progression.record({ type: "kill", subject: "alice" });
console.log(unlock?.code); // first_blood
await progression.ledger.acquire({ subject: "alice", item: "gold", quantity: 100, idempotencyKey: "welcome-alice" });
// alice and bob live on different shards: the transfer runs in steps through an escrow, same call, same receipt.
const trade = await progression.ledger.transfer({ from: "alice", to: "bob", item: "gold", quantity: 30, idempotencyKey: "trade-1", allowNewReceiver: true });
console.log(trade.balances); // alice 70 free, bob 30 free
await progression.close(); // closes durability, then the backend
