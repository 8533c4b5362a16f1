import { ErrorCode } from "./error-codes.ts";
import { ProgressionError } from "./progression-error.ts";

/** Why a connection failed, in a few words (the errno of Node's net errors, or the first line of the message). */
export function connectionReason(cause: unknown): string {
  const code = typeof cause === "object" && cause !== null ? (cause as { code?: unknown }).code : undefined;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ETIMEDOUT":
      return "connection timed out";
    case "ECONNRESET":
      return "connection reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.split("\n")[0] ?? message;
}

/**
 * A dependency could not be reached at start: one line that names it, its address and the option (or
 * environment variable) that set it, e.g. `cannot reach Redis at 127.0.0.1:27999 (REDIS_URL): connection refused`.
 */
export function unreachable(dependency: string, address: string, source: string, cause: unknown): ProgressionError {
  const reason = connectionReason(cause);
  return new ProgressionError(ErrorCode.BackendUnavailable, `cannot reach ${dependency} at ${address} (${source}): ${reason}`, {
    dependency,
    address,
    source,
    reason,
  });
}

/** `host:port` of a redis:// or postgres:// URL (no credentials), or the text itself when it is not a URL. */
export function addressOf(url: string, defaultPort: number): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || defaultPort}`;
  } catch {
    return url;
  }
}

/** `promise`, or a rejection after `ms` (a dependency that does not answer must not hang the caller). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
