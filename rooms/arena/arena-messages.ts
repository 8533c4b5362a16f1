import { z } from "zod";
import { creatures, limits, lootItems, shopItems, tradeItems } from "./arena-catalog.ts";

/**
 * Payloads of the arena's client messages. Strict objects: unknown keys (including `__proto__` and
 * `constructor`) are rejected, strings are bounded, quantities are safe positive integers.
 */

const quantity = (max: number) =>
  z.number().int("expected a whole number").min(1, "expected at least 1").max(max, `expected at most ${max}`);

/** Lets a client retry a message safely: the same requestId takes effect once. */
const requestId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, "use letters, digits, '_', '.', ':' or '-'").optional();

const holdId = z.string().min(1).max(300);

export const killMessage = z.strictObject({ creature: z.enum(creatures) });
export const lootMessage = z.strictObject({ item: z.enum(lootItems), qty: quantity(limits.maxLoot) });
export const tradeMessage = z.strictObject({
  /** The receiver: a sessionId of a player in this room, or a player (subject) id. */
  to: z.string().min(1).max(128),
  item: z.enum(tradeItems),
  qty: quantity(limits.maxTrade),
  requestId,
});
export const buyMessage = z.strictObject({ item: z.enum(shopItems), qty: quantity(limits.maxPurchase), requestId });
export const confirmMessage = z.strictObject({ holdId });
export const cancelMessage = z.strictObject({ holdId });

export type KillMessage = z.output<typeof killMessage>;
export type LootMessage = z.output<typeof lootMessage>;
export type TradeMessage = z.output<typeof tradeMessage>;
export type BuyMessage = z.output<typeof buyMessage>;
