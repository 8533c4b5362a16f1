import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import type { CounterSpec, ThresholdCheck } from "../model/counter-plan.ts";
import type { CounterKind, CounterState } from "../model/counter-state.ts";
import type { HistoryRollup } from "../model/history.ts";

/** One increment as a counter sees it: the amount, its time, and that time's UTC day. */
export interface CountedIncrement {
  readonly amount: number;
  readonly at: number;
  readonly day: number;
}

/** Where a counter reports the checks an increment passes (the backend records the award). */
export interface AwardSink {
  isAwarded(code: string): boolean;
  award(check: ThresholdCheck, earnedAt: number, retroactive: boolean): void;
}

/** What a counter can prove from its stored state alone (catch-up), and the time to stamp it with. */
export interface ProvenMeasure {
  readonly measure: number;
  readonly at: number;
}

/** One UTC day of the history events a counter counts (docs/semantics.md, "History"): its rollups added up. */
export interface HistoryDay extends Omit<HistoryRollup, "type" | "tags" | "rawEvents"> {
  /**
   * Every event the counter counts that day, `[at, amount, at, amount, ...]` sorted by `at`, when the raw
   * events of all of the day's rollups are kept (`historyRawEvents`); absent otherwise: the day rule.
   */
  readonly events?: readonly number[] | undefined;
}

/** Told each check a replay meets, once, with the time it was met. */
export type MetCheck = (check: ThresholdCheck, at: number) => void;

export type StateOf<K extends CounterKind> = Extract<CounterState, { readonly kind: K }>;

/**
 * Everything one kind of counter does, in one module per kind (`src/counters/<kind>.ts`), with its Lua
 * twin in `src/backends/redis/lua/includes/counters/<kind>.lua`:
 *
 * - the apply step of docs/semantics.md on the embedded backend's live state (`create`, `add`), and
 *   the measures a check compares (`measure`, `proven` for catch-up, `measureState` for reads);
 * - its stored forms: the live <-> snapshot state, the compact Redis text (mirrors the Lua twin),
 *   and the PostgreSQL json with its monotonic merge.
 */
export interface CounterBehaviour<K extends CounterKind, Live extends { readonly kind: K }, Stored extends { readonly kind: K }> {
  readonly kind: K;
  /** One letter naming the kind in the packed plan the apply script reads. */
  readonly scriptCode: string;
  /** First character of the Redis text encoding ("" for the kind without one). */
  readonly textTag: string;

  /** The live state of a counter created by its first increment. */
  create(increment: CountedIncrement): Live;
  /** A copy the apply step can change without touching the original (applies are all-or-nothing). */
  clone(live: Live): Live;
  /** Applies one increment, then compares the counter's checks (tiers sorted by target). */
  add(live: Live, increment: CountedIncrement, spec: CounterSpec, awards: AwardSink): void;
  /** The measure a check compares right after an increment on `day` (progress). */
  measure(live: Live, check: ThresholdCheck, day: number): number;
  /** The best measure the state proves for a check (catch-up), and the time that earned it. */
  proven(live: Live, check: ThresholdCheck): ProvenMeasure;
  /** The measure shown for a check on a stored state, as of `day`. */
  measureState(state: StateOf<K>, check: ThresholdCheck, day: number): number;

  /**
   * The counter rebuilt from its days of history (sorted by day, not empty), telling `met` every check
   * the history meets on the way, on the UTC day it was met: backfill, rebuild and simulation.
   */
  replay(days: readonly HistoryDay[], spec: CounterSpec, met: MetCheck): StateOf<K>;

  toState(live: Live): StateOf<K>;
  fromState(state: StateOf<K>): Live;

  encodeText(state: StateOf<K>): string;
  /** null when `raw` is not this kind's text. */
  decodeText(raw: string): StateOf<K> | null;

  toStored(state: StateOf<K>): Stored;
  fromStored(stored: Stored): StateOf<K>;
  /** The json of `toStored`, written directly (snapshots write it for every counter). */
  storedJson(state: StateOf<K>): string;
  /** Monotonic merge: max per value and time. Returns `a` itself when `b` adds nothing. */
  merge(a: Stored, b: Stored): Stored;
}

/**
 * Tier comparison for counters whose measure only grows (sum, days): checks are sorted by target, so
 * the first one out of reach ends it. A check met before this increment is a milestone added or
 * re-activated later: awarded retroactive, stamped with the counter's previous time.
 */
export function awardCrossedTiers(
  checks: readonly ThresholdCheck[],
  before: number,
  after: number,
  previousAt: number,
  at: number,
  awards: AwardSink,
): void {
  for (const check of checks) {
    if (after < check.target) break;
    if (awards.isAwarded(check.code)) continue;
    const retroactive = before >= check.target;
    awards.award(check, retroactive ? previousAt : at, retroactive);
  }
}

/**
 * Replay of a counter whose measure only grows (sum, days): the tiers met as `measure` of each day
 * (the running value after it) passes them, stamped with `stamp` of that day, told the value before it.
 */
export function replayTiers(
  days: readonly HistoryDay[],
  checks: readonly ThresholdCheck[],
  met: MetCheck,
  measure: (day: HistoryDay) => number,
  stamp: (day: HistoryDay, before: number, target: number) => number,
): void {
  let next = 0;
  let value = 0;
  for (const day of days) {
    const before = value;
    value = measure(day);
    while (next < checks.length && value >= (checks[next] as ThresholdCheck).target) {
      const check = checks[next++] as ThresholdCheck;
      met(check, stamp(day, before, check.target));
    }
  }
}

/**
 * When a running sum that stood at `before` as `day` began first reached `target` during it: the time of
 * the event that took it there when the day's raw events are kept (exact to the event), else `dayRule`.
 */
export function crossedAt(day: HistoryDay, before: number, target: number, dayRule: number): number {
  const events = day.events;
  if (events === undefined) return dayRule;
  let running = before;
  for (let i = 0; i + 1 < events.length; i += 2) {
    running += events[i + 1] as number;
    if (running >= target) return events[i] as number;
  }
  // Raw events that do not add up to the day's sum (not written by this package): the day rule.
  return dayRule;
}

/** A counter value stored or snapshotted must be a safe integer; anything else is a corrupt state. */
export function storedInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `counter ${what} is ${String(value)}, not a safe integer: the backend exported a corrupt subject`,
      { what, value },
    );
  }
  return value;
}

export const enc36 = (n: number): string => n.toString(36);
export const dec36 = (s: string | undefined): number => (s === undefined ? Number.NaN : parseInt(s, 36));
