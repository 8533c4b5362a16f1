import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";

/**
 * The snapshot job's adaptive interval, as a pure function of the last run:
 * - a failed run backs off (interval x backoffFactor), so a down PostgreSQL is not hammered;
 * - an idle run (nothing written, nothing waiting) backs off too, so an idle server costs nothing;
 * - a large backlog (written + still dirty >= highBacklog) snaps to the minimum interval;
 * - any other run with work speeds up by the same factor, down to the minimum.
 * The interval always stays within [minIntervalMs, maxIntervalMs]; maxIntervalMs therefore bounds how
 * long a change can wait before its first snapshot attempt (see docs/durability.md).
 */

export interface AdaptiveSchedule {
  /** Shortest interval between snapshot runs. Default 1000 ms. */
  readonly minIntervalMs: number;
  /** Longest interval between snapshot runs. Default 30 000 ms. */
  readonly maxIntervalMs: number;
  /** Multiplier applied when backing off (and divisor when speeding up). Default 2. */
  readonly backoffFactor: number;
  /** Dirty subjects (written + waiting) from which the interval snaps to the minimum. Default 1000. */
  readonly highBacklog: number;
}

export const adaptiveScheduleDefaults: AdaptiveSchedule = {
  minIntervalMs: 1000,
  maxIntervalMs: 30_000,
  backoffFactor: 2,
  highBacklog: 1000,
};

export interface ScheduleState {
  readonly intervalMs: number;
  /** Consecutive runs with nothing to write. */
  readonly idleStreak: number;
  /** Consecutive failed runs. */
  readonly errorStreak: number;
}

export interface SnapshotRunOutcome {
  /** Subjects written by the run. */
  readonly written: number;
  /** Subjects still dirty after the run. */
  readonly backlog: number;
  readonly failed: boolean;
}

export function resolveSchedule(overrides: Partial<AdaptiveSchedule> = {}): AdaptiveSchedule {
  const schedule = { ...adaptiveScheduleDefaults, ...definedOnly(overrides) };
  const fail = (option: keyof AdaptiveSchedule, rule: string): never => {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `schedule.${option} is ${String(schedule[option])}: it must be ${rule}`,
      { [option]: schedule[option] },
    );
  };
  if (!Number.isSafeInteger(schedule.minIntervalMs) || schedule.minIntervalMs < 1) fail("minIntervalMs", "a positive integer (ms)");
  if (!Number.isSafeInteger(schedule.maxIntervalMs) || schedule.maxIntervalMs < schedule.minIntervalMs) {
    fail("maxIntervalMs", `an integer >= minIntervalMs (${schedule.minIntervalMs})`);
  }
  if (!Number.isFinite(schedule.backoffFactor) || schedule.backoffFactor < 1) fail("backoffFactor", "a number >= 1");
  if (!Number.isSafeInteger(schedule.highBacklog) || schedule.highBacklog < 1) fail("highBacklog", "a positive integer");
  return schedule;
}

export function initialScheduleState(schedule: AdaptiveSchedule): ScheduleState {
  return { intervalMs: schedule.minIntervalMs, idleStreak: 0, errorStreak: 0 };
}

export function nextScheduleState(schedule: AdaptiveSchedule, state: ScheduleState, outcome: SnapshotRunOutcome): ScheduleState {
  const clamp = (ms: number): number => Math.min(schedule.maxIntervalMs, Math.max(schedule.minIntervalMs, Math.round(ms)));
  const current = clamp(state.intervalMs);
  if (outcome.failed) {
    return { intervalMs: clamp(current * schedule.backoffFactor), idleStreak: 0, errorStreak: state.errorStreak + 1 };
  }
  if (outcome.written + outcome.backlog >= schedule.highBacklog) {
    return { intervalMs: schedule.minIntervalMs, idleStreak: 0, errorStreak: 0 };
  }
  if (outcome.written === 0 && outcome.backlog === 0) {
    return { intervalMs: clamp(current * schedule.backoffFactor), idleStreak: state.idleStreak + 1, errorStreak: 0 };
  }
  return { intervalMs: clamp(current / schedule.backoffFactor), idleStreak: 0, errorStreak: 0 };
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
