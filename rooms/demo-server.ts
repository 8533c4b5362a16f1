/**
 * The demo server (`npm start`): the arena room with colyseus-progression.
 *
 * - Embedded mode (default): in-memory store, ledger and jobs. Nothing survives a restart.
 * - Redis mode: set REDIS_URL (e.g. redis://127.0.0.1:6379) to keep progress in Redis, under the key
 *   prefix REDIS_PREFIX (default "progression-demo"). Domain events, hold expiry and snapshots then run
 *   as BullMQ jobs; with DATABASE_URL too, dirty players are snapshotted into PostgreSQL and restored
 *   from it when Redis has lost them (docs/durability.md).
 * - PORT (default 2567) sets the port; the monitor is at http://localhost:PORT/monitor.
 * - ADMIN_TOKEN (16+ characters) mounts the admin routes under /progression/admin (Bearer token).
 */
import { createRouter, defineRoom, defineServer, matchMaker } from "@colyseus/core";
import { monitor } from "@colyseus/monitor";
import { RedisPresence } from "@colyseus/redis-presence";
import { progressionAdminRoutes } from "../plugins/admin-routes.ts";
import { createProgressionHost } from "../plugins/progression-host.ts";
import { createDurability, type Durability } from "../src/durability/create-durability.ts";
import { createRedisBackend } from "../src/backends/redis/create-redis-backend.ts";
import { createArenaProgression } from "./arena/arena-progression.ts";
import { createArenaRoom } from "./arena/arena-room.ts";

const port = Number(process.env["PORT"] ?? 2567);
const redisUrl = process.env["REDIS_URL"];
const databaseUrl = process.env["DATABASE_URL"];
const adminToken = process.env["ADMIN_TOKEN"];
// REDIS_PREFIX keeps several demo servers (or load-test runs) on one Redis apart: keys and queues.
const prefix = process.env["REDIS_PREFIX"] ?? "progression-demo";

const redisMode = redisUrl !== undefined && redisUrl !== "";
// Redis mode: BullMQ jobs (events, hold expiry, snapshots) and, with DATABASE_URL, PostgreSQL.
const durability: Durability | undefined = redisMode
  ? createDurability({
      redis: redisUrl,
      queuePrefix: prefix.replace(/[^A-Za-z0-9_-]/g, "-"),
      ...(databaseUrl === undefined || databaseUrl === "" ? {} : { databaseUrl }),
    })
  : undefined;
const backend = redisMode ? createRedisBackend({ url: redisUrl, prefix, ...(durability ? { loader: durability.loader } : {}) }) : undefined;
const progression = createArenaProgression(
  backend === undefined || durability === undefined ? {} : { backend, events: durability.bus, holdExpiry: durability.holdExpiry },
);
await durability?.start(progression); // progression.close() then closes durability first

const host = createProgressionHost(progression);

const server = defineServer({
  rooms: { arena: defineRoom(createArenaRoom(host)) },
  // Redis mode: pushes also reach players connected to other demo processes on the same Redis. Each
  // process hosts the rooms its own clients ask for (no shared matchmaking driver in the demo).
  ...(backend === undefined
    ? {}
    : { presence: new RedisPresence(redisUrl), selectProcessIdToCreateRoom: async () => matchMaker.processId }),
  routes: createRouter({
    ...monitor(),
    // Admin preview/progress routes, only with a token: ADMIN_TOKEN=<16+ chars>.
    ...(adminToken === undefined || adminToken === "" ? {} : progressionAdminRoutes(progression, { token: adminToken })),
  }),
  greet: false,
});

// SIGTERM/SIGINT: rooms flush as they are disposed, the host applies what is left, this callback runs,
// then the engine closes (durability's final snapshot first, then the backend).
host.install(server);
server.onShutdown(() => {
  const { appliedEvents, pendingEvents, appliedBatches, maxApplyMs, maxFlushLagMs } = host.stats;
  console.log(
    `[demo] shutdown: applied=${appliedEvents} pending=${pendingEvents} batches=${appliedBatches} ` +
      `maxApplyMs=${maxApplyMs.toFixed(1)} maxFlushLagMs=${maxFlushLagMs.toFixed(1)}`,
  );
});

await server.listen(port);

const banner =
  backend === undefined
    ? [
        "EMBEDDED MODE: progress and inventory live in this process's memory only.",
        "Everything is lost on restart. Set REDIS_URL to use the Redis backend.",
      ]
    : [
        `REDIS MODE: progress and inventory in Redis at ${redisUrl ?? ""} (prefix ${prefix}), jobs on BullMQ.`,
        durability?.store === undefined
          ? "No DATABASE_URL: Redis is the only copy (set DATABASE_URL for PostgreSQL snapshots)."
          : "PostgreSQL snapshots on (DATABASE_URL).",
      ];
const rule = "=".repeat(Math.max(...banner.map((line) => line.length)));
console.log([rule, ...banner, rule].join("\n"));
if (adminToken !== undefined && adminToken !== "") {
  console.log(`[demo] admin routes: http://localhost:${port}/progression/admin/{milestones,preview,progress} (Bearer ADMIN_TOKEN)`);
}
console.log(`[demo] arena room ready at ws://localhost:${port} (monitor: http://localhost:${port}/monitor)`);
