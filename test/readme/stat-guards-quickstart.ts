import { createProgression, isProgressionError } from "colyseus-progression";

const slayer = { code: "slayer", title: "Slayer", description: "Kill 1,000 things", icon: "icons/slayer.png", trigger: "kill", rule: { type: "count" as const, threshold: 1000 } };
const progression = createProgression({
  definitions: [slayer],
  // One kill event carries at most 10 kills, and a player gets at most 600 kills a minute (every room, every process).
  statGuards: { kill: { maxAmount: 10, maxPerWindow: { amount: 600, windowMs: 60_000 } } },
});
progression.events.on("progression.suspicious", "anti-cheat", ({ payload }) => {
  console.log(payload.subject, payload.guard, payload.value, "over", payload.limit); // player-1 maxAmount 50 over 10, then ...
});

// maxAmount: refused at once, nothing kept.
await progression.record({ type: "kill", subject: "player-1", amount: 50 }).catch((error: unknown) => {
  console.log(isProgressionError(error) ? error.code : error); // GUARD_EXCEEDED
});

// maxPerWindow: a flush that would take the player's minute past 600 applies none of its kills.
const kills = (count: number) => Array.from({ length: count }, () => ({ type: "kill", subject: "player-1", amount: 10 }));
await progression.recordBatch(kills(61)); // ... player-1 maxPerWindow 610 over 600
await progression.recordBatch(kills(60));
const [slayerProgress] = await progression.progress("player-1");
console.log(slayerProgress?.current); // 600

await progression.close();
export { slayerProgress };
