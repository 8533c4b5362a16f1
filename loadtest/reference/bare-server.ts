import { defineRoom, defineServer, matchMaker } from "@colyseus/core";
import { RedisPresence } from "@colyseus/redis-presence";
import { BareRoom, bareRoomReceived } from "./bare-room.ts";

/**
 * The reference server: the bare room under the name `bare`, set up like the demo server
 * (`rooms/demo-server.ts`: default transport; in Redis mode, `REDIS_URL` set, Redis presence and
 * rooms created in the asking process), so the only difference the load test measures is the
 * plugin and what the arena does with each message. `PORT` (default 2567).
 *
 * When started with an IPC channel (by the load test runner), it answers `{ type: "received" }` with
 * the per-type message counts, so the runner can check that every message sent was received.
 */

const port = Number(process.env["PORT"] ?? 2567);
const redisUrl = process.env["REDIS_URL"];

const server = defineServer({
  rooms: { bare: defineRoom(BareRoom) },
  ...(redisUrl === undefined || redisUrl === ""
    ? {}
    : { presence: new RedisPresence(redisUrl), selectProcessIdToCreateRoom: async () => matchMaker.processId }),
  greet: false,
});

await server.listen(port);
console.log(`bare reference server listening on ws://localhost:${port} (${redisUrl ? "Redis" : "local"} presence)`);

process.on("message", (message: unknown) => {
  if (typeof message === "object" && message !== null && (message as { type?: unknown }).type === "received") {
    process.send?.({ type: "received", received: { ...bareRoomReceived } });
  }
});
