import { createProgression } from "colyseus-progression";

const milestone = (code: string, trigger: string, threshold: number, extra: object = {}) => ({
  code, title: code, description: code, icon: `icons/${code}.png`, trigger, rule: { type: "count" as const, threshold }, ...extra,
});
const progression = createProgression({
  definitions: [
    // A series: shown as "Tier 1 of 2, next: 100".
    milestone("slayer_1", "kill", 10, { series: { id: "slayer", order: 1 } }),
    milestone("slayer_2", "kill", 100, { series: { id: "slayer", order: 2 } }),
    // A precondition: champion counts kills from the start, and is awarded once the boss is down.
    milestone("boss_slain", "boss_kill", 1),
    milestone("champion", "kill", 50, { requires: ["boss_slain"] }),
    // A season: only kills inside it count; after it closes nothing new is awarded.
    milestone("winter_hunt", "kill", 20, { availableFrom: "2026-12-01T00:00:00Z", availableUntil: "2027-03-01T00:00:00Z" }),
  ],
  clock: () => Date.parse("2026-12-24T12:00:00Z"),
});

const first = await progression.record({ type: "kill", subject: "player-1", amount: 60 });
console.log(first.map((unlock) => unlock.code)); // [ 'slayer_1', 'winter_hunt' ]: champion waits for the boss
const champion = (await progression.progress("player-1")).find((m) => m.code === "champion");
console.log(champion?.status, champion?.current, champion?.requires); // in_progress 60 [ { code: 'boss_slain', title: 'boss_slain', awarded: false } ]

// The boss kill lands the precondition, and champion (already met) in the same apply.
const second = await progression.record({ type: "boss_kill", subject: "player-1" });
console.log(second.map((unlock) => unlock.code)); // [ 'boss_slain', 'champion' ]

const slayer = (await progression.progress("player-1")).find((m) => m.code === "slayer_1");
console.log(slayer?.series); // { id: 'slayer', order: 1, of: 2, next: { masked: false, code: 'slayer_2', title: 'slayer_2', target: 100 } }

// Rarity: of the players active in the last 30 days, the share holding each award.
await progression.record({ type: "kill", subject: "player-2" });
const rarity = await progression.rarity();
console.log(rarity["champion"]); // { percent: 50, holders: 1, activePlayers: 2, windowDays: 30 }

await progression.close();
export { first, second, rarity };
