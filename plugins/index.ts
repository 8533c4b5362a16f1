/** The Colyseus side of colyseus-progression: one host per process, one plugin per room. */
export { ProgressionHost, type HostStats } from "./progression-host.ts";
export { PushFanout, type PushTarget } from "./push-fanout.ts";
export { createProgressionHost } from "./create-progression-host.ts";
export { ProgressionPlugin } from "./progression-plugin.ts";
export { PushingLedger } from "./pushing-ledger.ts";
export { guardedMessage, reject } from "./guarded-message.ts";
export { progressionAdminRoutes, type AdminRoutesOptions } from "./admin-routes.ts";
export { progressionHostDefaults, defaultSubjectOf, defaultLocaleOf, type ProgressionHostOptions, type HostErrorReport, type PushPresence } from "./progression-host-options.ts";
export * from "./client-messages.ts";
