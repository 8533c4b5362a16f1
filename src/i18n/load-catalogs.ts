import { readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { TranslationCatalogs } from "./translation-catalogs.ts";

const localeName = z.string().regex(/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$/, "expected a locale like en, de or pt-BR");
const catalogSchema = z.record(z.string().min(1), z.string());

/**
 * Catalogs come from an object or a directory of `<locale>.json` files (e.g. `locales/en.json`).
 * The default locale is the one whose file is named by `defaultLocale` (default "en").
 */
export function loadCatalogs(source: TranslationCatalogs | string, defaultLocale = "en"): TranslationCatalogs {
  const catalogs = typeof source === "string" ? readCatalogDirectory(source, defaultLocale) : source;
  const locales: Record<string, Readonly<Record<string, string>>> = Object.create(null);
  for (const [locale, catalog] of Object.entries(catalogs.locales)) {
    const name = localeName.safeParse(locale);
    const parsed = catalogSchema.safeParse(catalog);
    if (!name.success || !parsed.success) {
      throw new ProgressionError(
        ErrorCode.InvalidCatalog,
        `translation catalog ${JSON.stringify(locale)}: ${name.success ? "expected an object of key -> string" : name.error.issues[0]?.message}`,
        { locale },
      );
    }
    locales[locale] = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, parsed.data));
  }
  if (!(catalogs.defaultLocale in locales)) {
    throw new ProgressionError(
      ErrorCode.InvalidCatalog,
      `default locale ${JSON.stringify(catalogs.defaultLocale)} has no catalog; add locales/${catalogs.defaultLocale}.json or set defaultLocale to one of: ${Object.keys(locales).join(", ") || "(none)"}`,
      { defaultLocale: catalogs.defaultLocale },
    );
  }
  return { defaultLocale: catalogs.defaultLocale, locales };
}

function readCatalogDirectory(directory: string, defaultLocale: string): TranslationCatalogs {
  const locales: Record<string, Record<string, string>> = {};
  let files: string[];
  try {
    files = readdirSync(directory).filter((name) => name.endsWith(".json")).sort();
  } catch (error) {
    throw new ProgressionError(ErrorCode.InvalidCatalog, `cannot read translation catalogs in ${directory}: ${(error as Error).message}`, { directory });
  }
  for (const file of files) {
    try {
      locales[basename(file, ".json")] = JSON.parse(readFileSync(join(directory, file), "utf8")) as Record<string, string>;
    } catch (error) {
      throw new ProgressionError(ErrorCode.InvalidCatalog, `translation file ${join(directory, file)} is not valid JSON: ${(error as Error).message}`, { file });
    }
  }
  return { defaultLocale, locales };
}
