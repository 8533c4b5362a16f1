import { describe, expect, it } from "vitest";
import { compileMilestones } from "../../src/definitions/compile-milestones.ts";
import { loadDefinitions } from "../../src/definitions/load-definitions.ts";
import type { MilestoneDefinitionInput } from "../../src/definitions/milestone-schema.ts";
import { buildMilestoneCatalog } from "../../src/engine/milestone-catalog.ts";
import { Presentation, type RarityOf } from "../../src/engine/presentation.ts";
import { Translator } from "../../src/i18n/translator.ts";
import type { AwardRecord } from "../../src/model/award.ts";
import type { MilestoneProgress } from "../../src/model/progress.ts";
import type { Rarity } from "../../src/model/rarity.ts";
import type { SubjectState } from "../../src/model/subject-state.ts";

/**
 * What the snapshot, the unlock payload and the admin catalog say about series, preconditions, seasonal
 * periods and rarity: everything from the definitions, and nothing of a hidden milestone the player has not reached.
 */
const T0 = Date.UTC(2026, 11, 1);
const kill = (code: string, threshold: number, extra: Partial<MilestoneDefinitionInput> = {}): MilestoneDefinitionInput => ({
  code,
  title: `${code}.title`,
  description: `${code}.description`,
  icon: `${code}.svg`,
  trigger: "kill",
  rule: { type: "count", threshold },
  ...extra,
});
// Out of order on purpose, with gaps in the orders, an inactive tier and a hidden last one.
const definitions = loadDefinitions([
  kill("slayer_100", 100, { series: { id: "slayer", order: 20 } }),
  kill("slayer_10", 10, { series: { id: "slayer", order: 10 } }),
  kill("slayer_500", 500, { series: { id: "slayer", order: 25 }, active: false }),
  kill("slayer_1000", 1000, { series: { id: "slayer", order: 30 }, hidden: true }),
  kill("first_blood", 1),
  kill("secret", 5, { hidden: true }),
  kill("champion", 150, { requires: ["slayer_100", "secret"] }),
  kill("winter_hunt", 20, { availableFrom: "2026-12-01T00:00:00Z", availableUntil: "2027-03-01T00:00:00+00:00" }),
  kill("hidden_winter", 20, { hidden: true, availableFrom: "2026-12-01T00:00:00Z", availableUntil: "2027-03-01T00:00:00Z" }),
]);
const compiled = compileMilestones(definitions, new Map());
const english: Record<string, string> = {
  "slayer_10.title": "Slayer I",
  "slayer_100.title": "Slayer II",
  "slayer_500.title": "Slayer II½",
  "slayer_1000.title": "Slayer III",
  "secret.title": "Rat Whisperer",
  "progression.hidden.title": "Hidden milestone",
  "progression.hidden.description": "Keep playing",
};
const translator = new Translator({ defaultLocale: "en", locales: { en: english, de: { "slayer_1000.title": "Schlächter III", "progression.hidden.title": "Verborgen" } } });
const rarities: Record<string, Rarity> = {
  slayer_10: { percent: 3.2, holders: 32, activePlayers: 1000, windowDays: 30 },
  slayer_1000: { percent: 0.1, holders: 1, activePlayers: 1000, windowDays: 30 },
  secret: { percent: 50, holders: 500, activePlayers: 1000, windowDays: 30 },
};
const rarityOf: RarityOf = (code) => rarities[code] ?? null;

function presentation(rarity?: RarityOf): Presentation {
  return new Presentation(() => compiled, () => translator, "hidden.svg", rarity);
}

function award(code: string): AwardRecord {
  return { code, earnedAt: T0, retroactive: false, claimedAt: null };
}

function progressOf(awarded: readonly string[], locale?: string): Record<string, MilestoneProgress> {
  const state: SubjectState = { subject: "p1", counters: new Map(), awards: new Map(awarded.map((code) => [code, award(code)])) };
  return Object.fromEntries(presentation(rarityOf).progressList(state, T0, locale).map((milestone) => [milestone.code, milestone]));
}

describe("series in the snapshot", () => {
  it("places each active tier by order (1-based, gaps and inactive tiers left out) and names the next one", () => {
    const shown = progressOf([]);
    expect(shown["slayer_10"]?.series).toEqual({ id: "slayer", order: 1, of: 3, next: { masked: false, code: "slayer_100", title: "Slayer II", target: 100 } });
    // The next tier is hidden and not reached: only that there is one.
    expect(shown["slayer_100"]?.series).toEqual({ id: "slayer", order: 2, of: 3, next: { masked: true } });
    expect(shown["slayer_500"]).toBeUndefined();
    expect(shown["first_blood"]?.series).toBeNull();
  });

  it("masks a hidden tier everywhere until reached: no code, title, target or rarity of it leaks", () => {
    const shown = progressOf(["slayer_10"]);
    // The masked tier itself shows no series place, nothing it requires, no period, no rarity.
    expect(shown["slayer_1000"]).toMatchObject({ masked: true, series: null, requires: [], availableFrom: null, availableUntil: null, rarity: null });
    expect(Object.keys(shown["slayer_100"]?.series?.next ?? {})).toEqual(["masked"]);
    const elsewhere = JSON.stringify(Object.values(shown).filter((milestone) => milestone.code !== "slayer_1000"));
    for (const secret of ["slayer_1000", "Slayer III"]) expect(elsewhere).not.toContain(secret);
  });

  it("reveals the next tier once the player holds it, in the player's locale", () => {
    const shown = progressOf(["slayer_10", "slayer_100", "slayer_1000"], "de");
    expect(shown["slayer_100"]?.series?.next).toEqual({ masked: false, code: "slayer_1000", title: "Schlächter III", target: 1000 });
    expect(shown["slayer_1000"]?.series).toEqual({ id: "slayer", order: 3, of: 3, next: null });
  });

  it("counts only active tiers: a reload that activates one moves the places", () => {
    const reloaded = compileMilestones(definitions.map((definition) => (definition.code === "slayer_500" ? { ...definition, active: true } : definition)), new Map());
    const state: SubjectState = { subject: "p1", counters: new Map(), awards: new Map() };
    const shown = new Presentation(() => reloaded, () => translator, "hidden.svg").progressList(state, T0);
    expect(shown.find((milestone) => milestone.code === "slayer_500")?.series).toMatchObject({ order: 3, of: 4 });
    expect(shown.find((milestone) => milestone.code === "slayer_100")?.series?.next).toMatchObject({ code: "slayer_500", target: 500 });
  });
});

describe("preconditions, periods and rarity in the snapshot", () => {
  it("lists what a milestone requires and whether the player holds it; a hidden precondition keeps its title masked", () => {
    expect(progressOf([])["champion"]?.requires).toEqual([
      { code: "slayer_100", title: "Slayer II", awarded: false },
      { code: "secret", title: "Hidden milestone", awarded: false },
    ]);
    expect(progressOf(["slayer_100", "secret"])["champion"]?.requires).toEqual([
      { code: "slayer_100", title: "Slayer II", awarded: true },
      { code: "secret", title: "Rat Whisperer", awarded: true },
    ]);
    expect(progressOf([])["first_blood"]?.requires).toEqual([]);
  });

  it("gives a seasonal milestone's period in epoch ms (from inclusive, until exclusive), null for open-ended ones", () => {
    const shown = progressOf([]);
    expect(shown["winter_hunt"]).toMatchObject({ availableFrom: Date.UTC(2026, 11, 1), availableUntil: Date.UTC(2027, 2, 1) });
    expect(shown["first_blood"]).toMatchObject({ availableFrom: null, availableUntil: null });
    expect(shown["hidden_winter"]).toMatchObject({ masked: true, availableFrom: null, availableUntil: null });
    expect(progressOf(["hidden_winter"])["hidden_winter"]).toMatchObject({ availableFrom: Date.UTC(2026, 11, 1), availableUntil: Date.UTC(2027, 2, 1) });
  });

  it("shows the rarity the engine gives, null without a source; a masked milestone's stays masked", () => {
    expect(progressOf([])["slayer_10"]?.rarity).toEqual(rarities["slayer_10"]);
    expect(progressOf([])["first_blood"]?.rarity).toBeNull();
    expect(progressOf([])["secret"]?.rarity).toBeNull();
    expect(progressOf(["secret"])["secret"]?.rarity).toEqual(rarities["secret"]);
    const withoutSource = presentation().progressList({ subject: "p1", counters: new Map(), awards: new Map() }, T0);
    expect(withoutSource.every((milestone) => milestone.rarity === null)).toBe(true);
  });
});

describe("series and rarity in the unlock payload", () => {
  it("carries the series place and the rarity; the next tier is masked when hidden (the payload does not know who holds it)", () => {
    const unlock = presentation(rarityOf).describeUnlock("p1", award("slayer_100"));
    expect(unlock).toMatchObject({ code: "slayer_100", series: { id: "slayer", order: 2, of: 3, next: { masked: true } }, rarity: null });
    const first = presentation(rarityOf).describeUnlock("p1", award("slayer_10"), "de");
    expect(first.series?.next).toEqual({ masked: false, code: "slayer_100", title: "Slayer II", target: 100 });
    expect(first.rarity).toEqual(rarities["slayer_10"]);
    expect(presentation().describeUnlock("p1", award("first_blood"))).toMatchObject({ series: null, rarity: null });
  });

  it("places an inactive tier (a preview of it) among the active ones as if it were active", () => {
    expect(presentation().describeUnlock("(preview)", award("slayer_500")).series).toEqual({
      id: "slayer",
      order: 3,
      of: 4,
      next: { masked: true },
    });
  });
});

describe("the admin catalog", () => {
  it("shows requires, the series with every tier, the period and the rarity of each milestone", () => {
    const catalog = buildMilestoneCatalog(definitions, translator, true, {}, rarityOf);
    const entries = Object.fromEntries(catalog.milestones.map((entry) => [entry.code, entry]));
    expect(entries["champion"]).toMatchObject({ requires: ["slayer_100", "secret"], series: null, availableFrom: null, rarity: null });
    // Admins see hidden tiers too.
    expect(entries["slayer_100"]?.series).toEqual({ id: "slayer", order: 2, of: 3, tiers: ["slayer_10", "slayer_100", "slayer_1000"] });
    expect(entries["slayer_500"]?.series).toEqual({ id: "slayer", order: 3, of: 4, tiers: ["slayer_10", "slayer_100", "slayer_500", "slayer_1000"] });
    expect(entries["winter_hunt"]).toMatchObject({ availableFrom: Date.UTC(2026, 11, 1), availableUntil: Date.UTC(2027, 2, 1) });
    expect(entries["slayer_1000"]?.rarity).toEqual(rarities["slayer_1000"]);
    expect(buildMilestoneCatalog(definitions, translator, true, {}).milestones.every((entry) => entry.rarity === null)).toBe(true);
  });
});
