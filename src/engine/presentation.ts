import type { CompiledMilestones } from "../definitions/compile-milestones.ts";
import type { MilestoneDefinition } from "../definitions/milestone-schema.ts";
import { counterKind } from "../counters/counter-kinds.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import { HIDDEN_DESCRIPTION_KEY, HIDDEN_TITLE_KEY, type Translator } from "../i18n/translator.ts";
import type { AwardRecord } from "../model/award.ts";
import type { MilestoneProgress, ProgressUpdate, RequiredMilestone } from "../model/progress.ts";
import type { Rarity } from "../model/rarity.ts";
import type { SeriesNext, SeriesPosition } from "../model/series-position.ts";
import type { SubjectState } from "../model/subject-state.ts";
import type { UnlockPayload } from "../model/unlock-payload.ts";
import { dayOf } from "../model/utc-day.ts";
import type { CheckProgress } from "../backends/contract/progression-backend.ts";
import type { RuleDisplay } from "../rules/rule-type.ts";
import { displayLayoutOf, periodOf, seriesPlaceOf, type DisplayLayout } from "./display-layout.ts";

/** How rare a milestone is right now (the engine's rarity cache), or null when unknown. */
export type RarityOf = (code: string) => Rarity | null;

/**
 * What players see: unlock payloads and progress lists in a locale, hidden milestones masked until
 * reached, numbers in each rule's display unit (src/rules/<type>.ts `display`), series places, preconditions,
 * seasonal periods and rarity. A masked milestone shows none of those; a hidden next tier stays masked.
 */
export class Presentation {
  private readonly compiled: () => CompiledMilestones;
  private readonly translator: () => Translator;
  private readonly hiddenIcon: string;
  /** Per visible milestone, how its progress is shown; computed once per loaded plan (hot path). */
  private readonly displayCache = new WeakMap<CompiledMilestones, ReadonlyMap<string, RuleDisplay>>();
  /** Series and periods of a loaded plan, computed once per plan. */
  private readonly layoutCache = new WeakMap<CompiledMilestones, DisplayLayout>();
  /** The rarity source (the catalog reads it too). */
  readonly rarity: RarityOf;

  constructor(compiled: () => CompiledMilestones, translator: () => Translator, hiddenIcon: string, rarityOf: RarityOf = () => null) {
    this.compiled = compiled;
    this.translator = translator;
    this.hiddenIcon = hiddenIcon;
    this.rarity = rarityOf;
  }

  definitionOf(code: unknown): MilestoneDefinition {
    const compiled = this.compiled();
    const definition = typeof code === "string" ? compiled.definitions.get(code) : undefined;
    if (definition === undefined) {
      throw new ProgressionError(
        ErrorCode.UnknownMilestone,
        `no milestone with code ${JSON.stringify(code)} is loaded; known codes: ${[...compiled.definitions.keys()].join(", ")}`,
        { code },
      );
    }
    return definition;
  }

  describeUnlock(subject: string, award: AwardRecord, locale?: string): UnlockPayload {
    const definition = this.definitionOf(award.code);
    const compiled = this.compiled();
    const translator = this.translator();
    const resolved = translator.resolveLocale(locale);
    return {
      subject,
      code: definition.code,
      title: translator.text(definition.title, resolved),
      description: translator.text(definition.description, resolved),
      icon: definition.icon,
      animation: definition.animation,
      earnedAt: award.earnedAt,
      retroactive: award.retroactive,
      rewards: definition.rewards,
      claimed: award.claimedAt !== null,
      locale: resolved,
      // Which other tiers the player holds is not known here: a hidden next tier stays masked.
      series: this.seriesPosition(compiled, definition, () => false, translator, resolved),
      rarity: this.rarity(definition.code),
    };
  }

  /** Progress pushes of an apply: visible milestones only, in display units. */
  progressUpdates(of: CompiledMilestones, checks: readonly CheckProgress[]): ProgressUpdate[] {
    const display = this.displayOf(of);
    const updates: ProgressUpdate[] = [];
    for (const check of checks) {
      const shown = display.get(check.code);
      if (shown !== undefined) updates.push({ code: check.code, current: shown.current(check.current), target: shown.target });
    }
    return updates;
  }

  /** Every active milestone of a subject, as its snapshot shows them. */
  progressList(state: SubjectState, now: number, locale?: string): MilestoneProgress[] {
    const compiled = this.compiled();
    const translator = this.translator();
    const resolved = translator.resolveLocale(locale);
    const layout = this.layoutOf(compiled);
    const awarded = (code: string): boolean => state.awards.has(code);
    const list: MilestoneProgress[] = [];
    for (const definition of compiled.definitions.values()) {
      const measure = compiled.measures.get(definition.code);
      if (!definition.active || measure === undefined) continue;
      const award = state.awards.get(definition.code);
      const counter = state.counters.get(measure.counterId);
      const target = measure.display.target;
      const measured = counter === undefined || counter.kind !== measure.kind ? 0 : counterKind(counter.kind).measureState(counter, measure.check, dayOf(now));
      // An award is a receipt: a reached milestone shows as complete even if its window moved on.
      const current = award !== undefined ? Math.max(target, measure.display.current(measured)) : measure.display.current(measured);
      const masked = definition.hidden && award === undefined;
      list.push({
        code: definition.code,
        masked,
        title: translator.text(masked ? HIDDEN_TITLE_KEY : definition.title, resolved),
        description: translator.text(masked ? HIDDEN_DESCRIPTION_KEY : definition.description, resolved),
        icon: masked ? this.hiddenIcon : definition.icon,
        animation: masked ? { kind: "confetti" } : definition.animation,
        current: masked ? 0 : current,
        target: masked ? 0 : target,
        status: award === undefined ? "in_progress" : award.claimedAt === null ? "completed" : "claimed",
        earnedAt: award?.earnedAt ?? null,
        claimedAt: award?.claimedAt ?? null,
        retroactive: award?.retroactive ?? false,
        rewards: masked ? [] : definition.rewards,
        ...(masked
          ? { series: null, requires: [], availableFrom: null, availableUntil: null, rarity: null }
          : {
              series: this.seriesPosition(compiled, definition, awarded, translator, resolved),
              requires: this.requirements(compiled, definition, awarded, translator, resolved),
              ...periodOf(layout, definition.code),
              rarity: this.rarity(definition.code),
            }),
      });
    }
    return list;
  }

  private seriesPosition(
    compiled: CompiledMilestones,
    definition: MilestoneDefinition,
    awarded: (code: string) => boolean,
    translator: Translator,
    locale: string,
  ): SeriesPosition | null {
    const place = seriesPlaceOf(this.layoutOf(compiled), definition);
    if (place === undefined || definition.series === undefined) return null;
    const following = place.tiers[place.index + 1];
    let next: SeriesNext | null = null;
    if (following !== undefined) {
      next =
        following.hidden && !awarded(following.code)
          ? { masked: true }
          : { masked: false, code: following.code, title: translator.text(following.title, locale), target: compiled.measures.get(following.code)?.display.target ?? 0 };
    }
    return { id: definition.series.id, order: place.index + 1, of: place.tiers.length, next };
  }

  private requirements(
    compiled: CompiledMilestones,
    definition: MilestoneDefinition,
    awarded: (code: string) => boolean,
    translator: Translator,
    locale: string,
  ): RequiredMilestone[] {
    return definition.requires.map((code) => {
      const required = compiled.definitions.get(code);
      const held = awarded(code);
      // A hidden precondition shows the hidden title until the player holds it; an unknown code (refused at load) its code.
      const title = required === undefined ? code : translator.text(required.hidden && !held ? HIDDEN_TITLE_KEY : required.title, locale);
      return { code, title, awarded: held };
    });
  }

  private layoutOf(of: CompiledMilestones): DisplayLayout {
    let layout = this.layoutCache.get(of);
    if (layout === undefined) {
      layout = displayLayoutOf(of.definitions.values());
      this.layoutCache.set(of, layout);
    }
    return layout;
  }

  private displayOf(of: CompiledMilestones): ReadonlyMap<string, RuleDisplay> {
    let display = this.displayCache.get(of);
    if (display === undefined) {
      display = new Map(
        [...of.measures].filter(([code]) => of.definitions.get(code)?.hidden === false).map(([code, measure]) => [code, measure.display] as const),
      );
      this.displayCache.set(of, display);
    }
    return display;
  }
}
