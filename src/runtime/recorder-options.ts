import type { ProgressionInstruments } from "./instruments.ts";
import { describeError, type ProgressionLogger } from "../logging/logger.ts";

/** Why a background step of the recorder failed; passed to `onError` (a timer never throws). */
export interface RecorderErrorReport {
  /**
   * "flush": an apply attempt failed (the same batch is retried); "grant": a coalesced grant failed (retried
   * with the same key); "shutdown": events or grants were still pending at the shutdown deadline.
   */
  readonly stage: "flush" | "grant" | "shutdown";
  readonly error: unknown;
  /** For "flush": consecutive failed attempts of the same batch (1, 2, ...). */
  readonly attempt?: number;
}

/** Options of `createRecorder(progression, options)`; every option is optional (defaults below). */
export interface RecorderOptions {
  /** Metrics hooks (see `colyseus-progression/metrics`). @default the engine's `instruments` */
  readonly instruments?: ProgressionInstruments;
  /**
   * Buffered events are applied at least this often (milliseconds).
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
   * The bound of the buffer, in distinct (subject, counter, time slot) increments plus pending grants, counting
   * the batch being retried. At the bound `record()` throws a ProgressionError with code BACKEND_UNAVAILABLE and
   * keeps nothing of that event: the caller knows, nothing is dropped silently.
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
   * How long `close()` keeps retrying a failing store before it gives up and reports what it could not apply
   * through `onError` (stage "shutdown").
   * @default 10_000
   */
  readonly shutdownTimeoutMs?: number;
  /**
   * Receives background failures.
   * @default one warning line per failure on `logger`
   */
  readonly onError?: (report: RecorderErrorReport) => void;
  /** Where the default `onError` writes. @default the engine's logger */
  readonly logger?: ProgressionLogger;
}

export const recorderDefaults = {
  flushIntervalMs: 25,
  flushSize: 5_000,
  grantIntervalMs: 250,
  maxBufferedIncrements: 200_000,
  retryBaseMs: 50,
  retryMaxMs: 2_000,
  shutdownTimeoutMs: 10_000,
} as const;

/** One line per failure: the stage, the attempt, the error's message. */
export function logRecorderError(logger: ProgressionLogger): (report: RecorderErrorReport) => void {
  return (report) => {
    const attempt = report.attempt === undefined ? "" : ` (attempt ${report.attempt})`;
    logger.warn(`${report.stage} failed${attempt}: ${describeError(report.error)}`);
  };
}
