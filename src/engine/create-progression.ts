import type { SubjectApply, SubjectApplyResult } from "../backends/contract/progression-backend.ts";
import { createMemoryBackend } from "../backends/memory/memory-backend.ts";
import { compileMilestones, type CompiledMilestones } from "../definitions/compile-milestones.ts";
import { loadDefinitions } from "../definitions/load-definitions.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import { InProcessEventBus } from "../events/in-process-event-bus.ts";
import { loadCatalogs } from "../i18n/load-catalogs.ts";
import { Translator } from "../i18n/translator.ts";
import type { ClaimedMilestone, SubjectEffects } from "../model/effects.ts";
import { noEffectsFor } from "../model/effects.ts";
import type { GameplayEvent } from "../model/gameplay-event.ts";
import type { UnlockPayload } from "../model/unlock-payload.ts";
import { requireKey, requireSubject, requireTime } from "../model/validate-input.ts";
import type { CustomEvaluator } from "../rules/custom-evaluator.ts";
import { CoalescingBuffer } from "../runtime/coalescing-buffer.ts";
import { InProcessAwardJournal } from "./in-process-award-journal.ts";
import type { AwardProvenance, AwardProvenanceSource } from "../model/award-provenance.ts";
import { domainEventsOf } from "../runtime/domain-events.ts";
import { EffectsStream } from "../runtime/effects-stream.ts";
import type { PendingBatch } from "../runtime/event-buffer.ts";
import { timerHoldExpiry } from "../runtime/hold-expiry.ts";
import { compileStatGuards, StatGuardGate } from "../runtime/stat-guards.ts";
import { createLedger } from "./ledger.ts";
import { Presentation } from "./presentation.ts";
import type { ClaimOutcome, Progression, SubjectOutcome } from "./progression.ts";
import { missingTranslationsWarning, progressionDefaults, type ProgressionOptions } from "./progression-options.ts";
import { describeError } from "../logging/logger.ts";
import { Backfill, type SeededSubject } from "../history/backfill.ts";
import { countedRollups, replayCounters, selectorsOf } from "../history/replay-counters.ts";
import { Simulation } from "../history/simulate.ts";
import { RawEventCapture, type TouchableBuffer } from "../runtime/raw-event-capture.ts";
import { resolveRawEvents } from "../history/raw-events.ts";
import { buildMilestoneCatalog, statsOf } from "./milestone-catalog.ts";
import { RarityCache, raritySettings } from "./rarity-cache.ts";

/** Players read per page by `simulate`. */
const SIMULATION_PAGE = 500;

/**
 * Creates the engine: definitions and catalogs are loaded and validated now (a bad one throws before
 * anything runs); the backend defaults to memory, the event bus to in-process, hold expiry to a timer.
 * Every state change is announced once on `effects`; the domain events are derived from it.
 */
export function createProgression(options: ProgressionOptions): Progression {
  if (typeof options !== "object" || options === null) {
    throw new ProgressionError(ErrorCode.InvalidInput, 'createProgression needs options: createProgression({ definitions: [...] or "path/to/milestones.json" })', {});
  }
  const settings = { ...progressionDefaults, ...definedOnly(options) };
  const clock = settings.clock;
  const evaluators = new Map<string, CustomEvaluator>(Object.entries(options.evaluators ?? {}));

  let compiled: CompiledMilestones = compileMilestones(loadDefinitions(options.definitions), evaluators);
  const guardOptions = compileStatGuards(options.statGuards);
  const rawEvents = resolveRawEvents(options.historyRawEvents, settings.history);
  let translator = new Translator(
    options.catalogs === undefined
      ? { defaultLocale: settings.defaultLocale, locales: { [settings.defaultLocale]: {} } }
      : loadCatalogs(options.catalogs, settings.defaultLocale),
  );
  const logger = settings.logger;
  // Without catalogs the texts are shown as written: nothing is missing.
  let hasCatalogs = options.catalogs !== undefined;
  const reportMissing = (): void => {
    if (!hasCatalogs) return;
    const missing = translator.missingKeys(compiled.definitions.values());
    if (options.onMissingTranslations !== undefined) options.onMissingTranslations(missing);
    else {
      const warning = missingTranslationsWarning(missing);
      if (warning !== undefined) logger.warn(warning);
    }
  };
  reportMissing();

  const backend = options.backend ?? createMemoryBackend();
  const events =
    options.events ??
    new InProcessEventBus({
      onFailure: (failure) => logger.error(`listener ${failure.listenerName} failed on ${failure.envelope.topic} ${failure.envelope.id}: ${describeError(failure.error)}`),
    });
  const effects = new EffectsStream((error) => logger.warn(`an effects listener failed: ${describeError(error)}`));
  effects.subscribe(domainEventsOf(events));
  // Embedded, this process makes every award and can say which batch made each; with Redis, durability
  // attaches its PostgreSQL award journal (`useAwardJournal`).
  const embeddedJournal = backend.kind === "memory" ? new InProcessAwardJournal() : undefined;
  if (embeddedJournal !== undefined) effects.subscribe(embeddedJournal.listener);
  let awardJournal: AwardProvenanceSource | undefined = embeddedJournal;
  const holdExpiry = options.holdExpiry ?? timerHoldExpiry({ onError: (error) => logger.warn(`hold expiry sweep failed: ${describeError(error)}`) });
  const instruments = options.instruments ?? {};
  const statGuards = new StatGuardGate(guardOptions, { events, instruments, logger });
  const rarity = new RarityCache(backend, () => [...compiled.definitions.keys()], clock, raritySettings(options.rarity), logger);
  const presentation = new Presentation(() => compiled, () => translator, settings.hiddenIcon, (code) => rarity.rarityOf(code));
  const ledger = createLedger(backend, effects, holdExpiry, clock, { ...settings, instruments });
  holdExpiry.attach({ expireHolds: (limit) => ledger.expireHolds(limit) });
  const backfill = new Backfill(backend, () => compiled, clock, rawEvents);
  const announceSeeded = (seeded: SeededSubject): void => {
    const claimed: ClaimedMilestone[] = [];
    for (const award of seeded.reached) {
      if (award.claimedAt !== null) claimed.push({ code: award.code, rewards: compiled.definitions.get(award.code)?.rewards ?? [], claimedAt: award.claimedAt, auto: true });
    }
    if (seeded.reached.length === 0 && seeded.balances.length === 0) return;
    const at = clock();
    effects.publish({
      cause: "backfill",
      key: `backfill:${seeded.subject}:${at}`,
      at,
      replayed: false,
      subjects: [{ ...noEffectsFor(seeded.subject), reached: seeded.reached, claimed, inventory: seeded.balances }],
      ...(claimed.length > 0 ? { detail: `autoClaim of ${claimed.map((c) => c.code).join(", ")} (backfill from history)` } : {}),
    });
  };
  /** An award's provenance from the journal; a journal that cannot answer (PostgreSQL down) leaves it unknown. */
  const provenanceOf = async (subject: string, code: string): Promise<AwardProvenance | null> => {
    try {
      return (await awardJournal?.provenance(subject, code)) ?? null;
    } catch (error) {
      logger.warn(`explain: the award journal could not say what made ${JSON.stringify(code)} of ${JSON.stringify(subject)}: ${describeError(error)}`);
      return null;
    }
  };
  const closeHooks: (() => Promise<void> | void)[] = [];
  const eraseHooks: ((subject: string) => Promise<void> | void)[] = [];
  let closing: Promise<void> | undefined;

  const ensureOpen = (): void => {
    if (closing !== undefined) throw new ProgressionError(ErrorCode.Closed, "this progression engine is closed; create a new one with createProgression()");
  };

  /** `catchUp`: a snapshot follows at once, so its progress is not announced as pushes. */
  const applyBatch = async (batch: PendingBatch, applyOptions: { readonly retried?: boolean; readonly catchUp?: boolean } = {}): Promise<readonly SubjectOutcome[]> => {
    ensureOpen();
    const current = compiled;
    // Increments routed before a reload may name counters the new plan dropped: they count nowhere.
    const subjects: readonly SubjectApply[] =
      batch.planVersion === current.plan.version
        ? batch.subjects
        : batch.subjects.map((apply) => ({ ...apply, increments: apply.increments.filter((increment) => current.plan.counters.has(increment.counter)) }));
    await backfill.register(current);
    const now = clock();
    const applied = await backend.apply({ batchId: batch.batchId, now, plan: current.plan, subjects });
    statGuards.reportBreaches(applied, batch.batchId, now);
    // A duplicate carries what the batch's first apply did (the backend's outbox). Announced only when the
    // caller says its earlier call failed (`retried`): that call announced nothing, so this is the one time.
    const results = applyOptions.retried === true ? applied : applied.map((result) => (result.duplicate ? unannounced(result) : result));
    const announced: SubjectEffects[] = [];
    const outcomes = results.map((result): SubjectOutcome => {
      const progress = presentation.progressUpdates(current, result.progress);
      const claimed: ClaimedMilestone[] = [];
      for (const award of result.reached) {
        if (award.claimedAt !== null) claimed.push({ code: award.code, rewards: current.definitions.get(award.code)?.rewards ?? [], claimedAt: award.claimedAt, auto: true });
      }
      const announcedProgress = applyOptions.catchUp === true ? [] : progress;
      if (result.reached.length > 0 || announcedProgress.length > 0 || result.balances.length > 0) {
        announced.push({ ...noEffectsFor(result.subject), reached: result.reached, claimed, progress: announcedProgress, inventory: result.balances });
      }
      return { subject: result.subject, reached: result.reached, progress, inventory: result.balances };
    });
    const autoClaimed = announced.flatMap((subject) => subject.claimed.map((claimed) => claimed.code));
    effects.publish({ cause: "apply", key: batch.batchId, at: now, replayed: false, subjects: announced, ...(autoClaimed.length > 0 ? { detail: `autoClaim of ${[...new Set(autoClaimed)].join(", ")}` } : {}) });
    return outcomes;
  };

  const newBuffer = (): TouchableBuffer => {
    const buffer = new CoalescingBuffer(() => compiled, clock, settings.coalesceMs, settings.history, statGuards);
    return rawEvents === undefined ? buffer : new RawEventCapture(buffer, clock, rawEvents);
  };

  const recordBatch = async (input: readonly GameplayEvent[], locale?: string): Promise<readonly UnlockPayload[]> => {
    ensureOpen();
    if (!Array.isArray(input)) throw new ProgressionError(ErrorCode.InvalidInput, "recordBatch expects an array of events", {});
    const buffer = newBuffer();
    for (const event of input) buffer.add(event); // throws on the first bad event; nothing applied yet
    const outcomes = await applyBatch(buffer.drain());
    return outcomes.flatMap((outcome) => outcome.reached.map((award) => presentation.describeUnlock(outcome.subject, award, locale)));
  };

  const progression: Progression = {
    backend,
    events,
    effects,
    ledger,
    logger,
    instruments,
    get defaultLocale() {
      return translator.defaultLocale;
    },

    record: (event, locale) => recordBatch([event], locale),
    recordBatch,
    createBuffer: newBuffer,
    applyBatch: (batch, applyOptions) => applyBatch(batch, { retried: applyOptions?.retried === true }),

    async progress(subject, locale) {
      ensureOpen();
      requireSubject(subject);
      const [state] = await Promise.all([backend.readState(subject), rarity.warm()]);
      return presentation.progressList(state, clock(), locale);
    },

    async catchUp(subject, catchUpOptions = {}) {
      ensureOpen();
      requireSubject(subject);
      const at = catchUpOptions.at === undefined ? clock() : requireTime(catchUpOptions.at, "at");
      // Milestones added since the subject's counters were complete are backfilled from history first.
      const seeded = settings.history ? await backfill.seedSubject(subject) : null;
      if (seeded !== null) announceSeeded(seeded);
      const buffer = newBuffer();
      buffer.add({ type: settings.loginTrigger, subject, at });
      buffer.touch(subject);
      const batch = buffer.drain();
      const outcomes = await applyBatch({ ...batch, subjects: batch.subjects.map((apply) => ({ ...apply, catchUp: true })) }, { catchUp: true });
      const reached = [...(seeded?.reached ?? []), ...outcomes.flatMap((outcome) => outcome.reached)];
      return reached.map((award) => presentation.describeUnlock(subject, award, catchUpOptions.locale));
    },

    async backfill(backfillOptions = {}) {
      ensureOpen();
      return backfill.backfillAll({ ...backfillOptions, onSeeded: announceSeeded });
    },

    async rebuild(subject) {
      ensureOpen();
      requireSubject(subject);
      const seeded = await backfill.seedSubject(subject, { rebuild: true });
      if (seeded === null) throw new ProgressionError(ErrorCode.BackendUnavailable, `rebuild of ${JSON.stringify(subject)}: the subject kept changing while its history was replayed; try again`, { subject });
      announceSeeded(seeded);
      return seeded.reached.map((award) => presentation.describeUnlock(subject, award));
    },

    async history(subject) {
      ensureOpen();
      requireSubject(subject);
      // Only the rollup's own fields (merged rollups may be the stored part objects).
      return (await backfill.read(subject)).rollups.map(({ type, tags, day, count, sum, firstAt, lastAt, maxAmount }) => ({ type, tags, day, count, sum, firstAt, lastAt, maxAmount }));
    },

    async simulate(definitions) {
      ensureOpen();
      // Every invalid definition is reported at once (loadDefinitions); nothing runs on a bad set.
      const next = compileMilestones(loadDefinitions(definitions), evaluators);
      const simulation = new Simulation(compiled, next, clock());
      // Only what the new plan's counters can count is read.
      const selection = selectorsOf(next, [...next.plan.counters.values()]);
      const read = (subjects: readonly string[]) => Promise.all([backfill.readMany(subjects, selection), Promise.all(subjects.map((subject) => backend.readState(subject)))]);
      // The next page is listed and read while this one is replayed.
      let page = await backend.historySubjects("0", SIMULATION_PAGE);
      let reading = read(page.subjects);
      for (;;) {
        const next = page.cursor === "0" ? undefined : await backend.historySubjects(page.cursor, SIMULATION_PAGE);
        const nextReading = next === undefined ? undefined : read(next.subjects);
        nextReading?.catch(() => undefined); // awaited below; a failure of this page must not leave it unobserved
        const [histories, states] = await reading;
        for (const state of states) simulation.add(state.subject, histories.get(state.subject)?.rollups ?? [], state.awards);
        if (next === undefined || nextReading === undefined) return simulation.report();
        page = next;
        reading = nextReading;
      }
    },

    async explain(subject, code) {
      ensureOpen();
      requireSubject(subject);
      const definition = presentation.definitionOf(code);
      const current = compiled;
      const measure = current.measures.get(definition.code);
      const [history, state] = [await backfill.read(subject), await backend.readState(subject)];
      const spec = measure === undefined ? undefined : current.plan.counters.get(measure.counterId);
      // Inactive milestones have no check in the plan; explain still replays theirs.
      const withCheck = spec === undefined || measure === undefined ? undefined : { ...spec, checks: [measure.check] };
      const replayed = withCheck === undefined ? undefined : replayCounters(current, [withCheck], subject, history.rollups)[0];
      return {
        subject,
        code: definition.code,
        trigger: definition.trigger,
        rule: definition.rule,
        active: definition.active,
        award: state.awards.get(definition.code) ?? null,
        provenance: state.awards.has(definition.code) ? await provenanceOf(subject, definition.code) : null,
        counter: measure === undefined ? null : (state.counters.get(measure.counterId) ?? null),
        history: withCheck === undefined ? [] : countedRollups(current, withCheck, subject, history.rollups),
        historyMetAt: replayed?.met[0]?.earnedAt ?? null,
      };
    },

    useHistoryArchive(archive) {
      backfill.useArchive(archive);
    },

    useAwardJournal(journal) {
      awardJournal = journal;
    },

    async claim(subject, code, idempotencyKey, locale): Promise<ClaimOutcome> {
      ensureOpen();
      requireSubject(subject);
      const definition = presentation.definitionOf(code);
      requireKey(idempotencyKey);
      const now = clock();
      const result = await backend.claim({ subject, code: definition.code, idempotencyKey, rewards: definition.rewards, now });
      effects.publish({
        cause: "claim",
        key: `claim:${subject}:${idempotencyKey}`,
        at: now,
        replayed: result.replayed,
        subjects: [{ ...noEffectsFor(subject), claimed: [{ code: definition.code, rewards: result.rewards, claimedAt: result.claimedAt, auto: false }], inventory: result.balances }],
        detail: `claim of ${definition.code}`,
      });
      const state = await backend.readState(subject);
      const award = state.awards.get(definition.code) ?? { code: definition.code, earnedAt: result.claimedAt, retroactive: false, claimedAt: result.claimedAt };
      return { ...result, unlock: presentation.describeUnlock(subject, award, locale) };
    },

    preview(code, locale) {
      const definition = presentation.definitionOf(code);
      return presentation.describeUnlock("(preview)", { code: definition.code, earnedAt: clock(), retroactive: false, claimedAt: null }, locale);
    },

    describeUnlock: (subject, award, locale) => presentation.describeUnlock(subject, award, locale),

    reload(update) {
      ensureOpen();
      // Build everything first: a bad definition or catalog leaves the running engine untouched.
      const nextCompiled = update.definitions === undefined ? compiled : compileMilestones(loadDefinitions(update.definitions), evaluators);
      const nextTranslator = update.catalogs === undefined ? translator : new Translator(loadCatalogs(update.catalogs, translator.defaultLocale));
      compiled = nextCompiled;
      translator = nextTranslator;
      hasCatalogs ||= update.catalogs !== undefined;
      reportMissing();
    },

    milestoneCodes: () => [...compiled.definitions.keys()],

    async rarity() {
      ensureOpen();
      return Object.fromEntries(await rarity.read());
    },

    async milestoneStats() {
      ensureOpen();
      const current = compiled;
      return statsOf(current.definitions.values(), await backend.milestoneStats());
    },

    async milestoneCatalog() {
      ensureOpen();
      // One definition set and one translator for the whole answer, even if a reload lands meanwhile.
      const [current, texts, withCatalogs] = [compiled, translator, hasCatalogs];
      // The admin sees the rarity read now (it refreshes the cache pushes read from too).
      const [counts] = await Promise.all([backend.milestoneStats(), rarity.read()]);
      return buildMilestoneCatalog(current.definitions.values(), texts, withCatalogs, statsOf(current.definitions.values(), counts), presentation.rarity);
    },

    async erase(subject) {
      ensureOpen();
      requireSubject(subject);
      // The durable copies first: a backend that later misses the subject must find no snapshot to restore.
      for (const hook of eraseHooks) await hook(subject);
      await backend.eraseSubject(subject);
      embeddedJournal?.erase(subject);
    },

    onErase(hook) {
      ensureOpen();
      eraseHooks.push(hook);
    },

    onSuspicious: (listener) => statGuards.subscribe(listener),

    onClose(hook) {
      ensureOpen();
      closeHooks.push(hook);
    },

    close() {
      closing ??= (async () => {
        await holdExpiry.close();
        for (const hook of [...closeHooks].reverse()) await hook();
        await events.close();
        await backend.close();
      })();
      return closing;
    },
  };
  return progression;
}

/** A duplicate whose outcome was already announced (its first reply arrived): nothing to report. */
function unannounced(result: SubjectApplyResult): SubjectApplyResult {
  return { ...result, reached: [], progress: [], balances: [] };
}

/** Drops keys explicitly set to undefined so they don't override defaults. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
