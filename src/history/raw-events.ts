import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { HistoryRollup, RawEventsSettings } from "../model/history.ts";
import { withoutRawEvents } from "../model/history.ts";
import { dayOf } from "../model/utc-day.ts";

/**
 * Raw events (engine option `historyRawEvents`, docs/semantics.md "History"): each event's own time and
 * amount, kept next to its rollup for a number of UTC days, so a replay stamps an award with the event
 * that met it instead of the day rule.
 */

/** The option as users write it. */
export interface RawEventsOption {
  /** UTC days (today included) raw events are kept and used: 1 to 3650. Required. */
  readonly retentionDays: number;
  /**
   * Most events one rollup (a player's events of one type and tags on one UTC day) keeps raw: a rollup
   * that counts more keeps none, and its day is replayed by the day rule. Bounds the memory raw events
   * take in Redis (about 8 bytes each). 1 to 100,000. Default 1,000.
   */
  readonly maxPerRollup?: number;
}

export const rawEventsDefaults = { maxPerRollup: 1_000 } as const;

const MAX_RETENTION_DAYS = 3650;
const MAX_PER_ROLLUP = 100_000;

/** The validated settings, or undefined when raw events are off (the default). */
export function resolveRawEvents(option: unknown, history: boolean): RawEventsSettings | undefined {
  if (option === undefined) return undefined;
  const fix = "pass historyRawEvents: { retentionDays: 7 } (for example), or leave it out to keep no raw events";
  if (typeof option !== "object" || option === null || Array.isArray(option)) {
    throw new ProgressionError(ErrorCode.InvalidInput, `historyRawEvents must be an object, got ${describe(option)}; ${fix}`, { historyRawEvents: option });
  }
  const { retentionDays, maxPerRollup = rawEventsDefaults.maxPerRollup, ...unknown } = option as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length > 0) {
    throw new ProgressionError(ErrorCode.InvalidInput, `historyRawEvents has unknown option ${extra.map((key) => JSON.stringify(key)).join(", ")}; it takes retentionDays and maxPerRollup`, { historyRawEvents: option });
  }
  if (!isIntegerIn(retentionDays, 1, MAX_RETENTION_DAYS)) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `historyRawEvents.retentionDays must be a whole number of UTC days from 1 to ${MAX_RETENTION_DAYS} (today included), got ${describe(retentionDays)}; ${fix}`,
      { historyRawEvents: option },
    );
  }
  if (!isIntegerIn(maxPerRollup, 1, MAX_PER_ROLLUP)) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `historyRawEvents.maxPerRollup must be a whole number from 1 to ${MAX_PER_ROLLUP}, got ${describe(maxPerRollup)}; leave it out for ${rawEventsDefaults.maxPerRollup}`,
      { historyRawEvents: option },
    );
  }
  if (!history) {
    throw new ProgressionError(ErrorCode.InvalidInput, "historyRawEvents needs the event history: remove history: false, or leave historyRawEvents out", { historyRawEvents: option });
  }
  return { retentionDays, maxPerRollup };
}

/** The first UTC day whose raw events a replay at `now` uses; undefined: none (raw events off). */
export function rawEventsFromDay(settings: RawEventsSettings | undefined, now: number): number | undefined {
  return settings === undefined ? undefined : dayOf(now) - settings.retentionDays + 1;
}

/**
 * The rollups with the raw events a replay may use: none before `fromDay` (past the retention, whether
 * or not a store has dropped them yet), none at all when `fromDay` is undefined (raw events off). Only
 * rollups that carry raw events are copied.
 */
export function usableRawEvents<T extends HistoryRollup>(rollups: readonly T[], fromDay: number | undefined): readonly T[] {
  const unusable = (rollup: T): boolean => rollup.rawEvents !== undefined && (fromDay === undefined || rollup.day < fromDay);
  // Raw events off and never kept: the rollups as they are (the common case costs one scan).
  if (!rollups.some(unusable)) return rollups;
  return rollups.map((rollup) => (unusable(rollup) ? withoutRawEvents(rollup) : rollup));
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
