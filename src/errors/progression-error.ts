import type { ErrorCode } from "./error-codes.ts";

/**
 * The one error class of this package. `code` is stable API; `message` says what was wrong and how
 * to fix it; `details` carries the offending values for logs and client rejections.
 */
export class ProgressionError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "ProgressionError";
    this.code = code;
    this.details = details;
  }
}

/** Narrowing helper: `if (isProgressionError(e, ErrorCode.Insufficient)) ...` */
export function isProgressionError(error: unknown, code?: ErrorCode): error is ProgressionError {
  return error instanceof ProgressionError && (code === undefined || error.code === code);
}
