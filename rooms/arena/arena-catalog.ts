/** What exists in the arena: the closed lists every message is validated against. */

export const creatures = ["skaven_warrior", "giant_rat", "rat", "goblin", "troll", "dragon"] as const;
export type Creature = (typeof creatures)[number];

/** Items a player can pick up from the floor (`loot`) and give to another player (`trade`). */
export const lootItems = ["gold", "potion", "elixir", "gem", "skaven_tail"] as const;
export const tradeItems = ["gold", "potion", "elixir", "gem", "skaven_tail", "sword", "shield", "skaven_banner"] as const;

/** The shop: price in gold per unit. A purchase holds the gold until confirmed, cancelled or expired. */
export const shopPrices = {
  potion: 5,
  elixir: 20,
  shield: 40,
  sword: 50,
} as const satisfies Record<string, number>;
export type ShopItem = keyof typeof shopPrices;
export const shopItems = Object.keys(shopPrices) as [ShopItem, ...ShopItem[]];

/** The currency the shop is paid in. */
export const currency = "gold";

export const limits = {
  /** Largest quantity in one loot message. */
  maxLoot: 1_000,
  /** Largest quantity in one trade. */
  maxTrade: 1_000_000,
  /** Largest quantity in one purchase. */
  maxPurchase: 99,
} as const;
