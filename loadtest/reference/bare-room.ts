import { Room, type Client } from "@colyseus/core";
import { bareAckMessage } from "./bare-ack.ts";

/**
 * The reference the load test divides by: a room that accepts exactly the arena's messages and does
 * nothing with them (no plugin, no store), so the report can state the plugin's cost as a ratio of
 * what Colyseus itself sustains on the same machine, bots and transport.
 *
 * It only counts what it receives, so the runner can still check that nothing was lost on the wire. An
 * event that crossed one of the bot's thresholds names the codes (`acks`) and is answered at once with
 * `ack { codes }`: the send -> ack latency the arena's send -> unlock is compared with.
 */

/** Messages received by every bare room of this process, by type (read by the reference server). */
export const bareRoomReceived: Record<string, number> = {};

function count(type: string): void {
  bareRoomReceived[type] = (bareRoomReceived[type] ?? 0) + 1;
}

let nextHoldSerial = 0;

function ack(client: Client, message: unknown): void {
  const acks = typeof message === "object" && message !== null ? (message as { acks?: unknown }).acks : undefined;
  if (Array.isArray(acks)) client.send(bareAckMessage, { codes: acks });
}

export class BareRoom extends Room {
  // Same auth surface as the arena: the subject is the `playerId` join option.
  override onAuth(_client: Client, options: { playerId?: unknown }): { id: string } {
    return { id: String(options.playerId) };
  }

  override messages = {
    kill: (client: Client, message: unknown) => {
      count("kill");
      ack(client, message);
    },
    loot: (client: Client, message: unknown) => {
      count("loot");
      ack(client, message);
    },
    trade: (_client: Client, _message: unknown) => count("trade"),
    // The shop replies like the arena's does (a hold id), so bots run the same flow.
    buy: (_client: Client, _message: unknown) => {
      count("buy");
      nextHoldSerial += 1;
      return { holdId: `bare-hold-${nextHoldSerial}` };
    },
    confirm: (_client: Client, _message: unknown) => count("confirm"),
    cancel: (_client: Client, _message: unknown) => count("cancel"),
  };
}
