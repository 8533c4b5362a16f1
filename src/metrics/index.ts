/**
 * `colyseus-progression/metrics`: Prometheus series (through prom-client) and a health check, for the
 * operations side of a deployment. Loads prom-client.
 */
export { createProgressionMetrics, type MetricsSources, type ProgressionMetrics, type ProgressionMetricsOptions, type QueueJobCounts } from "./progression-metrics.ts";
export { checkHealth, type HealthReport, type HealthSources } from "./health.ts";
export type { FlushReport, ProgressionInstruments } from "../runtime/instruments.ts";
