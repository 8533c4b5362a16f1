/** `colyseus-progression/redis`: the Redis backend (every mutation one atomic Lua script). Loads ioredis. */
export { createRedisBackend } from "./create-redis-backend.ts";
export { REDIS_BACKEND_DEFAULTS, type RedisBackendOptions } from "./redis-backend-options.ts";
