import type { CompiledMilestones } from "../definitions/compile-milestones.ts";
import type { MilestoneDefinition } from "../definitions/milestone-schema.ts";
import { counterKind } from "../counters/counter-kinds.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import { HIDDEN_DESCRIPTION_KEY, HIDDEN_TITLE_KEY, type Translator } from "../i18n/translator.ts";
import type { AwardRecord } from "../model/award.ts";
import type { MilestoneProgress, ProgressUpdate } from "../model/progress.ts";
import type { SubjectState } from "../model/subject-state.ts";
import type { UnlockPayload } from "../model/unlock-payload.ts";
import { dayOf } from "../model/utc-day.ts";
import type { CheckProgress } from "../backends/contract/progression-backend.ts";
import type { RuleDisplay } from "../rules/rule-type.ts";

/**
 * What players see: unlock payloads and progress lists in a locale, hidden milestones masked until
 * reached, numbers in each rule's display unit (src/rules/<type>.ts `display`).
 */
export class Presentation {
  private readonly compiled: () => CompiledMilestones;
  private readonly translator: () => Translator;
  private readonly hiddenIcon: string;
  /** Per visible milestone, how its progress is shown; computed once per loaded plan (hot path). */
  private readonly displayCache = new WeakMap<CompiledMilestones, ReadonlyMap<string, RuleDisplay>>();

  constructor(compiled: () => CompiledMilestones, translator: () => Translator, hiddenIcon: string) {
    this.compiled = compiled;
    this.translator = translator;
    this.hiddenIcon = hiddenIcon;
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
      });
    }
    return list;
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
