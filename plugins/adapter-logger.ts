import { consoleLogger, type ProgressionLogger } from "../src/logging/logger.ts";

/**
 * The logger of the process's host (one per process), for the adapter's free functions such as
 * `guardedMessage` that have no host of their own. The console until a host is created.
 */
let current: ProgressionLogger = consoleLogger;

export function adapterLogger(): ProgressionLogger {
  return current;
}

export function useAdapterLogger(logger: ProgressionLogger): void {
  current = logger;
}
