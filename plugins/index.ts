/** `colyseus-progression/colyseus`: the Colyseus adapter. One host per process, one plugin per room. */
export { ProgressionHost, createProgressionHost, type HostStats, type InstallOptions } from "./progression-host.ts";
export { PushFanout, type PushTarget, type ConnectedSubject } from "./push-fanout.ts";
export { ProgressionPlugin } from "./progression-plugin.ts";
export { guardedMessage, reject } from "./guarded-message.ts";
export { progressionAdminRoutes, AdminErrorCode, type AdminRoutesOptions } from "./admin-routes.ts";
export { progressionHostDefaults, defaultSubjectOf, defaultLocaleOf, type ProgressionHostOptions, type HostErrorReport, type PushPresence } from "./progression-host-options.ts";
export * from "../src/protocol/client-messages.ts";
