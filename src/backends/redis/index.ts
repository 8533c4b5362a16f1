/** `colyseus-progression/redis`: the Redis backend (every mutation one atomic Lua script). Loads ioredis. */
export { connectRedisBackend, createRedisBackend } from "./create-redis-backend.ts";
export { REDIS_BACKEND_DEFAULTS, type RedisBackend, type RedisBackendOptions } from "./redis-backend-options.ts";
