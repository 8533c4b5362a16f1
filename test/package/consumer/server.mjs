// A game server in another project, in plain JavaScript: every Node entry point of the installed package.
import { Room, defineRoom, defineServer, definePlugins } from "@colyseus/core";
import { createProgression, isProgressionError } from "colyseus-progression";
import { connectRedisBackend } from "colyseus-progression/redis";
import { createDurability } from "colyseus-progression/durability";
import { createProgressionMetrics } from "colyseus-progression/metrics";
import { ProgressionPlugin, createProgressionHost } from "colyseus-progression/colyseus";

const redisUrl = process.env.REDIS_URL;
const prefix = process.env.REDIS_PREFIX;
const metrics = createProgressionMetrics();
const backend = await connectRedisBackend({ url: redisUrl, prefix, source: "REDIS_URL" });
const durability = createDurability({ redis: redisUrl, queuePrefix: prefix.replace(/[^A-Za-z0-9_-]/g, "-") });
const progression = createProgression({
  definitions: [
    { code: "first_blood", title: "First Blood", description: "Win a fight", icon: "first_blood.png", trigger: "kill", rule: { type: "count", threshold: 1 } },
  ],
  backend,
  events: durability.bus,
  holdExpiry: durability.holdExpiry,
  instruments: metrics.instruments,
});
await durability.start(progression);
const host = createProgressionHost(progression);
metrics.watch({ stats: () => host.stats, queues: () => durability.jobCounts() });

class ArenaRoom extends Room {
  plugins = definePlugins([new ProgressionPlugin(host)]);
  messages = {
    kill: (client) => this.plugins.progression.record(client, "kill"),
  };
  onAuth(_client, options) {
    return { id: String(options.playerId) };
  }
}

const server = defineServer({ rooms: { arena: defineRoom(ArenaRoom) }, greet: false });
host.install(server);
server.onShutdown(async () => {
  const text = await metrics.text();
  console.log(`metrics: ${text.split("\n").filter((line) => line.startsWith("progression_events_applied_total")).join(" ")}`);
});
try {
  await server.listen(Number(process.env.PORT));
} catch (error) {
  console.log(isProgressionError(error) ? error.message : String(error));
  process.exit(1);
}
console.log("server ready");
