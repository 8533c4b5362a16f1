/**
 * A request the server refused (`code` and `message` are its reason, e.g. NOT_COMPLETED) or that failed
 * without one (code "REQUEST_FAILED": the connection closed, the request timed out, or the server faulted;
 * retrying is safe, a claim keeps its requestId).
 */
export class ProgressionRequestError extends Error {
  override readonly name = "ProgressionRequestError";
  /** The server's rejection code, or "REQUEST_FAILED". */
  readonly code: string;
  /** The request that failed, e.g. "progression:claim". */
  readonly type: string;

  constructor(type: string, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.type = type;
    this.code = code;
  }

  /** Wraps what `room.request` rejected with: the server's reason (`error.reason`) when there is one. */
  static from(type: string, error: unknown): ProgressionRequestError {
    const reason = error !== null && typeof error === "object" && "reason" in error ? error.reason : undefined;
    if (reason !== null && typeof reason === "object" && "code" in reason && "message" in reason) {
      const { code, message } = reason;
      if (typeof code === "string" && typeof message === "string") return new ProgressionRequestError(type, code, message, { cause: error });
    }
    const detail = error instanceof Error ? error.message : String(error);
    return new ProgressionRequestError(type, "REQUEST_FAILED", `${type} failed: ${detail}; retry once the room is connected`, { cause: error });
  }
}
