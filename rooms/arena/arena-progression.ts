import { join } from "node:path";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { ProgressionOptions } from "../../src/engine/progression-options.ts";
import type { Progression } from "../../src/engine/progression.ts";
import type { StatGuards } from "../../src/runtime/stat-guards.ts";

/** The arena's milestone definitions and translation catalogs (en, de). */
export const arenaDefinitionsPath = join(import.meta.dirname, "milestones.json");
export const arenaLocalesPath = join(import.meta.dirname, "locales");

/**
 * The arena's stat guards (docs/semantics.md, "Stat guards"): a kill message is one kill, and no player
 * gets more than 60,000 kills into one minute, across every room and process. Sized like the arena's rate
 * caps (at most 1,000 kill messages a second per client), so the bundled load test never meets them; a
 * game sets its own from what a player can really do.
 */
export const arenaStatGuards = {
  kill: { maxAmount: 1, maxPerWindow: { amount: 60_000, windowMs: 60_000 } },
} as const satisfies StatGuards;

/** An engine loaded with the arena's milestones, locales and stat guards; pass `backend`, `clock`... to override. */
export function createArenaProgression(overrides: Partial<ProgressionOptions> = {}): Progression {
  return createProgression({ definitions: arenaDefinitionsPath, catalogs: arenaLocalesPath, statGuards: arenaStatGuards, ...overrides });
}
