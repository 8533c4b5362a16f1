// Public API of colyseus-progression's engine (no Colyseus imports here; the plugin lives in plugins/).
export { createProgression } from "./engine/create-progression.ts";
export { progressionDefaults, type ProgressionOptions } from "./engine/progression-options.ts";
export type {
  ClaimOutcome,
  EventBuffer,
  MilestoneProgress,
  MilestoneStatus,
  PendingBatch,
  Progression,
  ProgressionLedger,
  ProgressUpdate,
  SubjectOutcome,
} from "./engine/progression.ts";
export type { GameplayEvent } from "./engine/gameplay-event.ts";
export type { UnlockPayload } from "./engine/unlock-payload.ts";
export { loadDefinitions } from "./definitions/load-definitions.ts";
export type { Animation, MilestoneDefinition, MilestoneDefinitionInput, Reward, Rule } from "./definitions/milestone-schema.ts";
export { loadCatalogs } from "./i18n/load-catalogs.ts";
export type { TranslationCatalog, TranslationCatalogs } from "./i18n/translation-catalogs.ts";
export type { CustomEvaluator, EvaluatorParams, ValidatedEvent } from "./rules/custom-evaluator.ts";
export { ErrorCode } from "./errors/error-codes.ts";
export { ProgressionError, isProgressionError } from "./errors/progression-error.ts";
export { createMemoryBackend, memoryBackendDefaults, type MemoryBackendOptions } from "./store/memory/memory-backend.ts";
export type * from "./store/progression-backend.ts";
export type * from "./ledger/ledger-backend.ts";
export { InProcessEventBus, type InProcessEventBusOptions, type ListenerFailure } from "./events/in-process-event-bus.ts";
export type { DomainEventBus, DomainListener } from "./events/domain-event-bus.ts";
export { domainTopics, type DomainEnvelope, type DomainTopic, type DomainTopics } from "./events/domain-topics.ts";
export { createRedisBackend } from "./store/redis/create-redis-backend.ts";
export { REDIS_BACKEND_DEFAULTS, type RedisBackendOptions } from "./store/redis/redis-backend-options.ts";
export { createDurability, durabilityDefaults, type Durability, type DurabilityOptions, type DurableEngine } from "./durability/create-durability.ts";
export { createPostgresStore, POSTGRES_STORE_DEFAULTS, type PostgresStore, type PostgresStoreOptions } from "./durability/postgres-store.ts";
export { BullMQEventBus, bullmqEventBusDefaults, type BullMQEventBusOptions, type DeliveryFailure } from "./events/bullmq/bullmq-event-bus.ts";
export { adaptiveScheduleDefaults, type AdaptiveSchedule } from "./jobs/adaptive-schedule.ts";
