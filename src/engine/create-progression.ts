import type { MilestoneDefinition } from "../definitions/milestone-schema.ts";
import { loadDefinitions } from "../definitions/load-definitions.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import { InProcessEventBus } from "../events/in-process-event-bus.ts";
import { loadCatalogs } from "../i18n/load-catalogs.ts";
import { HIDDEN_DESCRIPTION_KEY, HIDDEN_TITLE_KEY, Translator } from "../i18n/translator.ts";
import { compileMilestones, type CompiledMilestones } from "../definitions/compile-milestones.ts";
import { counterKind } from "../counters/counter-kinds.ts";
import { dayOf } from "../model/utc-day.ts";
import type { RuleDisplay } from "../rules/rule-type.ts";
import type { CustomEvaluator } from "../rules/custom-evaluator.ts";
import { createMemoryBackend } from "../backends/memory/memory-backend.ts";
import type { AwardRecord } from "../model/award.ts";
import type { SubjectApply, SubjectApplyResult } from "../backends/contract/progression-backend.ts";
import { CoalescingBuffer } from "../runtime/coalescing-buffer.ts";
import type { GameplayEvent } from "../model/gameplay-event.ts";
import { createLedgerFacade, emitBalances } from "./ledger-facade.ts";
import type { ClaimOutcome, PendingBatch, Progression, SubjectOutcome } from "./progression.ts";
import type { MilestoneProgress, ProgressUpdate } from "../model/progress.ts";
import { progressionDefaults, type ProgressionOptions } from "./progression-options.ts";
import type { UnlockPayload } from "../model/unlock-payload.ts";
import { requireKey, requireSubject, requireTime } from "../model/validate-input.ts";

/**
 * Creates the engine: definitions and catalogs are loaded and validated now (a bad one throws
 * before anything runs), the backend defaults to memory and the event bus to in-process.
 */
export function createProgression(options: ProgressionOptions): Progression {
  if (typeof options !== "object" || options === null) {
    throw new ProgressionError(ErrorCode.InvalidInput, "createProgression needs options: createProgression({ definitions: [...] or \"path/to/milestones.json\" })", {});
  }
  const settings = { ...progressionDefaults, ...definedOnly(options) };
  const clock = settings.clock;
  const evaluators = new Map<string, CustomEvaluator>(Object.entries(options.evaluators ?? {}));
  const backend = options.backend ?? createMemoryBackend();
  const events = options.events ?? new InProcessEventBus();

  let compiled: CompiledMilestones = compileMilestones(loadDefinitions(options.definitions), evaluators);
  let translator = new Translator(
    options.catalogs === undefined
      ? { defaultLocale: settings.defaultLocale, locales: { [settings.defaultLocale]: {} } }
      : loadCatalogs(options.catalogs, settings.defaultLocale),
  );
  settings.onMissingTranslations(translator.missingKeys(compiled.definitions.values()));
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new ProgressionError(ErrorCode.Closed, "this progression engine is closed; create a new one with createProgression()");
  };

  const definitionOf = (code: unknown): MilestoneDefinition => {
    const definition = typeof code === "string" ? compiled.definitions.get(code) : undefined;
    if (definition === undefined) {
      throw new ProgressionError(ErrorCode.UnknownMilestone, `no milestone with code ${JSON.stringify(code)} is loaded; known codes: ${[...compiled.definitions.keys()].join(", ")}`, { code });
    }
    return definition;
  };

  const describeUnlock = (subject: string, award: AwardRecord, locale?: string): UnlockPayload => {
    const definition = definitionOf(award.code);
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
  };

  /** Per visible milestone, how its progress is shown; computed once per loaded plan (hot path). */
  const displayCache = new WeakMap<CompiledMilestones, ReadonlyMap<string, RuleDisplay>>();
  const progressDisplay = (of: CompiledMilestones): ReadonlyMap<string, RuleDisplay> => {
    let display = displayCache.get(of);
    if (display === undefined) {
      display = new Map(
        [...of.measures].filter(([code]) => of.definitions.get(code)?.hidden === false).map(([code, measure]) => [code, measure.display] as const),
      );
      displayCache.set(of, display);
    }
    return display;
  };

  const applyBatch = async (batch: PendingBatch): Promise<readonly SubjectOutcome[]> => {
    ensureOpen();
    const current = compiled;
    // Increments routed before a reload may name counters the new plan dropped: they count nowhere.
    const subjects: readonly SubjectApply[] =
      batch.planVersion === current.plan.version
        ? batch.subjects
        : batch.subjects.map((apply) => ({
            ...apply,
            increments: apply.increments.filter((increment) => current.plan.counters.has(increment.counter)),
          }));
    const display = progressDisplay(current);
    const now = clock();
    let results: readonly SubjectApplyResult[];
    try {
      results = await backend.apply({ batchId: batch.batchId, now, plan: current.plan, subjects });
    } catch (error) {
      rememberFailedBatch(batch.batchId);
      throw error;
    }
    if (failedBatchIds.delete(batch.batchId)) results = await recoverLostAwards(results, subjects);
    return results.map((result) => {
      for (const award of result.reached) {
        events.emit("milestone.reached", `milestone.reached:${result.subject}:${award.code}`, { subject: result.subject, code: award.code, earnedAt: award.earnedAt, retroactive: award.retroactive }, award.earnedAt);
        if (award.claimedAt !== null) {
          const rewards = current.definitions.get(award.code)?.rewards ?? [];
          events.emit("reward.claimed", `reward.claimed:${result.subject}:${award.code}`, { subject: result.subject, code: award.code, rewards, claimedAt: award.claimedAt, auto: true }, award.claimedAt);
        }
      }
      emitBalances(events, "claim", `autoclaim:${batch.batchId}`, result.balances, now);
      const progress: ProgressUpdate[] = [];
      for (const check of result.progress) {
        const shown = display.get(check.code);
        if (shown === undefined) continue;
        progress.push({ code: check.code, current: shown.current(check.current), target: shown.target });
      }
      return { subject: result.subject, reached: result.reached, progress, inventory: result.balances };
    });
  };

  /**
   * A retried batch whose first attempt was applied but whose reply was lost comes back as a
   * duplicate: nothing changes (right), but the awards it earned were never reported. They are
   * recovered from the stored state — awards stamped within the batch's time range for that subject —
   * so unlocks and milestone.reached still go out once. (Retroactive awards, stamped earlier, and
   * autoClaim balances are not recovered; the next snapshot or catch-up shows them.)
   */
  const failedBatchIds = new Set<string>();
  const rememberFailedBatch = (batchId: string): void => {
    failedBatchIds.add(batchId);
    if (failedBatchIds.size > 1024) failedBatchIds.delete(failedBatchIds.values().next().value as string);
  };
  const recoverLostAwards = async (results: readonly SubjectApplyResult[], subjects: readonly SubjectApply[]): Promise<readonly SubjectApplyResult[]> => {
    const bySubject = new Map(subjects.map((apply) => [apply.subject, apply]));
    return Promise.all(
      results.map(async (result) => {
        const increments = bySubject.get(result.subject)?.increments ?? [];
        if (!result.duplicate || increments.length === 0) return result;
        const from = Math.min(...increments.map((increment) => increment.at));
        const to = Math.max(...increments.map((increment) => increment.at));
        const state = await backend.readState(result.subject);
        const reached = [...state.awards.values()]
          .filter((award) => !award.retroactive && award.earnedAt >= from && award.earnedAt <= to)
          .sort((a, b) => a.earnedAt - b.earnedAt);
        return { ...result, reached };
      }),
    );
  };

  const recordBatch = async (input: readonly GameplayEvent[], locale?: string): Promise<readonly UnlockPayload[]> => {
    ensureOpen();
    if (!Array.isArray(input)) throw new ProgressionError(ErrorCode.InvalidInput, "recordBatch expects an array of events", {});
    const buffer = new CoalescingBuffer(() => compiled, clock, settings.coalesceMs);
    for (const event of input) buffer.add(event); // throws on the first bad event; nothing applied yet
    const outcomes = await applyBatch(buffer.drain());
    return outcomes.flatMap((outcome) => outcome.reached.map((award) => describeUnlock(outcome.subject, award, locale)));
  };

  const progression: Progression = {
    backend,
    events,
    get defaultLocale() {
      return translator.defaultLocale;
    },
    ledger: createLedgerFacade(backend, events, clock, settings),

    record: (event, locale) => recordBatch([event], locale),
    recordBatch,
    createBuffer: () => new CoalescingBuffer(() => compiled, clock, settings.coalesceMs),
    applyBatch,

    async progress(subject, locale) {
      ensureOpen();
      requireSubject(subject);
      const state = await backend.readState(subject);
      const now = clock();
      const resolved = translator.resolveLocale(locale);
      const list: MilestoneProgress[] = [];
      for (const definition of compiled.definitions.values()) {
        if (!definition.active) continue;
        const award = state.awards.get(definition.code);
        const measure = compiled.measures.get(definition.code);
        if (measure === undefined) continue;
        const counter = state.counters.get(measure.counterId);
        const target = measure.display.target;
        let current =
          counter === undefined || counter.kind !== measure.kind ? 0 : measure.display.current(counterKind(counter.kind).measureState(counter, measure.check, dayOf(now)));
        if (award !== undefined && current < target) current = target;
        const masked = definition.hidden && award === undefined;
        list.push({
          code: definition.code,
          masked,
          title: translator.text(masked ? HIDDEN_TITLE_KEY : definition.title, resolved),
          description: translator.text(masked ? HIDDEN_DESCRIPTION_KEY : definition.description, resolved),
          icon: masked ? settings.hiddenIcon : definition.icon,
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
    },

    async catchUp(subject, catchUpOptions = {}) {
      ensureOpen();
      requireSubject(subject);
      const at = catchUpOptions.at === undefined ? clock() : requireTime(catchUpOptions.at, "at");
      const buffer = new CoalescingBuffer(() => compiled, clock, settings.coalesceMs);
      buffer.add({ type: settings.loginTrigger, subject, at });
      buffer.touch(subject);
      const batch = buffer.drain();
      const outcomes = await applyBatch({ ...batch, subjects: batch.subjects.map((apply) => ({ ...apply, catchUp: true })) });
      return outcomes.flatMap((outcome) => outcome.reached.map((award) => describeUnlock(outcome.subject, award, catchUpOptions.locale)));
    },

    async claim(subject, code, idempotencyKey, locale): Promise<ClaimOutcome> {
      ensureOpen();
      requireSubject(subject);
      const definition = definitionOf(code);
      requireKey(idempotencyKey);
      const now = clock();
      const result = await backend.claim({ subject, code: definition.code, idempotencyKey, rewards: definition.rewards, now });
      if (!result.replayed) {
        events.emit("reward.claimed", `reward.claimed:${subject}:${code}`, { subject, code, rewards: result.rewards, claimedAt: result.claimedAt, auto: false }, result.claimedAt);
        emitBalances(events, "claim", `claim:${subject}:${idempotencyKey}`, result.balances, now);
      }
      const state = await backend.readState(subject);
      const award = state.awards.get(code) ?? { code, earnedAt: result.claimedAt, retroactive: false, claimedAt: result.claimedAt };
      return { ...result, unlock: describeUnlock(subject, award, locale) };
    },

    preview(code, locale) {
      const definition = definitionOf(code);
      return describeUnlock("(preview)", { code: definition.code, earnedAt: clock(), retroactive: false, claimedAt: null }, locale);
    },

    describeUnlock,

    reload(update) {
      ensureOpen();
      // Build everything first: a bad definition or catalog leaves the running engine untouched.
      const nextCompiled = update.definitions === undefined ? compiled : compileMilestones(loadDefinitions(update.definitions), evaluators);
      const nextTranslator = update.catalogs === undefined ? translator : new Translator(loadCatalogs(update.catalogs, translator.defaultLocale));
      compiled = nextCompiled;
      translator = nextTranslator;
      settings.onMissingTranslations(translator.missingKeys(compiled.definitions.values()));
    },

    milestoneCodes: () => [...compiled.definitions.keys()],

    async close() {
      if (closed) return;
      closed = true;
      await events.close();
      await backend.close();
    },
  };
  return progression;
}

/** Drops keys explicitly set to undefined so they don't override defaults. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

