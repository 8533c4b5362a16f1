import { Room, definePlugins, type Client } from "@colyseus/core";
import { z } from "zod";
import { ProgressionPlugin, createRateCaps, guardedMessage, type ProgressionHost } from "colyseus-progression/colyseus";

// Caps shared by the room's handlers. Buckets are per client (kept in a WeakMap: gone with the client).
const caps = createRateCaps({
  perType: { kill: { perSecond: 20, burst: 40 } }, // each client: 20 kills a second, 40 at once
  total: { perSecond: 50, burst: 100 }, // and 50 messages a second across every type these caps guard
  disconnect: { afterLimited: 200, withinMs: 10_000 }, // refused 200 times within 10 s: disconnected (4029)
});

export function createCappedRoom(host: ProgressionHost) {
  return class CappedRoom extends Room {
    override plugins = definePlugins([new ProgressionPlugin(host)]);

    override messages = {
      kill: guardedMessage("kill", z.strictObject({ creature: z.enum(["goblin", "troll"]) }), (client, message) => {
        this.plugins.progression.record(client, "kill", { creature: message.creature });
      }, { rateCap: caps }),
      // A bucket of this type's own (and the default disconnect rule: 1000 refused within 10 s).
      emote: guardedMessage("emote", z.strictObject({ name: z.string().max(32) }), (client, message) => {
        this.broadcast("emote", { from: client.sessionId, name: message.name });
      }, { rateCap: { perSecond: 1, burst: 3 } }),
    };

    override onAuth(_client: Client, options: { playerId?: unknown }) {
      if (typeof options.playerId !== "string" || options.playerId === "") throw new Error("pass { playerId }");
      return { id: options.playerId };
    }
  };
}
