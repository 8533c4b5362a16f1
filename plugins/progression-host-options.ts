import type { Client, Presence } from "@colyseus/core";
import type { RecorderOptions } from "../src/runtime/recorder-options.ts";
import { describeError, type ProgressionLogger } from "../src/logging/logger.ts";
import { describeSuspicious, type SuspiciousEvent } from "../src/runtime/stat-guards.ts";

/**
 * The narrow slice of Colyseus presence the host uses to reach a subject's clients in every process: its
 * channels (subscribe, publish) and, to know when no other process has a subject's clients, a holders set
 * per subject and an inbox list per process (sadd, srem, smembers, rpush, lpop, del).
 */
export type PushPresence = Pick<Presence, "subscribe" | "unsubscribe" | "publish" | "sadd" | "srem" | "smembers" | "rpush" | "lpop" | "del">;

/** Why a background step failed; passed to `onError` (the host never throws from a timer). */
export interface HostErrorReport {
  /**
   * "flush": an apply attempt failed (the same batch is retried); "grant": a coalesced grant failed (retried
   * with its key); "push": delivering to clients failed; "shutdown": events were still pending at the
   * shutdown deadline.
   */
  readonly stage: "flush" | "grant" | "push" | "shutdown";
  readonly error: unknown;
  /** For "flush": consecutive failed attempts of the same batch (1, 2, ...). */
  readonly attempt?: number;
}

/**
 * Options of `createProgressionHost(progression, options)`. Every option is optional; the recorder's
 * (flush interval, buffer bound, retries, shutdown timeout) are described in `RecorderOptions` and their
 * defaults are in `recorderDefaults`, the host's own in `progressionHostDefaults` below.
 */
export interface ProgressionHostOptions extends Omit<RecorderOptions, "onError" | "logger"> {
  /**
   * The subject (player/account id) of a connected client; `undefined` refuses the join.
   * @default client.auth.id (a string or a finite number), then client.auth.userId
   */
  readonly subjectOf?: (client: Client) => string | undefined;
  /**
   * The client's locale, from its join options.
   * @default options.locale when it is a locale tag such as "en" or "pt-BR", else the engine's default locale
   */
  readonly localeOf?: (client: Client, joinOptions: unknown) => string | undefined;
  /**
   * Progress pushes (`progression:progress`) are sent at most this often per player, with the latest value
   * per milestone (unlocks are never delayed). 0 sends progress with every flush.
   * @default 100
   */
  readonly progressIntervalMs?: number;
  /**
   * How pushes reach clients connected to other processes. With `LocalPresence` (one process) pushes are
   * delivered in process only; with a cross-process presence such as `RedisPresence`, a subject's pushes of
   * one event-loop turn are also published as one message on that subject's channel, which only the
   * processes with its clients hear (none is published when no other process has them); see
   * docs/deployment.md, "Push routing".
   * @default the Colyseus server's presence (`matchMaker.presence`), read when first needed
   */
  readonly presence?: PushPresence;
  /**
   * Receives background failures (flush retries, push errors).
   * @default one warning line per failure on `logger`
   */
  readonly onError?: (report: HostErrorReport) => void;
  /** Where the host writes (and `guardedMessage` reports handler failures). @default the engine's logger */
  readonly logger?: ProgressionLogger;
  /**
   * Told about every event a stat guard (engine option `statGuards`) refused in this process: a `maxAmount`
   * refusal as `record()` throws GUARD_EXCEEDED to the room's handler, a `maxPerWindow` one once the flush
   * that refused it is applied; for the latter the host also sends the subject's clients (every room, every
   * process) a `progression:rejected` `{ type: <trigger>, code: "GUARD_EXCEEDED", message }`. Rooms can
   * listen too: `new ProgressionPlugin(host, { onSuspicious })`.
   * @default one warning line per refusal on `logger`
   */
  readonly onSuspicious?: (event: SuspiciousEvent) => void;
}

export const progressionHostDefaults = {
  progressIntervalMs: 100,
} as const;

const LOCALE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$/;

/** `client.auth.id` (or `userId`) as a string; anything else is no subject. */
export function defaultSubjectOf(client: Client): string | undefined {
  const auth: unknown = client.auth;
  if (auth === null || typeof auth !== "object") return undefined;
  for (const key of ["id", "userId"] as const) {
    const value: unknown = (auth as Record<string, unknown>)[key];
    if (typeof value === "string" && value.length > 0) return value;
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
  }
  return undefined;
}

/** `joinOptions.locale` when it looks like a locale tag. */
export function defaultLocaleOf(_client: Client, joinOptions: unknown): string | undefined {
  if (joinOptions === null || typeof joinOptions !== "object") return undefined;
  const locale: unknown = (joinOptions as Record<string, unknown>)["locale"];
  return typeof locale === "string" && LOCALE_TAG.test(locale) ? locale : undefined;
}

/** One warning line per stat guard refusal. */
export function defaultOnSuspicious(logger: ProgressionLogger): (event: SuspiciousEvent) => void {
  return (event) => logger.warn(`suspicious: ${describeSuspicious(event)}`);
}

/** One warning line per failure: the stage, the attempt, the error's message. */
export function defaultOnError(logger: ProgressionLogger): (report: HostErrorReport) => void {
  return (report) => {
    const attempt = report.attempt === undefined ? "" : ` (attempt ${report.attempt})`;
    logger.warn(`${report.stage} failed${attempt}: ${describeError(report.error)}`);
  };
}
