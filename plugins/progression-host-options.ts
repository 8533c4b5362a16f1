import type { Client, Presence } from "@colyseus/core";

/** The narrow slice of Colyseus presence the host uses to reach a subject's clients in every process. */
export type PushPresence = Pick<Presence, "subscribe" | "unsubscribe" | "publish">;

/** Why a flush or a background step failed; passed to `onError` (the host never throws from a timer). */
export interface HostErrorReport {
  /** "flush": an applyBatch attempt failed (it will be retried); "push": delivering to clients failed;
   *  "expiry": the hold-expiry sweep failed; "shutdown": events were still pending at the shutdown deadline. */
  readonly stage: "flush" | "grant" | "push" | "expiry" | "shutdown";
  readonly error: unknown;
  /** For "flush": consecutive failed attempts of the same batch (1, 2, ...). */
  readonly attempt?: number;
}

/**
 * Options of `createProgressionHost(progression, options)`. Every option is optional; the defaults
 * are in `progressionHostDefaults` below.
 */
export interface ProgressionHostOptions {
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
   * Buffered events are flushed at least this often (milliseconds).
   * @default 25
   */
  readonly flushIntervalMs?: number;
  /**
   * A flush starts early (without waiting for the interval) once this many distinct increments are buffered.
   * @default 5_000
   */
  readonly flushSize?: number;
  /**
   * Item grants (`grant()`, e.g. loot) are coalesced per player and item and applied this often, one ledger
   * acquire per player and item instead of one per pickup.
   * @default 250
   */
  readonly grantIntervalMs?: number;
  /**
   * Progress pushes (`progression:progress`) are sent at most this often per player, with the latest value
   * per milestone (unlocks are never delayed). 0 sends progress with every flush.
   * @default 100
   */
  readonly progressIntervalMs?: number;
  /**
   * The bound of the buffer, in distinct (subject, counter, time slot) increments, counting the batch being
   * retried. At the bound `record()` throws a ProgressionError with code BACKEND_UNAVAILABLE and keeps nothing
   * of that event: the room knows, nothing is dropped silently. Coalescing means most games never get near it.
   * @default 200_000
   */
  readonly maxBufferedIncrements?: number;
  /**
   * First retry delay of a failed flush (milliseconds); it doubles per attempt (with jitter) up to `retryMaxMs`.
   * A failed batch is retried with the same batch id, so it is applied exactly once.
   * @default 50
   */
  readonly retryBaseMs?: number;
  /** @default 2_000 */
  readonly retryMaxMs?: number;
  /**
   * How long `close()` (graceful shutdown) keeps retrying a failing store before giving up and reporting the
   * events it could not apply through `onError` (stage "shutdown").
   * @default 10_000
   */
  readonly shutdownTimeoutMs?: number;
  /**
   * Period of the sweep that releases expired holds (`progression.ledger.expireHolds`) and tells their owners.
   * 0 disables it (e.g. when a BullMQ job does the sweep).
   * @default 1_000
   */
  readonly holdExpirySweepMs?: number;
  /**
   * How pushes reach clients connected to other processes. With `LocalPresence` (one process) pushes are
   * delivered in process only; with a cross-process presence such as `RedisPresence`, each flush's pushes
   * are also published as one message that every other process delivers to its own clients.
   * @default the Colyseus server's presence (`matchMaker.presence`), read when first needed
   */
  readonly presence?: PushPresence;
  /**
   * Receives background failures (flush retries, push errors).
   * @default logs a one-line warning per failure with console.warn
   */
  readonly onError?: (report: HostErrorReport) => void;
}

export const progressionHostDefaults = {
  flushIntervalMs: 25,
  flushSize: 5_000,
  progressIntervalMs: 100,
  grantIntervalMs: 250,
  maxBufferedIncrements: 200_000,
  retryBaseMs: 50,
  retryMaxMs: 2_000,
  shutdownTimeoutMs: 10_000,
  holdExpirySweepMs: 1_000,
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

export function defaultOnError(report: HostErrorReport): void {
  const message = report.error instanceof Error ? report.error.message : String(report.error);
  const attempt = report.attempt === undefined ? "" : ` (attempt ${report.attempt})`;
  console.warn(`[colyseus-progression] ${report.stage} failed${attempt}: ${message}`);
}
