/** One catalog per locale: translation key -> text. `{name}` placeholders are left to the client. */
export type TranslationCatalog = Readonly<Record<string, string>>;

export interface TranslationCatalogs {
  /** Locale used when a requested locale or key is missing, e.g. "en". */
  readonly defaultLocale: string;
  readonly locales: Readonly<Record<string, TranslationCatalog>>;
}
