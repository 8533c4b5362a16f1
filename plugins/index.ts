/** `colyseus-progression/colyseus`: the Colyseus adapter. One host per process, one plugin per room. */
export { ProgressionHost, createProgressionHost, type HostStats, type InstallOptions } from "./progression-host.ts";
export { PushFanout, type PushTarget, type ConnectedSubject } from "./push-fanout.ts";
export { ProgressionPlugin, type ProgressionPluginOptions } from "./progression-plugin.ts";
export { guardedMessage, reject, type GuardedHandler, type GuardedMessageOptions } from "./guarded-message.ts";
export { createRateCaps, RateCaps, rateCapsDefaults, type RateCapsOptions, type RateCapOptions, type DisconnectRule, type RateDecision, type RateCappedClient } from "./rate-caps.ts";
export type { RateLimit } from "./rate-cap.ts";
export { progressionAdminRoutes, AdminErrorCode, type AdminRoutesOptions } from "./admin-routes.ts";
export { progressionHostDefaults, defaultSubjectOf, defaultLocaleOf, defaultOnSuspicious, type ProgressionHostOptions, type HostErrorReport, type PushPresence } from "./progression-host-options.ts";
export * from "../src/protocol/client-messages.ts";
