import type { SubjectApply } from "../backends/contract/progression-backend.ts";
import type { GameplayEvent } from "../model/gameplay-event.ts";

/** Events captured in memory, already routed to counters and coalesced per (subject, counter). */
export interface EventBuffer {
  /** Validates, routes and coalesces one event. Throws a ProgressionError (and keeps nothing) on bad input. */
  add(event: GameplayEvent): void;
  /** Events added since the last drain. */
  readonly pendingEvents: number;
  /** Distinct (subject, counter, time slot) increments held; this is what a flush sends. */
  readonly pendingIncrements: number;
  /** Takes everything out as one batch with a fresh id. */
  drain(): PendingBatch;
}

/** A drained buffer: applied once, however often it is retried, thanks to its batch id. */
export interface PendingBatch {
  /** Unique per drain: a per-process producer id and a sequence number. */
  readonly batchId: string;
  readonly events: number;
  readonly subjects: readonly SubjectApply[];
  /** Plan version every increment was routed with; absent when unknown or mixed (a reload happened). */
  readonly planVersion?: string | undefined;
}
