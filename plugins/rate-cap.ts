import { ErrorCode } from "../src/errors/error-codes.ts";
import { ProgressionError } from "../src/errors/progression-error.ts";

/** How fast one client may send: a sustained rate and how many may arrive at once. */
export interface RateLimit {
  /** Messages per second, sustained (the bucket refills at this rate). Above 0. */
  readonly perSecond: number;
  /**
   * How many messages may arrive at once (the bucket's size; it starts full). A whole number, at least 1.
   * @default perSecond rounded up (one second's worth), at least 1
   */
  readonly burst?: number;
}

/** A validated limit with its default filled in. */
export interface ResolvedRateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/**
 * A token bucket: it holds at most `burst` tokens, starts full, and refills continuously at `perSecond`;
 * each message takes one token, and a message that finds less than one is over the limit. So over any
 * interval of `t` ms a sender gets at most `burst + perSecond * t / 1000` messages through, and one that
 * never sends faster than `perSecond` (from a full bucket) is never limited.
 *
 * Time is passed in (epoch or monotonic milliseconds, as long as the caller keeps to one clock), so the
 * bucket reads no clock itself and tests drive it without sleeping. A clock that goes back refills nothing.
 * No allocation per call: two numbers of state.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(limit: ResolvedRateLimit, now: number) {
    this.#perMs = limit.perSecond / 1000;
    this.#burst = limit.burst;
    this.#tokens = limit.burst;
    this.#updatedAt = now;
  }

  /** Tokens available at `now` (refilled since the previous call, capped at `burst`). */
  available(now: number): number {
    const elapsed = now - this.#updatedAt;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#perMs);
      this.#updatedAt = now;
    }
    return this.#tokens;
  }

  /** Takes one token when there is one at `now`: true when the message is within the limit. */
  take(now: number): boolean {
    if (this.available(now) < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Takes one token; only after `available(now)` said there is one (checking two buckets before taking from either). */
  consume(): void {
    this.#tokens -= 1;
  }
}

/**
 * Checks a limit and fills in `burst`. `name` is the option it came from (e.g. "perType.kill") and `caller`
 * the call it was passed to (e.g. "createRateCaps"), so the error says what to fix, and where.
 */
export function resolveRateLimit(limit: RateLimit, name: string, caller: string): ResolvedRateLimit {
  if (limit === null || typeof limit !== "object") {
    throw invalidOption(caller, name, `must be an object such as { perSecond: 20, burst: 40 }`, limit);
  }
  const { perSecond, burst } = limit;
  if (typeof perSecond !== "number" || !Number.isFinite(perSecond) || perSecond <= 0) {
    throw invalidOption(caller, `${name}.perSecond`, "must be a number of messages per second above 0", perSecond);
  }
  if (burst === undefined) return { perSecond, burst: Math.max(1, Math.ceil(perSecond)) };
  if (typeof burst !== "number" || !Number.isSafeInteger(burst) || burst < 1) {
    throw invalidOption(caller, `${name}.burst`, "must be a whole number of messages, at least 1", burst);
  }
  return { perSecond, burst };
}

/** `INVALID_INPUT` naming the call, the option and the value: "createRateCaps: total.burst must be ..., got 0". */
export function invalidOption(caller: string, option: string, requirement: string, value: unknown): ProgressionError {
  return new ProgressionError(ErrorCode.InvalidInput, `${caller}: ${option} ${requirement}, got ${describe(value)}`, { option, value });
}

function describe(value: unknown): string {
  if (typeof value === "number") return String(value);
  return JSON.stringify(value) ?? String(value);
}
