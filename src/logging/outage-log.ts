import { describeError, type ProgressionLogger } from "./logger.ts";

/**
 * One line per outage, not per failed call: the first failure of a dependency (Redis, PostgreSQL) is
 * logged with what failed and why; the ones after it are counted, and the recovery is logged once with
 * that count. A client retrying every few milliseconds during an outage prints two lines, not thousands.
 */
export class OutageLog {
  private readonly logger: ProgressionLogger;
  private readonly what: string;
  private failures = 0;

  constructor(logger: ProgressionLogger, what: string) {
    this.logger = logger;
    this.what = what;
  }

  get failing(): boolean {
    return this.failures > 0;
  }

  failed(error: unknown): void {
    this.failures += 1;
    if (this.failures === 1) this.logger.error(`${this.what} failed: ${describeError(error)} (retrying; logged once until it recovers)`);
  }

  recovered(): void {
    if (this.failures === 0) return;
    this.logger.info(`${this.what} recovered after ${this.failures} failed attempt${this.failures === 1 ? "" : "s"}`);
    this.failures = 0;
  }
}
