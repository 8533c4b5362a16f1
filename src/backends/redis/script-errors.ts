import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";

/**
 * The one place where Lua status codes (lua/includes/status.lua) become typed errors. Scripts refuse
 * with a negative status and change nothing (except lazy hold expiry, reported in
 * `details.expiredHolds`).
 */
export const ScriptStatus = {
  Ok: 0,
  Replayed: 1,
  InvalidInput: -1,
  Insufficient: -2,
  IdempotencyConflict: -3,
  HoldUnknown: -4,
  HoldExpired: -5,
  HoldClosed: -6,
  NotCompleted: -7,
  AlreadyClaimed: -8,
  RestoreNeeded: -9,
  InvalidQuantity: -10,
  HistoryFull: -11,
  UnknownSubject: -12,
} as const;

const CODES: Readonly<Record<number, { code: ErrorCode; hint: string }>> = {
  [ScriptStatus.InvalidInput]: {
    code: ErrorCode.InvalidInput,
    hint: "the Redis script rejected its arguments (a bug or a version mismatch between scripts and caller)",
  },
  [ScriptStatus.Insufficient]: { code: ErrorCode.Insufficient, hint: "acquire more or request less" },
  [ScriptStatus.IdempotencyConflict]: {
    code: ErrorCode.IdempotencyConflict,
    hint: "use a fresh idempotency key for a different request",
  },
  [ScriptStatus.HoldUnknown]: { code: ErrorCode.HoldUnknown, hint: "pass a holdId returned by hold() within the retention period" },
  [ScriptStatus.HoldExpired]: { code: ErrorCode.HoldExpired, hint: "its quantity is free again: place a new hold" },
  [ScriptStatus.HoldClosed]: { code: ErrorCode.HoldClosed, hint: "the hold was already settled the other way" },
  [ScriptStatus.NotCompleted]: { code: ErrorCode.NotCompleted, hint: "claim only milestones the subject has reached" },
  [ScriptStatus.AlreadyClaimed]: { code: ErrorCode.AlreadyClaimed, hint: "retry with the original idempotency key to get the first result" },
  [ScriptStatus.InvalidQuantity]: {
    code: ErrorCode.InvalidQuantity,
    hint: "quantities are positive safe integers, and no balance may pass Number.MAX_SAFE_INTEGER",
  },
  [ScriptStatus.UnknownSubject]: {
    code: ErrorCode.UnknownSubject,
    hint: "check the receiver's id, or pass allowNewReceiver: true for a gift to a new player",
  },
  [ScriptStatus.HistoryFull]: {
    code: ErrorCode.BackendUnavailable,
    hint: "nothing was applied; durability moves older history to PostgreSQL (is it reachable?), or raise historyMaxRollups; the recorder retries",
  },
};

/** Turns a refused script reply into a ProgressionError naming the operation and its input. */
export function scriptError(
  status: number,
  scriptMessage: string,
  operation: string,
  details: Record<string, unknown> = {},
): ProgressionError {
  const known = CODES[status];
  if (!known) {
    return new ProgressionError(
      ErrorCode.BackendUnavailable,
      `${operation}: Redis script returned unknown status ${status} (${scriptMessage}); are two versions of the scripts sharing one prefix?`,
      { ...details, status },
    );
  }
  return new ProgressionError(known.code, `${operation}: ${scriptMessage}; ${known.hint}`, details);
}

/** A Redis-level failure (connection, OOM, Lua runtime error): retryable, never a raw stack trace. */
export function backendUnavailable(operation: string, cause: unknown): ProgressionError {
  const reason = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
  return new ProgressionError(
    ErrorCode.BackendUnavailable,
    `${operation}: Redis failed (${reason}); check that Redis is reachable and retry`,
    { cause: reason },
  );
}
