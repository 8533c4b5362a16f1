/**
 * `colyseus-progression/durability`: Redis mode's durable side. PostgreSQL snapshots and restore,
 * BullMQ jobs (snapshots, hold expiry) and the BullMQ domain-event bus. Loads BullMQ and pg.
 */
export { createDurability, durabilityDefaults, type Durability, type DurabilityOptions, type DurableEngine } from "./create-durability.ts";
export { createPostgresStore, POSTGRES_STORE_DEFAULTS, type PostgresStore, type PostgresStoreOptions } from "./postgres/postgres-store.ts";
export { BullMQEventBus, bullmqEventBusDefaults, type BullMQEventBusOptions, type DeliveryFailure } from "./events/bullmq-event-bus.ts";
export { adaptiveScheduleDefaults, type AdaptiveSchedule } from "./jobs/adaptive-schedule.ts";
export {
  createPostgresHistoryArchive,
  HISTORY_PARTITION_DAYS,
  type HistoryArchiveOptions,
  type HistoryPartition,
  type PostgresHistoryArchive,
} from "./postgres/history-archive.ts";
