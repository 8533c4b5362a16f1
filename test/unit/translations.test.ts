import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createProgression } from "../../src/engine/create-progression.ts";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import type { MissingTranslations } from "../../src/i18n/translator.ts";

const definition = { code: "first_blood", title: "fb.title", description: "fb.description", icon: "fb.png", trigger: "kill", rule: { type: "count" as const, threshold: 1 } };

describe("translation catalogs", () => {
  it("load from <locale>.json files and report the keys each locale lacks", () => {
    const directory = mkdtempSync(join(tmpdir(), "locales-"));
    writeFileSync(join(directory, "en.json"), JSON.stringify({ "fb.title": "First Blood", "fb.description": "Win a fight", "progression.hidden.title": "???", "progression.hidden.description": "Keep playing" }));
    writeFileSync(join(directory, "de.json"), JSON.stringify({ "fb.title": "Erstes Blut" }));
    const reports: MissingTranslations[] = [];
    const progression = createProgression({ definitions: [definition], catalogs: directory, onMissingTranslations: (missing) => reports.push(missing) });
    // No milestone is hidden, so the masked texts are not needed.
    expect(reports).toEqual([{ de: ["fb.description"] }]);
    expect(progression.preview("first_blood", "de")).toMatchObject({ title: "Erstes Blut", description: "Win a fight" });
    writeFileSync(join(directory, "de.json"), JSON.stringify({ "fb.title": "Erstes Blut!", "fb.description": "Gewinne", "progression.hidden.title": "?", "progression.hidden.description": "?" }));
    progression.reload({ catalogs: directory });
    expect(reports[1]).toEqual({});
    expect(progression.preview("first_blood", "de").title).toBe("Erstes Blut!");
  });

  it("ask for the masked texts of hidden milestones only when a milestone is hidden", () => {
    const catalogs = { defaultLocale: "en", locales: { en: { "fb.title": "First Blood", "fb.description": "Win a fight" } } };
    const reports: MissingTranslations[] = [];
    createProgression({ definitions: [definition], catalogs, onMissingTranslations: (missing) => reports.push(missing) });
    createProgression({ definitions: [{ ...definition, hidden: true }], catalogs, onMissingTranslations: (missing) => reports.push(missing) });
    expect(reports).toEqual([{}, { en: ["progression.hidden.description", "progression.hidden.title"] }]);
  });

  it("reject a default locale without a catalog and non-string texts", () => {
    expect(() => createProgression({ definitions: [definition], catalogs: { defaultLocale: "en", locales: { de: {} } } })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidCatalog, message: expect.stringContaining('default locale "en" has no catalog') }),
    );
    expect(() => createProgression({ definitions: [definition], catalogs: { defaultLocale: "en", locales: { en: { "fb.title": 5 as unknown as string } } } })).toThrow(/catalog "en"/);
  });

  it("show the key itself when no catalog has it, so a gap is visible", () => {
    const progression = createProgression({ definitions: [definition], onMissingTranslations: () => {} });
    expect(progression.preview("first_blood")).toMatchObject({ title: "fb.title", locale: "en" });
  });
});
