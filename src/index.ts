/**
 * `colyseus-progression`: the engine, its embedded (in-memory) backend and the in-process event bus.
 * Free of Colyseus, and it loads no Redis, BullMQ or PostgreSQL client: those are in
 * `colyseus-progression/redis` and `colyseus-progression/durability`; the room plugin is in
 * `colyseus-progression/colyseus`.
 */
export { createProgression } from "./engine/create-progression.ts";
export { progressionDefaults, type ProgressionOptions } from "./engine/progression-options.ts";
export type { ClaimOutcome, Progression, ProgressionEffects, ProgressionLedger, SubjectOutcome } from "./engine/progression.ts";
export type { CatalogSeries, MilestoneCatalog, MilestoneCatalogEntry, MilestoneTexts } from "./engine/milestone-catalog.ts";

export { createRecorder, Recorder, type RecorderStats, type RecordingEngine } from "./runtime/recorder.ts";
export { recorderDefaults, type RecorderErrorReport, type RecorderOptions } from "./runtime/recorder-options.ts";
export { describeSuspicious, type StatGuard, type StatGuards, type SuspiciousEvent, type SuspiciousListener } from "./runtime/stat-guards.ts";
export type { EventBuffer, PendingBatch } from "./runtime/event-buffer.ts";
export { timerHoldExpiry, timerHoldExpiryDefaults, type HoldExpiry, type HoldExpiryTarget, type TimerHoldExpiryOptions } from "./runtime/hold-expiry.ts";

export type { AwardRecord } from "./model/award.ts";
export type { Balance } from "./model/balance.ts";
export type { ClaimedMilestone, Effects, EffectsCause, SubjectEffects } from "./model/effects.ts";
export type { CounterKind, CounterState } from "./model/counter-state.ts";
export type { CounterPlan, CounterSpec, ThresholdCheck } from "./model/counter-plan.ts";
export type { GameplayEvent } from "./model/gameplay-event.ts";
export type { HoldRecord, HoldState } from "./model/hold.ts";
export type { Animation, Reward } from "./model/milestone.ts";
export type { MilestoneProgress, MilestoneStatus, ProgressUpdate, RequiredMilestone } from "./model/progress.ts";
export type { SeriesNext, SeriesPosition } from "./model/series-position.ts";
export type { MilestoneCounts } from "./model/milestone-stats.ts";
export type { SubjectLoader, SubjectSnapshot, SubjectState } from "./model/subject-state.ts";
export type { UnlockPayload } from "./model/unlock-payload.ts";

export { loadDefinitions } from "./definitions/load-definitions.ts";
export type { MilestoneDefinition, MilestoneDefinitionInput, Rule } from "./definitions/milestone-schema.ts";
export type { CustomEvaluator, EvaluatorParams, ValidatedEvent } from "./rules/custom-evaluator.ts";
export { loadCatalogs } from "./i18n/load-catalogs.ts";
export type { TranslationCatalog, TranslationCatalogs } from "./i18n/translation-catalogs.ts";
export { ErrorCode } from "./errors/error-codes.ts";
export { ProgressionError, isProgressionError } from "./errors/progression-error.ts";

export type * from "./backends/contract/progression-backend.ts";
export type * from "./backends/contract/ledger-backend.ts";
export { createMemoryBackend, memoryBackendDefaults, type MemoryBackendOptions } from "./backends/memory/memory-backend.ts";

export { InProcessEventBus, type InProcessEventBusOptions, type ListenerFailure } from "./events/in-process-event-bus.ts";
export type { DomainEventBus, DomainListener } from "./events/domain-event-bus.ts";
export { domainTopics, type DomainEnvelope, type DomainTopic, type DomainTopics } from "./events/domain-topics.ts";
