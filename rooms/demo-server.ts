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
 * - Several demo processes on one Redis (same REDIS_URL and REDIS_PREFIX): give each PUBLIC_ADDRESS (the
 *   host:port its clients reach it at, e.g. localhost:2568). They then share matchmaking (RedisDriver: a
 *   join through any process finds a room on any other, and the client connects to that room's process)
 *   besides the presence that carries pushes between them (docs/deployment.md).
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
const redisUrl = process.env["REDIS_URL"];
const databaseUrl = process.env["DATABASE_URL"];
const adminToken = process.env["ADMIN_TOKEN"];
// REDIS_PREFIX keeps several demo servers (or load-test runs) on one Redis apart: keys and queues.
const prefix = process.env["REDIS_PREFIX"] ?? "progression-demo";
const redisMode = redisUrl !== undefined && redisUrl !== "";
const holdTtlMs = positiveIntegerEnv("HOLD_TTL_MS");
// Where clients reach this process: with it, processes on one Redis share matchmaking (RedisDriver).
const publicAddress = process.env["PUBLIC_ADDRESS"] || undefined;

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

function positiveIntegerEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) failStart(`${name} must be a whole number of milliseconds above 0, got ${JSON.stringify(text)}`);
  return value;
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
    url: redisUrl,
    prefix,
    source: "REDIS_URL",
    // A Redis without AOF is refused (acknowledged inventory could be lost); REDIS_ALLOW_VOLATILE=1 accepts that.
    allowVolatileRedis: process.env["REDIS_ALLOW_VOLATILE"] === "1",
    loader: (subject) => durability?.loader(subject) ?? Promise.resolve(null),
  }).catch(failStart);
  // BullMQ jobs (events, hold expiry, snapshots) and, with DATABASE_URL, PostgreSQL.
  durability = createDurability({
    redis: redisUrl,
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

const server = defineServer({
  rooms: { arena: defineRoom(createArenaRoom(host, holdTtlMs === undefined ? {} : { holdTtlMs })) },
  // Redis mode: pushes also reach players connected to other demo processes on the same Redis. Each
  // process creates the rooms its own clients ask for; with PUBLIC_ADDRESS, the processes share one
  // room list (RedisDriver), so a join may land in a room of another process (its client goes there).
  ...(redisMode ? { presence: new RedisPresence(presenceOptions(redisUrl)), selectProcessIdToCreateRoom: async () => matchMaker.processId } : {}),
  ...(redisMode && publicAddress !== undefined ? { driver: new RedisDriver(redisUrl), publicAddress } : {}),
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
      `REDIS MODE: progress and inventory in Redis at ${redisUrl ?? ""} (prefix ${prefix}), jobs on BullMQ.`,
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
