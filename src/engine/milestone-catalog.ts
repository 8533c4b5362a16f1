import type { MilestoneDefinition } from "../definitions/milestone-schema.ts";
import type { Translator } from "../i18n/translator.ts";
import type { MilestoneCounts } from "../model/milestone-stats.ts";

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
): MilestoneCatalog {
  const defaultLocale = translator.defaultLocale;
  const locales = [defaultLocale, ...Object.keys(translator.catalogs.locales).filter((locale) => locale !== defaultLocale)];
  const milestones = [...definitions].map((definition): MilestoneCatalogEntry => {
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
      reached: stats[definition.code]?.reached ?? 0,
      claimed: stats[definition.code]?.claimed ?? 0,
    };
  });
  return { defaultLocale, locales, milestones };
}
