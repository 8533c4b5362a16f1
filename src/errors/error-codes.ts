/**
 * Every error this package throws carries one of these codes, so callers can branch on `error.code`
 * instead of parsing messages. Lua scripts return the negative status numbers below; they become
 * typed errors in exactly one place (`src/backends/redis/script-errors.ts`).
 */
export const ErrorCode = {
  /** A public call got an argument of the wrong shape (type, range, length). */
  InvalidInput: "INVALID_INPUT",
  /** A quantity or amount is not a positive safe integer. */
  InvalidQuantity: "INVALID_QUANTITY",
  /** A milestone definition (or a set of them) failed validation at load. */
  InvalidDefinition: "INVALID_DEFINITION",
  /** A translation catalog failed validation at load. */
  InvalidCatalog: "INVALID_CATALOG",
  /** No milestone with this code is loaded. */
  UnknownMilestone: "UNKNOWN_MILESTONE",
  /** A rule names a custom evaluator that is not registered. */
  UnknownEvaluator: "UNKNOWN_EVALUATOR",
  /** Claim of a milestone the subject has not completed yet. */
  NotCompleted: "NOT_COMPLETED",
  /** Claim of a milestone that was already claimed (under another idempotency key). */
  AlreadyClaimed: "ALREADY_CLAIMED",
  /** The free quantity is smaller than the requested debit. */
  Insufficient: "INSUFFICIENT",
  /** No hold with this id exists (never created, or forgotten after the retention period). */
  HoldUnknown: "HOLD_UNKNOWN",
  /** The hold's TTL ran out: its quantity went back to free and it can no longer be committed. */
  HoldExpired: "HOLD_EXPIRED",
  /** Commit of a released hold, or release of a committed one. */
  HoldClosed: "HOLD_CLOSED",
  /**
   * A transfer to a subject the store has never seen (no balance, award, counter or history): refused so
   * items never go to an id nobody can log in as, unless the request allows a new receiver.
   */
  UnknownSubject: "UNKNOWN_SUBJECT",
  /**
   * The Redis the ledger would run on keeps nothing durably enough (no AOF): acknowledged inventory could
   * be lost on a restart. Enable `appendonly yes`, or opt in explicitly.
   */
  VolatileStore: "VOLATILE_STORE",
  /** An idempotency key was reused with a different request. */
  IdempotencyConflict: "IDEMPOTENCY_CONFLICT",
  /** The backend could not be reached or failed; the call had no effect or is safe to retry. */
  BackendUnavailable: "BACKEND_UNAVAILABLE",
  /** The operation needs something this deployment cannot do (e.g. a second progression host in one process, two copies of @colyseus/core). */
  Unsupported: "UNSUPPORTED",
  /**
   * An event passed one of its trigger's stat guards (the most per event, or per subject within a window):
   * it was not applied, and `progression.suspicious` records it.
   */
  GuardExceeded: "GUARD_EXCEEDED",
  /** A client sent messages faster than the room's rate cap allows; the message was not handled. */
  RateLimited: "RATE_LIMITED",
  /** The engine was closed. */
  Closed: "CLOSED",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
