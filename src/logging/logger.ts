/**
 * Where the package writes what it has to say: any pino-compatible logger (`info`, `warn`, `error` taking a
 * message string) or the console. Every message starts with the same prefix, so one grep finds them all.
 */
export interface ProgressionLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const LOG_PREFIX = "[colyseus-progression]";

/** The console, with the package's prefix. */
export const consoleLogger: ProgressionLogger = {
  info: (message) => console.info(`${LOG_PREFIX} ${message}`),
  warn: (message) => console.warn(`${LOG_PREFIX} ${message}`),
  error: (message) => console.error(`${LOG_PREFIX} ${message}`),
};

/** One line for an error: its message, never a stack trace (the code and details say what to fix). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0] ?? error.name;
  return String(error);
}
