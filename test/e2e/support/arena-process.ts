import { createRouter, defineRoom, defineServer } from "@colyseus/core";
import { RedisPresence } from "@colyseus/redis-presence";
import { progressionAdminRoutes } from "../../../plugins/admin-routes.ts";
import { createProgressionHost } from "../../../plugins/progression-host.ts";
import { createArenaProgression } from "../../../rooms/arena/arena-progression.ts";
import { createArenaRoom } from "../../../rooms/arena/arena-room.ts";
import { createRedisBackend } from "../../../src/backends/redis/create-redis-backend.ts";

/**
 * A second server process for cross-process tests (run with `runScript`): the arena on the Redis
 * backend under REDIS_PREFIX, pushes to and from other processes through a RedisPresence on REDIS_URL,
 * and the admin routes (token ADMIN_TOKEN) with its host. Prints "arena process ready" once it listens.
 */
const { PORT, REDIS_URL, REDIS_PREFIX, ADMIN_TOKEN } = process.env;
if (PORT === undefined || REDIS_URL === undefined || REDIS_URL === "" || REDIS_PREFIX === undefined || ADMIN_TOKEN === undefined) {
  throw new Error("arena-process needs PORT, REDIS_URL, REDIS_PREFIX and ADMIN_TOKEN");
}

const presence = new RedisPresence(REDIS_URL);
const progression = createArenaProgression({
  backend: createRedisBackend({ url: REDIS_URL, prefix: REDIS_PREFIX }),
  onMissingTranslations: () => {},
});
const host = createProgressionHost(progression, { presence, flushIntervalMs: 10, progressIntervalMs: 0 });
const server = defineServer({
  rooms: { arena: defineRoom(createArenaRoom(host)) },
  routes: createRouter(progressionAdminRoutes(progression, { token: ADMIN_TOKEN, host })),
  greet: false,
});
host.install(server);
// Runs after the host has published its last pushes and left the topic.
server.onShutdown(() => presence.shutdown());
await server.listen(Number(PORT));
console.log("arena process ready");
