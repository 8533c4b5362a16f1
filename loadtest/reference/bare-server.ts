import { defineRoom, defineServer } from "@colyseus/core";
import { BareRoom, bareRoomReceived } from "./bare-room.ts";

/**
 * The reference server: the bare room under the name `bare`, set up like the demo server
 * (`rooms/demo-server.ts`: default transport, local presence), so the only difference the load test
 * measures is the plugin and what the arena does with each message. `PORT` (default 2567).
 *
 * When started with an IPC channel (by the load test runner), it answers `{ type: "received" }` with
 * the per-type message counts, so the runner can check that every message sent was received.
 */

const port = Number(process.env["PORT"] ?? 2567);

const server = defineServer({
  rooms: { bare: defineRoom(BareRoom) },
  greet: false,
});

await server.listen(port);
console.log(`bare reference server listening on ws://localhost:${port}`);

process.on("message", (message: unknown) => {
  if (typeof message === "object" && message !== null && (message as { type?: unknown }).type === "received") {
    process.send?.({ type: "received", received: { ...bareRoomReceived } });
  }
});
