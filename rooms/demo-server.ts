/**
 * The demo server (`npm start`): the arena room with colyseus-progression.
 *
 * - Embedded mode (default): in-memory store, ledger and jobs. Nothing survives a restart.
 * - Redis mode: set REDIS_URL (e.g. redis://127.0.0.1:6379) to keep progress in Redis, under the key
 *   prefix REDIS_PREFIX (default "progression-demo"). Domain events, hold expiry and snapshots then run
 *   as BullMQ jobs; with DATABASE_URL too, dirty players are snapshotted into PostgreSQL and restored
 *   from it when Redis has lost them (docs/durability.md). A Redis without AOF is refused unless
 *   REDIS_ALLOW_VOLATILE=1 (what it can lose: docs/durability.md). A Redis or PostgreSQL that does not answer
 *   within 5 s stops the start with one line naming it.
 * - PORT (default 2567) sets the port; the monitor is at /monitor, Prometheus metrics at /metrics, the
 *   health check at /health (200 or 503).
 * - ADMIN_TOKEN (16+ characters) mounts the admin routes and the admin tab under /progression/admin (Bearer token).
 * - Redis Cluster mode: set REDIS_CLUSTER_NODES instead of REDIS_URL, some of the Cluster's nodes as
 *   host:port, comma-separated (e.g. 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002; the clients discover
 *   the rest). The backend, the BullMQ jobs (prefix "{bull}"), RedisPresence and RedisDriver all use the
 *   Cluster; REDIS_CLUSTER_SHARDS sets the backend's clusterShards (default 256). Not with REDIS_URL.
 * - Several demo processes on one Redis or Cluster (same REDIS_URL or REDIS_CLUSTER_NODES, same
 *   REDIS_PREFIX): give each PUBLIC_ADDRESS (the host:port its clients reach it at, e.g. localhost:2568).
 *   They then share matchmaking (RedisDriver: a join through any process finds a room on any other, and
 *   the client connects to that room's process) besides the presence that carries pushes between them
 *   (docs/deployment.md). ROOM_PLACEMENT picks where a new room goes: "local" (default: the process that
 *   got the request) or "round-robin" (the live processes in turn, counted in presence). ARENA_MAX_CLIENTS
 *   caps an arena room (default: no cap), so players spread over several rooms (and processes).
 * - The playable demo page is at / (rooms/demo-page/, bundled with esbuild at start), the arena's icons
 *   and animations at /assets/<folder>/<file>. HOLD_TTL_MS sets how long a shop purchase holds the gold.
 */
import { createEndpoint, createRouter, defineRoom, defineServer, matchMaker } from "@colyseus/core";
import { monitor } from "@colyseus/monitor";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import { progressionAdminRoutes } from "../plugins/admin-routes.ts";
import { createProgressionHost } from "../plugins/progression-host.ts";
import { connectRedisBackend } from "../src/backends/redis/create-redis-backend.ts";
import type { RedisBackend } from "../src/backends/redis/redis-backend-options.ts";
import { createDurability, type Durability } from "../src/durability/create-durability.ts";
import { isProgressionError } from "../src/errors/progression-error.ts";
import { checkHealth } from "../src/metrics/health.ts";
import { createProgressionMetrics } from "../src/metrics/progression-metrics.ts";
import { consoleLogger } from "../src/logging/logger.ts";
import { createArenaProgression } from "./arena/arena-progression.ts";
import { createArenaRoom } from "./arena/arena-room.ts";
import { mountDemoPage } from "./demo-page/demo-page-routes.ts";

const port = Number(process.env["PORT"] ?? 2567);
const redisUrl = process.env["REDIS_URL"] || undefined;
const clusterNodes = clusterNodesEnv("REDIS_CLUSTER_NODES");
const databaseUrl = process.env["DATABASE_URL"];
const adminToken = process.env["ADMIN_TOKEN"];
// REDIS_PREFIX keeps several demo servers (or load-test runs) on one Redis apart: keys and queues.
const prefix = process.env["REDIS_PREFIX"] ?? "progression-demo";
if (redisUrl !== undefined && clusterNodes !== undefined) failStart("set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both");
const redisMode = redisUrl !== undefined || clusterNodes !== undefined;
const holdTtlMs = positiveIntegerEnv("HOLD_TTL_MS", "milliseconds");
const clusterShards = positiveIntegerEnv("REDIS_CLUSTER_SHARDS", "shards");
const arenaMaxClients = positiveIntegerEnv("ARENA_MAX_CLIENTS", "clients");
// Where clients reach this process: with it, processes on one Redis share matchmaking (RedisDriver).
const publicAddress = process.env["PUBLIC_ADDRESS"] || undefined;
const roomPlacement = process.env["ROOM_PLACEMENT"] || "local";
if (roomPlacement !== "local" && roomPlacement !== "round-robin") failStart(`ROOM_PLACEMENT must be "local" or "round-robin", got ${JSON.stringify(roomPlacement)}`);

/**
 * RedisPresence's connection, auto-pipelined: a turn's pushes to players held on other processes leave as
 * one write instead of one per player (docs/deployment.md, "Push routing"). Options, not a client:
 * RedisPresence bundles its own ioredis.
 */
function presenceOptions(url: string): ConstructorParameters<typeof RedisPresence>[0] {
  const { hostname, port, username, password, pathname } = new URL(url);
  const db = Number(pathname.slice(1) || 0);
  return {
    host: hostname,
    port: Number(port || 6379),
    ...(username === "" ? {} : { username: decodeURIComponent(username) }),
    ...(password === "" ? {} : { password: decodeURIComponent(password) }),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    enableAutoPipelining: true,
  };
}

/**
 * Presence on the same Redis or Cluster. On a Cluster, RedisPresence takes the node list and Cluster
 * options (its own ioredis Cluster, auto-pipelined per node); its pub/sub is classic SUBSCRIBE/PUBLISH,
 * which a Cluster forwards to every node (docs/deployment.md, "Pub/sub on a Cluster").
 */
function createPresence(): RedisPresence {
  if (clusterNodes !== undefined) return new RedisPresence(clusterNodes, { enableAutoPipelining: true });
  return new RedisPresence(presenceOptions(redisUrl as string));
}

/**
 * New rooms on the live processes in turn: a counter in presence picks the next one. Colyseus' default
 * (the process with the fewest rooms) reads room counts each process publishes at most once a second, so
 * a burst of joins would put every new room on the same process.
 */
function roundRobinPlacement(on: RedisPresence): () => Promise<string> {
  return async () => {
    const processes = (await matchMaker.stats.fetchAll()).map((stat) => stat.processId).sort();
    if (processes.length === 0) return matchMaker.processId;
    const turn = await on.incr(`${prefix}:room-placement`);
    return processes[turn % processes.length] ?? matchMaker.processId;
  };
}

/** The arena with a seat cap: full rooms lock, and the next join gets a new room (ARENA_MAX_CLIENTS). */
function cappedRoom(Base: ReturnType<typeof createArenaRoom>, maxClients: number): ReturnType<typeof createArenaRoom> {
  return class extends Base {
    override maxClients = maxClients;
  };
}

function positiveIntegerEnv(name: string, unit: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) failStart(`${name} must be a whole number of ${unit} above 0, got ${JSON.stringify(text)}`);
  return value;
}

/** REDIS_CLUSTER_NODES: "host:port,host:port,..." (some nodes of the Cluster; the clients find the rest). */
function clusterNodesEnv(name: string): { host: string; port: number }[] | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === "") return undefined;
  return text.split(",").map((entry) => {
    const match = /^([^\s:,]+):(\d{1,5})$/.exec(entry.trim());
    const nodePort = Number(match?.[2]);
    if (match?.[1] === undefined || nodePort < 1 || nodePort > 65_535) {
      failStart(`${name} must list the Cluster's nodes as host:port, comma-separated (e.g. 127.0.0.1:7000,127.0.0.1:7001), got ${JSON.stringify(text)}`);
    }
    return { host: match[1], port: nodePort };
  });
}

/** A dependency that is not there at start: one line, naming it, and a non-zero exit. */
function failStart(error: unknown): never {
  const line = typeof error === "string" ? error : isProgressionError(error) ? error.message : `demo server failed to start: ${String(error)}`;
  consoleLogger.error(line);
  process.exit(1);
}

const metrics = createProgressionMetrics();
let backend: RedisBackend | undefined;
let durability: Durability | undefined;
if (redisMode) {
  // Redis first: nothing else connects to it before it answers. The restore hook is durability's, made next.
  backend = await connectRedisBackend({
    ...(clusterNodes === undefined ? { url: redisUrl, source: "REDIS_URL" } : { clusterNodes, source: "REDIS_CLUSTER_NODES", ...(clusterShards === undefined ? {} : { clusterShards }) }),
    prefix,
    // A Redis without AOF is refused (acknowledged inventory could be lost); REDIS_ALLOW_VOLATILE=1 accepts that.
    allowVolatileRedis: process.env["REDIS_ALLOW_VOLATILE"] === "1",
    loader: (subject) => durability?.loader(subject) ?? Promise.resolve(null),
  }).catch(failStart);
  // BullMQ jobs (events, hold expiry, snapshots) and, with DATABASE_URL, PostgreSQL.
  durability = createDurability({
    // On a Cluster, durability opens its own Cluster clients and the BullMQ prefix defaults to "{bull}" (one slot per queue).
    redis: clusterNodes === undefined ? (redisUrl as string) : { cluster: clusterNodes },
    queuePrefix: prefix.replace(/[^A-Za-z0-9_-]/g, "-"),
    ...(databaseUrl === undefined || databaseUrl === "" ? {} : { databaseUrl, databaseUrlSource: "DATABASE_URL" }),
  });
}
const progression = createArenaProgression({
  instruments: metrics.instruments,
  ...(backend === undefined || durability === undefined ? {} : { backend, events: durability.bus, holdExpiry: durability.holdExpiry }),
});
await durability?.start(progression).catch(async (error: unknown) => {
  await progression.close().catch(() => undefined);
  failStart(error);
}); // progression.close() then closes durability first

const host = createProgressionHost(progression);
metrics.watch({
  stats: () => host.stats,
  ...(durability === undefined ? {} : { queues: () => durability.jobCounts(), historyArchiveLag: () => durability.historyArchiveLag() }),
});

const ArenaRoom = createArenaRoom(host, holdTtlMs === undefined ? {} : { holdTtlMs });
const sharedMatchmaking = redisMode && publicAddress !== undefined;
const presence = redisMode ? createPresence() : undefined;
const server = defineServer({
  rooms: { arena: defineRoom(arenaMaxClients === undefined ? ArenaRoom : cappedRoom(ArenaRoom, arenaMaxClients)) },
  // Redis mode: pushes also reach players connected to other demo processes on the same Redis. Each
  // process creates the rooms its own clients ask for; with PUBLIC_ADDRESS, the processes share one
  // room list (RedisDriver), so a join may land in a room of another process (its client goes there),
  // and ROOM_PLACEMENT=round-robin creates new rooms on the processes in turn.
  ...(presence === undefined ? {} : { presence, selectProcessIdToCreateRoom: sharedMatchmaking && roomPlacement === "round-robin" ? roundRobinPlacement(presence) : async () => matchMaker.processId }),
  ...(sharedMatchmaking ? { driver: clusterNodes === undefined ? new RedisDriver(redisUrl) : new RedisDriver(clusterNodes), publicAddress } : {}),
  routes: createRouter({
    ...monitor(),
    metrics: createEndpoint("/metrics", { method: "GET" }, async () => new Response(await metrics.text(), { headers: { "content-type": metrics.contentType } })),
    health: createEndpoint("/health", { method: "GET" }, async () => {
      const report = await checkHealth({ backend: progression.backend, ...(durability === undefined ? {} : { durability }), stats: () => host.stats });
      return new Response(JSON.stringify(report), { status: report.ok ? 200 : 503, headers: { "content-type": "application/json" } });
    }),
    // Admin routes and the admin tab, only with a token: ADMIN_TOKEN=<16+ chars>.
    ...(adminToken === undefined || adminToken === "" ? {} : progressionAdminRoutes(progression, { token: adminToken, host })),
  }),
  // The demo page at /, its script, the arena's icons and animations under /assets/.
  express: mountDemoPage,
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

const banner = !redisMode
  ? ["EMBEDDED MODE: progress and inventory live in this process's memory only.", "Everything is lost on restart. Set REDIS_URL to use the Redis backend."]
  : [
      clusterNodes === undefined
        ? `REDIS MODE: progress and inventory in Redis at ${redisUrl ?? ""} (prefix ${prefix}), jobs on BullMQ.`
        : `REDIS CLUSTER MODE: progress and inventory in the Redis Cluster at ${clusterNodes.map((node) => `${node.host}:${node.port}`).join(",")} (prefix ${prefix}), jobs on BullMQ ({bull}).`,
      durability?.store === undefined
        ? "No DATABASE_URL: Redis is the only copy (set DATABASE_URL for PostgreSQL snapshots)."
        : "PostgreSQL snapshots on (DATABASE_URL).",
    ];
const rule = "=".repeat(Math.max(...banner.map((line) => line.length)));
console.log([rule, ...banner, rule].join("\n"));
console.log(`[demo] demo page: http://localhost:${port}/`);
if (adminToken !== undefined && adminToken !== "") {
  console.log(`[demo] admin tab: http://localhost:${port}/progression/admin (JSON routes under it take Authorization: Bearer ADMIN_TOKEN)`);
} else {
  console.log("[demo] admin tab off: set ADMIN_TOKEN=<16+ characters> to serve it at /progression/admin");
}
console.log(`[demo] arena room ready at ws://localhost:${port} (monitor /monitor, metrics /metrics, health /health)`);
