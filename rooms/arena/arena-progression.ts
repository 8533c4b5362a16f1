import { join } from "node:path";
import { createProgression } from "../../src/engine/create-progression.ts";
import type { ProgressionOptions } from "../../src/engine/progression-options.ts";
import type { Progression } from "../../src/engine/progression.ts";

/** The arena's milestone definitions and translation catalogs (en, de). */
export const arenaDefinitionsPath = join(import.meta.dirname, "milestones.json");
export const arenaLocalesPath = join(import.meta.dirname, "locales");

/** An engine loaded with the arena's milestones and locales; pass `backend`, `clock`... to override. */
export function createArenaProgression(overrides: Partial<ProgressionOptions> = {}): Progression {
  return createProgression({ definitions: arenaDefinitionsPath, catalogs: arenaLocalesPath, ...overrides });
}
