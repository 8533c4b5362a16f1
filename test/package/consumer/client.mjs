// A game client in another project: joins, keeps its progression with the client kit, kills once, waits for
// the unlock pushed by the server.
import { Client } from "@colyseus/sdk";
import { attachProgression } from "colyseus-progression/client";

const client = new Client(`ws://127.0.0.1:${process.env.PORT}`);
const room = await client.joinOrCreate("arena", { playerId: `consumer-${process.pid}` });
const progression = attachProgression(room);
await progression.ready;
const unlocked = new Promise((resolve) => progression.on("unlock", resolve));
room.send("kill");
const unlock = await unlocked;
console.log(`unlocked: ${unlock.title} (${unlock.code}), ${progression.milestone(unlock.code)?.status}`);
await room.leave();
process.exit(0);
