import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors/error-codes.ts";
import { isProgressionError } from "../../src/errors/progression-error.ts";
import { adaptiveScheduleDefaults, initialScheduleState, nextScheduleState, resolveSchedule, type ScheduleState } from "../../src/durability/jobs/adaptive-schedule.ts";

const schedule = resolveSchedule({ minIntervalMs: 1000, maxIntervalMs: 16_000, backoffFactor: 2, highBacklog: 500 });
const idle = { written: 0, backlog: 0, failed: false };

describe("adaptive snapshot schedule", () => {
  it("backs off while idle up to the maximum, counting the idle streak", () => {
    let state = initialScheduleState(schedule);
    const intervals: number[] = [];
    for (let run = 0; run < 6; run += 1) {
      state = nextScheduleState(schedule, state, idle);
      intervals.push(state.intervalMs);
    }
    expect(intervals).toEqual([2000, 4000, 8000, 16_000, 16_000, 16_000]);
    expect(state.idleStreak).toBe(6);
  });

  it("backs off while failing, even with a large backlog, and counts the error streak", () => {
    let state: ScheduleState = { intervalMs: 1000, idleStreak: 3, errorStreak: 0 };
    state = nextScheduleState(schedule, state, { written: 0, backlog: 10_000, failed: true });
    state = nextScheduleState(schedule, state, { written: 0, backlog: 10_000, failed: true });
    expect(state).toEqual({ intervalMs: 4000, idleStreak: 0, errorStreak: 2 });
  });

  it("snaps to the minimum when the backlog is large, and speeds up gradually with moderate work", () => {
    const slow: ScheduleState = { intervalMs: 16_000, idleStreak: 4, errorStreak: 0 };
    expect(nextScheduleState(schedule, slow, { written: 200, backlog: 300, failed: false })).toEqual({
      intervalMs: 1000,
      idleStreak: 0,
      errorStreak: 0,
    });
    expect(nextScheduleState(schedule, slow, { written: 10, backlog: 0, failed: false }).intervalMs).toBe(8000);
  });

  it("always stays within [min, max]; failures and idleness never shorten it; a large backlog always gives the minimum", () => {
    const outcome = fc.record({ written: fc.nat(2000), backlog: fc.nat(2000), failed: fc.boolean() });
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 100_000 }), fc.array(outcome, { maxLength: 30 }), (start, outcomes) => {
        let state: ScheduleState = { intervalMs: start, idleStreak: 0, errorStreak: 0 };
        for (const run of outcomes) {
          const before = Math.min(schedule.maxIntervalMs, Math.max(schedule.minIntervalMs, state.intervalMs));
          state = nextScheduleState(schedule, state, run);
          expect(state.intervalMs).toBeGreaterThanOrEqual(schedule.minIntervalMs);
          expect(state.intervalMs).toBeLessThanOrEqual(schedule.maxIntervalMs);
          if (run.failed || (run.written === 0 && run.backlog === 0)) expect(state.intervalMs).toBeGreaterThanOrEqual(before);
          else if (run.written + run.backlog >= schedule.highBacklog) expect(state.intervalMs).toBe(schedule.minIntervalMs);
        }
      }),
    );
  });

  it("documents its defaults in one object and rejects impossible settings with the option's name", () => {
    expect(resolveSchedule()).toEqual(adaptiveScheduleDefaults);
    let caught: unknown;
    try {
      resolveSchedule({ minIntervalMs: 5000, maxIntervalMs: 1000 });
    } catch (error) {
      caught = error;
    }
    expect(isProgressionError(caught, ErrorCode.InvalidInput)).toBe(true);
    expect((caught as Error).message).toContain("schedule.maxIntervalMs");
  });
});
