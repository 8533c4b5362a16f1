import type { MilestoneDefinition } from "../definitions/milestone-schema.ts";
import type { Translator } from "../i18n/translator.ts";
import type { MilestoneCounts } from "../model/milestone-stats.ts";
import type { Rarity } from "../model/rarity.ts";
import { displayLayoutOf, periodOf, seriesPlaceOf } from "./display-layout.ts";

/** A milestone's texts in one locale, and which of them that locale's catalog lacks (the default fills in). */
export interface MilestoneTexts {
  readonly title: string;
  readonly description: string;
  readonly missing: ReadonlyArray<"title" | "description">;
}

/** One loaded milestone as the admin tab shows it. */
export interface MilestoneCatalogEntry extends MilestoneCounts {
  readonly code: string;
  readonly definition: MilestoneDefinition;
  readonly hidden: boolean;
  readonly active: boolean;
  /** Per locale of the catalogs. */
  readonly texts: Readonly<Record<string, MilestoneTexts>>;
  /** Codes that must all be awarded first (`requires`). */
  readonly requires: readonly string[];
  /** Its series and place among the active tiers (an inactive one placed as if active), or null. */
  readonly series: CatalogSeries | null;
  /** A seasonal milestone's period in epoch ms (from inclusive, until exclusive); null: open on that side. */
  readonly availableFrom: number | null;
  readonly availableUntil: number | null;
  /** Of the players active in the rarity window, the share holding it; null when unknown. */
  readonly rarity: Rarity | null;
}

/** A milestone's series as the admin sees it: every tier, in order. */
export interface CatalogSeries {
  readonly id: string;
  /** Its place, from 1. */
  readonly order: number;
  readonly of: number;
  /** The codes of the series' tiers, in order. */
  readonly tiers: readonly string[];
}

/** `progression.milestoneCatalog()`: every loaded milestone, in definition order. */
export interface MilestoneCatalog {
  readonly defaultLocale: string;
  /** The catalogs' locales, the default first. */
  readonly locales: readonly string[];
  readonly milestones: readonly MilestoneCatalogEntry[];
}

/** Per loaded code, its counts (0 for a code nobody reached); codes the backend counts but no longer loaded are left out. */
export function statsOf(definitions: Iterable<MilestoneDefinition>, counted: ReadonlyMap<string, MilestoneCounts>): Record<string, MilestoneCounts> {
  const stats: Record<string, MilestoneCounts> = {};
  for (const { code } of definitions) {
    const counts = counted.get(code);
    stats[code] = { reached: counts?.reached ?? 0, claimed: counts?.claimed ?? 0 };
  }
  return stats;
}

/**
 * Builds the catalog. `withCatalogs` false: the engine runs without translation catalogs, texts are shown
 * as written, and nothing is missing (as `onMissingTranslations` says).
 */
export function buildMilestoneCatalog(
  definitions: Iterable<MilestoneDefinition>,
  translator: Translator,
  withCatalogs: boolean,
  stats: Readonly<Record<string, MilestoneCounts>>,
  rarityOf: (code: string) => Rarity | null = () => null,
): MilestoneCatalog {
  const defaultLocale = translator.defaultLocale;
  const locales = [defaultLocale, ...Object.keys(translator.catalogs.locales).filter((locale) => locale !== defaultLocale)];
  const all = [...definitions];
  const layout = displayLayoutOf(all);
  const milestones = all.map((definition): MilestoneCatalogEntry => {
    const texts: Record<string, MilestoneTexts> = {};
    for (const locale of locales) {
      const missing: Array<"title" | "description"> = [];
      if (withCatalogs && !translator.has(definition.title, locale)) missing.push("title");
      if (withCatalogs && !translator.has(definition.description, locale)) missing.push("description");
      texts[locale] = { title: translator.text(definition.title, locale), description: translator.text(definition.description, locale), missing };
    }
    return {
      code: definition.code,
      definition,
      hidden: definition.hidden,
      active: definition.active,
      texts,
      // A copy: the admin routes' JSON writer (better-call) replaces a second reference to one object with "[Circular ref]".
      requires: [...definition.requires],
      series: seriesOf(seriesPlaceOf(layout, definition), definition),
      ...periodOf(layout, definition.code),
      rarity: rarityOf(definition.code),
      reached: stats[definition.code]?.reached ?? 0,
      claimed: stats[definition.code]?.claimed ?? 0,
    };
  });
  return { defaultLocale, locales, milestones };
}

function seriesOf(place: ReturnType<typeof seriesPlaceOf>, definition: MilestoneDefinition): CatalogSeries | null {
  if (place === undefined || definition.series === undefined) return null;
  return { id: definition.series.id, order: place.index + 1, of: place.tiers.length, tiers: place.tiers.map((tier) => tier.code) };
}
