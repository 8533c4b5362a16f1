// A strict TypeScript consumer (NodeNext, exactOptionalPropertyTypes, no skipLibCheck) of every entry point.
import { Room, definePlugins, type Client } from "@colyseus/core";
import { ErrorCode, createMemoryBackend, createProgression, type Progression, type UnlockPayload } from "colyseus-progression";
import { createRedisBackend, type RedisBackendOptions } from "colyseus-progression/redis";
import { createDurability, type Durability } from "colyseus-progression/durability";
import { checkHealth, createProgressionMetrics } from "colyseus-progression/metrics";
import { ProgressionPlugin, createProgressionHost, type ProgressionHostOptions, type UnlockedMessage } from "colyseus-progression/colyseus";
import { attachProgression, createUnlockPresenter, type InventoryMessage, type ProgressionClient, type ProgressionRoom, type ProgressionState } from "colyseus-progression/client";

const options: RedisBackendOptions = { url: "redis://127.0.0.1:6379", prefix: "game" };
export const lazyBackend = (): ReturnType<typeof createRedisBackend> => createRedisBackend(options);
export const lazyDurability = (): Durability => createDurability({ redis: "redis://127.0.0.1:6379" });
const metrics = createProgressionMetrics();
export const progression: Progression = createProgression({
  definitions: [{ code: "a", title: "A", description: "a", icon: "a.png", trigger: "kill", rule: { type: "count", threshold: 1 } }],
  backend: createMemoryBackend(),
  instruments: metrics.instruments,
});
const hostOptions: ProgressionHostOptions = { flushIntervalMs: 25 };
export const host = createProgressionHost(progression, hostOptions);
export const code: string = ErrorCode.InvalidInput;
export const health = checkHealth({ backend: progression.backend, stats: () => host.stats });

export class GameRoom extends Room {
  override plugins = definePlugins([new ProgressionPlugin(host)]);
  override messages = {
    kill: (client: Client) => this.plugins.progression.record(client, "kill"),
  };
}

export async function firstUnlock(): Promise<UnlockPayload | undefined> {
  const [unlock] = await progression.record({ type: "kill", subject: "p1" });
  return unlock;
}
export const shown = (message: UnlockedMessage): string => `${message.title}: ${message.description}`;

// The player's side: the client kit with the unlock presenter (browser code, type checked here; it touches
// the DOM only when called). The room is an @colyseus/sdk Room (client.mjs runs it with a real one); its
// structural type keeps this check off the SDK's own declarations, which do not pass without skipLibCheck.
export async function playerSide(room: ProgressionRoom): Promise<ProgressionClient> {
  const progression = attachProgression(room);
  const presenter = createUnlockPresenter({ assetBase: "/assets/", durationMs: 4000, animations: { banner: ({ toast }) => toast.classList.add("banner") } });
  presenter.attach(progression);
  progression.on("inventory", ({ balances }: InventoryMessage) => balances.forEach((balance) => console.log(balance.item, balance.free)));
  const state: ProgressionState = await progression.ready;
  const slayer = state.milestones.find((milestone) => milestone.code === "slayer_10");
  if (slayer?.status === "completed") await progression.claim(slayer.code, { requestId: "claim-slayer-10" });
  return progression;
}
