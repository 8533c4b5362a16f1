import type { HoldRecord } from "../model/hold.ts";
import { positiveOption } from "./positive-option.ts";

/** What a hold-expiry mechanism drives: the engine's ledger, which announces every expiry it performs. */
export interface HoldExpiryTarget {
  /** Releases up to `limit` holds past their expiry, across subjects; returns them. */
  expireHolds(limit: number): Promise<readonly HoldRecord[]>;
}

/**
 * The one mechanism that releases holds nobody touches again: a timer in embedded mode
 * (`timerHoldExpiry`, the default), a BullMQ job in Redis mode (`durability.holdExpiry`). Any ledger
 * call on a subject also releases its due holds on the way (lazy expiry); either way each expiry is
 * reported once, by whoever performed it.
 */
export interface HoldExpiry {
  /** Called once by the engine it serves. */
  attach(target: HoldExpiryTarget): void;
  /** A hold was just placed (the mechanism may plan its release exactly). */
  holdPlaced(hold: HoldRecord): void;
  close(): Promise<void>;
}

export interface TimerHoldExpiryOptions {
  /**
   * How often due holds are released.
   * @default 1_000
   */
  readonly intervalMs?: number;
  /**
   * Holds released per sweep call; a sweep repeats while a call comes back full.
   * @default 500
   */
  readonly limit?: number;
  /** A failed sweep (the backend was down); the next one tries again. @default logs one line */
  readonly onError?: (error: unknown) => void;
}

export const timerHoldExpiryDefaults = { intervalMs: 1_000, limit: 500 } as const;

/** A sweep never loops forever behind a flood of expiring holds; the next sweep continues. */
const MAX_CALLS_PER_SWEEP = 50;

/** Embedded mode: an in-process timer sweeps due holds every `intervalMs` (unref'd: it never keeps a process alive). */
export function timerHoldExpiry(options: TimerHoldExpiryOptions = {}): HoldExpiry {
  const intervalMs = positiveOption("intervalMs", options.intervalMs, timerHoldExpiryDefaults.intervalMs);
  const limit = Math.floor(positiveOption("limit", options.limit, timerHoldExpiryDefaults.limit));
  const onError = options.onError ?? ((error: unknown) => console.warn(`[colyseus-progression] hold expiry sweep failed: ${error instanceof Error ? error.message : String(error)}`));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const sweep = async (target: HoldExpiryTarget): Promise<void> => {
    for (let call = 0; call < MAX_CALLS_PER_SWEEP; call += 1) {
      const released = await target.expireHolds(limit);
      if (released.length < limit) return;
    }
  };

  return {
    attach(target) {
      if (timer !== undefined) return;
      timer = setInterval(() => {
        if (running !== undefined) return;
        running = sweep(target)
          .catch(onError)
          .finally(() => {
            running = undefined;
          });
      }, intervalMs);
      timer.unref();
    },
    holdPlaced() {
      // The next sweep after expiresAt releases it: within intervalMs of its expiry.
    },
    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
