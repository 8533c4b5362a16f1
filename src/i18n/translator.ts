import type { MilestoneDefinition } from "../definitions/milestone-schema.ts";
import type { TranslationCatalogs } from "./translation-catalogs.ts";

/** Key a hidden, unreached milestone shows instead of its title/description. */
export const HIDDEN_TITLE_KEY = "progression.hidden.title";
export const HIDDEN_DESCRIPTION_KEY = "progression.hidden.description";

export interface MissingTranslations {
  /** locale -> keys used by definitions but absent from that locale's catalog (the default fills in). */
  readonly [locale: string]: readonly string[];
}

/**
 * Resolves translation keys for a locale: the exact locale, then its language ("pt-BR" -> "pt"),
 * then the default locale, then the key itself (so a missing text is visible, never blank).
 */
export class Translator {
  readonly catalogs: TranslationCatalogs;

  constructor(catalogs: TranslationCatalogs) {
    this.catalogs = catalogs;
  }

  get defaultLocale(): string {
    return this.catalogs.defaultLocale;
  }

  /** The locale actually used for a requested one. */
  resolveLocale(requested: string | undefined): string {
    if (requested === undefined) return this.defaultLocale;
    if (Object.hasOwn(this.catalogs.locales, requested)) return requested;
    const language = requested.split(/[-_]/)[0] ?? "";
    if (Object.hasOwn(this.catalogs.locales, language)) return language;
    return this.defaultLocale;
  }

  text(key: string, locale: string): string {
    return (
      lookup(this.catalogs.locales[locale], key) ??
      lookup(this.catalogs.locales[this.defaultLocale], key) ??
      key
    );
  }

  /** Whether the locale's own catalog has the key (no fallback). */
  has(key: string, locale: string): boolean {
    return lookup(this.catalogs.locales[locale], key) !== undefined;
  }

  /** Keys the definitions use that a locale lacks; the default locale's gaps show raw keys to players. */
  missingKeys(definitions: Iterable<MilestoneDefinition>): MissingTranslations {
    const keys = new Set<string>();
    for (const definition of definitions) {
      keys.add(definition.title);
      keys.add(definition.description);
      // The masked texts are needed only when something is hidden.
      if (definition.hidden) keys.add(HIDDEN_TITLE_KEY).add(HIDDEN_DESCRIPTION_KEY);
    }
    const missing: Record<string, string[]> = {};
    for (const [locale, catalog] of Object.entries(this.catalogs.locales)) {
      const absent = [...keys].filter((key) => lookup(catalog, key) === undefined).sort();
      if (absent.length > 0) missing[locale] = absent;
    }
    return missing;
  }
}

function lookup(catalog: Readonly<Record<string, string>> | undefined, key: string): string | undefined {
  if (catalog === undefined || !Object.hasOwn(catalog, key)) return undefined;
  return catalog[key];
}
