import { Room, type Client } from "@colyseus/core";

/**
 * The reference the load test divides by: a room that accepts exactly the arena's messages and does
 * nothing with them (no plugin, no store), so the report can state the plugin's cost as a ratio of
 * what Colyseus itself sustains on the same machine, bots and transport.
 *
 * It only counts what it receives, so the runner can still check that nothing was lost on the wire.
 */

/** Messages received by every bare room of this process, by type (read by the reference server). */
export const bareRoomReceived: Record<string, number> = {};

function count(type: string): void {
  bareRoomReceived[type] = (bareRoomReceived[type] ?? 0) + 1;
}

let nextHoldSerial = 0;

export class BareRoom extends Room {
  // Same auth surface as the arena: the subject is the `playerId` join option.
  override onAuth(_client: Client, options: { playerId?: unknown }): { id: string } {
    return { id: String(options.playerId) };
  }

  override messages = {
    kill: (_client: Client, _message: unknown) => count("kill"),
    loot: (_client: Client, _message: unknown) => count("loot"),
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
