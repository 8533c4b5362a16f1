import { createProgression } from "colyseus-progression";

const firstBlood = { code: "first_blood", title: "First Blood", description: "Kill anything", icon: "icons/first.png", trigger: "kill", rule: { type: "count" as const, threshold: 1 } };
const progression = createProgression({ definitions: [firstBlood] });

// Two days of play. Every event goes into the player's history (per type, tags and UTC day).
const day1 = Date.UTC(2026, 10, 2, 18);
const kill = (at: number) => ({ type: "kill", subject: "player-1", tags: { creature: "troll" }, at });
await progression.recordBatch([kill(day1), kill(day1 + 60_000), kill(day1 + 120_000)]);
await progression.recordBatch([kill(day1 + 86_400_000), kill(day1 + 86_460_000)]);

// A release adds a milestone no counter ever measured. First, what would it do?
const trollHunter = { ...firstBlood, code: "troll_hunter", title: "Troll Hunter", rule: { type: "count" as const, threshold: 5, where: { creature: "troll" } } };
const report = await progression.simulate([firstBlood, trollHunter]);
const preview = report.milestones.find((milestone) => milestone.code === "troll_hunter");
console.log(preview?.change, preview?.wouldAward); // new 1

// Deployed: the player's next join (catchUp) backfills it from history, stamped with the day it was met.
progression.reload({ definitions: [firstBlood, trollHunter] });
const [unlock] = await progression.catchUp("player-1");
console.log(unlock?.code, unlock?.retroactive, new Date(unlock?.earnedAt ?? 0).toISOString()); // troll_hunter true 2026-11-03T18:01:00.000Z

// Or every player at once, in pages, resumable from `cursor` (e.g. from a job right after the deploy).
console.log(await progression.backfill()); // { visited: 1, seeded: 0, awarded: 0, cursor: '0' }
await progression.close();
export { unlock };
