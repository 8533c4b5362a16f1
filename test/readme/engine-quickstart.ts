import { createProgression } from "colyseus-progression";

// Embedded mode: in-memory store, in-process events. Pass `backend: createRedisBackend(...)` for Redis.
const progression = createProgression({
  definitions: [
    {
      code: "skaven_slayer",
      title: "skaven_slayer.title",
      description: "skaven_slayer.description",
      icon: "icons/skaven.png",
      trigger: "kill",
      rule: { type: "count", threshold: 100, where: { creature: "skaven_warrior" } },
      rewards: [{ item: "gold", quantity: 500 }],
    },
  ],
  catalogs: {
    defaultLocale: "en",
    locales: { en: { "skaven_slayer.title": "Skaven Slayer", "skaven_slayer.description": "Slay 100 skaven warriors" } },
  },
});

// 99 kills: progress, no unlock yet.
await progression.record({ type: "kill", subject: "player-1", amount: 99, tags: { creature: "skaven_warrior" } });
const [progress] = await progression.progress("player-1");
console.log(progress?.current, "/", progress?.target); // 99 / 100

// The 100th kill unlocks it: title, description, icon and animation, ready for the client.
const [unlock] = await progression.record({ type: "kill", subject: "player-1", tags: { creature: "skaven_warrior" } });
console.log(unlock?.title, unlock?.animation); // Skaven Slayer { kind: 'confetti' }

// Claiming grants the rewards into the player's inventory, once per idempotency key.
await progression.claim("player-1", "skaven_slayer", "claim-skaven-1");
console.log(await progression.ledger.balance("player-1", "gold")); // { subject: 'player-1', item: 'gold', free: 500, held: 0 }

await progression.close();
export { progress, unlock };
