import { setTimeout as sleep } from "node:timers/promises";
import { Client, type Room } from "@colyseus/sdk";
import { checkStore, driveBots, joinBots, startArenaRig, type StoreFigures } from "./arena-rig.ts";
import { startOwnedRedis } from "./owned-redis.ts";
import { SeededRandom } from "./seeded-random.ts";
import { summarizeLatencies, type LatencySummary } from "../runner/latency-summary.ts";
import { leaveRoom } from "../bots/leave-room.ts";

/**
 * Attack 4: hostile client messages and raw frames against the arena (demo server, Redis mode):
 * invalid payloads of every message type, unknown types, prototype keys, huge and non-finite
 * numbers, oversized strings, and raw WebSocket frames of random bytes behind every protocol code.
 * A bystander plays meanwhile. Breaks: the server exits, the hostile player's state moves (it must
 * equal a control player's who only joined), the bystander's counts or unlocks go wrong. The
 * bystander's loot round-trip latency is reported before and during the attack.
 */

const TYPES = ["kill", "loot", "trade", "buy", "confirm", "cancel", "progression:claim", "progression:resync", "fly", "__proto__", "progression:record", ""];
const VALUES: readonly unknown[] = [
  undefined, null, true, 0, -1, 1.5, 1e20, Number.MAX_SAFE_INTEGER + 2, Number.NaN, Number.POSITIVE_INFINITY, "", "gold", "unicorn",
  "__proto__", "constructor", "x".repeat(3_000), "{ghost}", "a b", "tab\tid", "h0000000000000000:someone", [], [1, 2], {}, { nested: { deep: true } },
];
const KEYS = ["creature", "item", "qty", "to", "holdId", "code", "requestId", "__proto__", "constructor", "prototype", "tags", "amount", "subject"];

export async function hostileAttack(scale: { messages: number }, log: (line: string) => void): Promise<{ ok: boolean; messages: number; rawFrames: number; reconnects: number; bystanderBefore: LatencySummary; bystanderDuring: LatencySummary; bystander: StoreFigures; breaks: string[] }> {
  const redis = await startOwnedRedis("everysec");
  const rig = await startArenaRig({ redis }).catch(async (error: unknown) => {
    await redis.stop();
    throw error;
  });
  const random = new SeededRandom(4242);
  const breaks: string[] = [];
  let rawFrames = 0;
  let reconnects = 0;
  let sent = 0;
  try {
    const [control] = await joinBots(rig.endpoint, `${rig.prefix}-control`, 1);
    const bystanders = await joinBots(rig.endpoint, `${rig.prefix}-bystander`, 2);
    // Baseline latency of the bystanders, then the same traffic under attack.
    const baseline = driveBots(bystanders, { killsPerSecond: 10, lootPerSecond: 5 });
    await sleep(2_000);
    baseline.stop();
    await Promise.all(bystanders.map((bot) => bot.waitIdle(10_000)));
    const before = await checkStore(rig.reader(), bystanders.map((bot) => bot.report()), 10_000);
    const baselineSamples = bystanders.map((bot) => bot.report().latenciesMs.length);
    const drive = driveBots(bystanders, { killsPerSecond: 10, lootPerSecond: 5 });

    const hostileSubject = `${rig.prefix}-hostile`;
    let room: Room | undefined;
    const connect = async (): Promise<Room> => {
      const joined = await new Client(rig.endpoint).joinOrCreate("arena", { playerId: hostileSubject });
      joined.reconnection.enabled = false;
      joined.onMessage("*", () => undefined);
      joined.onError(() => undefined);
      return joined;
    };
    room = await connect();
    while (sent < scale.messages) {
      if (!room.connection.isOpen) {
        reconnects += 1;
        room = await connect();
      }
      const roll = random.next();
      if (roll < 0.1) {
        // A raw frame: a protocol code, then random bytes.
        const bytes = new Uint8Array(random.int(1, 300)).map(() => random.int(0, 255));
        bytes[0] = random.chance(0.7) ? random.int(9, 20) : random.int(0, 255);
        room.connection.send(bytes);
        rawFrames += 1;
      } else {
        room.send(random.pick(TYPES), hostilePayload(random));
      }
      sent += 1;
      // Let the server and the bystander breathe: a burst, then a turn of the event loop.
      if (sent % 50 === 0) await sleep(5);
    }
    await sleep(1_000);
    drive.stop();
    await Promise.all(bystanders.map((bot) => bot.waitIdle(10_000)));
    await leaveRoom(room).catch(() => undefined);
    const bystander = await checkStore(rig.reader(), bystanders.map((bot) => bot.report()), 30_000);
    const during = summarizeLatencies(bystanders.flatMap((bot, index) => bot.report().latenciesMs.slice(baselineSamples[index] ?? 0)));

    if (rig.unexpectedExits() > 0) breaks.push(`the server exited: ${rig.serverTail().slice(-500)}`);
    const reader = rig.reader();
    const state = async (subject: string): Promise<string> => {
      const progress = (await reader.progress(subject)).map((entry) => [entry.code, entry.current, entry.status]);
      return JSON.stringify({ progress, balances: await reader.ledger.list(subject) });
    };
    const hostileState = await state(hostileSubject);
    const controlState = await state(control?.subject ?? "");
    if (hostileState !== controlState) breaks.push(`the hostile player's state moved: ${hostileState.slice(0, 300)} vs a control player's ${controlState.slice(0, 300)}`);
    if (bystander.kills.lost > 0 || bystander.kills.countedTwice > 0) {
      breaks.push(`bystander kills: sent ${bystander.kills.sent}, counted ${bystander.kills.counted} (before the attack: sent ${before.kills.sent}, counted ${before.kills.counted}); server log: ${rig.serverTail().slice(-1_500)}`);
    }
    if (bystander.loot.acknowledgedLost > 0 || bystander.loot.extra > 0) breaks.push(`bystander loot: ${JSON.stringify(bystander.loot)}`);
    if (bystander.unlocks.missing > 0 || bystander.unlocks.duplicates > 0) breaks.push(`bystander unlocks: ${JSON.stringify(bystander.unlocks)}`);
    await control?.leave();
    await Promise.all(bystanders.map((bot) => bot.leave()));
    log(`hostile: ${sent} messages (${rawFrames} raw frames, ${reconnects} reconnects), bystander loot p99 ${before.latencyMs.p99} ms before, ${during.p99} ms during, ${breaks.length} break(s)`);
    return { ok: breaks.length === 0, messages: sent, rawFrames, reconnects, bystanderBefore: before.latencyMs, bystanderDuring: during, bystander, breaks };
  } finally {
    await rig.stop();
    await redis.stop();
  }
}

function hostilePayload(random: SeededRandom): unknown {
  if (random.chance(0.2)) return random.pick(VALUES);
  const payload: Record<string, unknown> = {};
  for (let index = random.int(0, 4); index > 0; index -= 1) {
    const key = random.pick(KEYS);
    // defineProperty: an own "__proto__" key, as JSON.parse would make one.
    Object.defineProperty(payload, key, { value: random.pick(VALUES), enumerable: true, configurable: true, writable: true });
  }
  return payload;
}
