// A game client in another project: joins, kills once, waits for the unlock pushed by the server.
import { Client } from "@colyseus/sdk";

const client = new Client(`ws://127.0.0.1:${process.env.PORT}`);
const room = await client.joinOrCreate("arena", { playerId: `consumer-${process.pid}` });
const unlocked = new Promise((resolve) => room.onMessage("progression:unlocked", resolve));
room.onMessage("*", () => {});
room.send("kill");
const unlock = await unlocked;
console.log(`unlocked: ${unlock.title} (${unlock.code})`);
await room.leave();
process.exit(0);
