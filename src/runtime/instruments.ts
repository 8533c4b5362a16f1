/**
 * Hooks for metrics (`colyseus-progression/metrics` fills them with Prometheus series). Each is called
 * where the thing happens, at most once per flush or per ledger call, never per recorded event (those are
 * counted in `RecorderStats` and read at scrape time). With `flushed` set, the recorder reads the clock
 * once per recorded event, for `meanLagMs`.
 */
export interface ProgressionInstruments {
  /** A `record()` refused an event: its error code (INVALID_INPUT, BACKEND_UNAVAILABLE at the bound, CLOSED...). */
  eventRejected?(code: string): void;
  /** A batch was applied (its effects announced). Times in milliseconds. */
  flushed?(report: FlushReport): void;
  /** An apply attempt failed and will be retried. */
  flushFailed?(attempt: number): void;
  /** A ledger call ended: "ok", "replayed", or the error code. */
  ledgerOperation?(operation: string, result: string): void;
  /** A stat guard refused an event (guard "maxAmount") or a subject's flush of a trigger ("maxPerWindow"). */
  suspicious?(trigger: string, guard: "maxAmount" | "maxPerWindow"): void;
}

export interface FlushReport {
  readonly events: number;
  readonly increments: number;
  /** How long the backend apply took (pushes included: they are sent as the apply's effects are announced). */
  readonly applyMs: number;
  /** From the oldest event of the batch being recorded to its pushes being sent. */
  readonly oldestLagMs: number;
  /** The same for the average event of the batch: what a player waits on average for its push. */
  readonly meanLagMs: number;
}
