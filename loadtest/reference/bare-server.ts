import { defineRoom, defineServer, type ServerOptions } from "@colyseus/core";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { BareRoom, bareRoomReceived } from "./bare-room.ts";

/**
 * The reference server: the bare room under the name `bare`, with the same transport and, when
 * `REDIS_URL` is set, the same Redis presence and driver as the demo server, so the only difference
 * the load test measures is the plugin. `PORT` (default 2567).
 *
 * When started with an IPC channel (by the load test runner), it answers `{ type: "received" }` with
 * the per-type message counts, so the runner can check that every message sent was received.
 */

const port = Number(process.env["PORT"] ?? 2567);
const redisUrl = process.env["REDIS_URL"];

const redisOptions: Partial<ServerOptions> =
  redisUrl === undefined ? {} : { presence: new RedisPresence(redisUrl), driver: new RedisDriver(redisUrl) };

const server = defineServer({
  rooms: { bare: defineRoom(BareRoom) },
  transport: new WebSocketTransport(),
  greet: false,
  ...redisOptions,
});

await server.listen(port, "127.0.0.1");
console.log(`bare reference server listening on ws://127.0.0.1:${port} (${redisUrl === undefined ? "local" : "redis"} presence)`);

process.on("message", (message: unknown) => {
  if (typeof message === "object" && message !== null && (message as { type?: unknown }).type === "received") {
    process.send?.({ type: "received", received: { ...bareRoomReceived } });
  }
});
