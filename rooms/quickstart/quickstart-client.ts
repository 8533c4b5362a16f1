import { Client } from "@colyseus/sdk";

const client = new Client(process.env["ENDPOINT"] ?? "ws://localhost:2567");
const room = await client.joinOrCreate("arena", { playerId: `player-${Date.now()}`, locale: "en" });

room.onMessage("progression:snapshot", (snapshot) => console.log(`snapshot: ${snapshot.milestones.length} milestones`));
room.onMessage("progression:progress", ({ code, current, target }) => console.log(`progress: ${code} ${current}/${target}`));
room.onMessage("progression:inventory", ({ balances }) => console.log("inventory:", balances));
const slayer = new Promise<void>((resolve) => {
  room.onMessage("progression:unlocked", (unlock) => {
    console.log(`unlocked: ${unlock.title} (${unlock.code})`);
    if (unlock.code === "slayer_10") resolve();
  });
});

// Gameplay messages are fire-and-forget; the room records them and pushes what they earn.
for (let i = 0; i < 10; i += 1) room.send("kill", { creature: "goblin" });
await slayer;

// Requests answer: the claim returns the new balances, a second claim is rejected with a reason.
const claimed = await room.request("progression:claim", { code: "slayer_10" });
console.log("claimed:", claimed.rewards);
try {
  await room.request("progression:claim", { code: "slayer_10" });
} catch (error) {
  console.log("rejected:", (error as { reason?: { code: string } }).reason?.code);
}
await room.leave();
