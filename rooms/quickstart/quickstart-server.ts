import { Room, defineRoom, defineServer, definePlugins, type Client } from "@colyseus/core";
import { z } from "zod";
import { createProgression } from "colyseus-progression";
import { ProgressionPlugin, createProgressionHost, guardedMessage } from "colyseus-progression/colyseus";

// Once per process: the engine, and the host that buffers, flushes and pushes for every room.
const progression = createProgression({ definitions: "rooms/arena/milestones.json", catalogs: "rooms/arena/locales" });
const host = createProgressionHost(progression);

class ArenaRoom extends Room {
  override plugins = definePlugins([new ProgressionPlugin(host)]);

  override messages = {
    // Clients never record progress: the room validates what they say, decides, then records.
    kill: guardedMessage("kill", z.strictObject({ creature: z.enum(["goblin", "skaven_warrior"]) }), (client, message) => {
      this.plugins.progression.record(client, "kill", { creature: message.creature });
    }),
  };

  // The plugin's subject is client.auth.id. (Verify a real token here in your game.)
  override onAuth(_client: Client, options: { playerId?: unknown }) {
    if (typeof options.playerId !== "string" || options.playerId === "") throw new Error("pass { playerId }");
    return { id: options.playerId };
  }
}

const server = defineServer({ rooms: { arena: defineRoom(ArenaRoom) } });
// On shutdown (SIGTERM, SIGINT): everything recorded is applied, then the engine closes.
host.install(server);
await server.listen(Number(process.env["PORT"] ?? 2567));
