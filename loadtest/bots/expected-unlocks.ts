import type { MilestoneDefinition } from "../../src/definitions/milestone-schema.ts";

/**
 * A bot is its own subject and starts from zero, so it can predict which of its own events crosses
 * a threshold: that is the event whose send time starts the push-latency clock. Only rules whose
 * outcome a fresh subject's events decide within one run are predictable:
 * - `count`: the lifetime sum of matching amounts;
 * - `window`: within one UTC day (a run does not span midnight) the window sum is the same sum;
 * - `daily` with `days: 1`: the first matching event.
 * `returnAfterGap` never fires from a fresh subject's first events, and `custom` evaluators are
 * opaque: those milestones are left out, and any unlock of them is reported as unpredicted.
 */

export interface PredictableThreshold {
  readonly code: string;
  readonly trigger: string;
  /** Tags the event must carry (all equal). */
  readonly where: Readonly<Record<string, string>>;
  /** Sum of matching amounts at which the milestone is reached. */
  readonly target: number;
}

export function predictableThresholds(definitions: readonly MilestoneDefinition[]): PredictableThreshold[] {
  const thresholds: PredictableThreshold[] = [];
  for (const definition of definitions) {
    if (!definition.active) continue;
    const { rule } = definition;
    const base = { code: definition.code, trigger: definition.trigger };
    if (rule.type === "count") thresholds.push({ ...base, where: rule.where ?? {}, target: rule.threshold });
    else if (rule.type === "window") thresholds.push({ ...base, where: rule.where ?? {}, target: rule.count });
    else if (rule.type === "daily" && rule.days === 1) thresholds.push({ ...base, where: rule.where ?? {}, target: 1 });
  }
  return thresholds;
}

/** One gameplay event as the room records it for a message the bot sent. */
export interface RecordedEvent {
  readonly type: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly amount: number;
}

/** Per-bot running sums; tells which milestone codes an event newly reaches. */
export class ThresholdTracker {
  readonly #thresholds: readonly PredictableThreshold[];
  readonly #sums: number[];

  constructor(thresholds: readonly PredictableThreshold[]) {
    this.#thresholds = thresholds;
    this.#sums = thresholds.map(() => 0);
  }

  /** Adds the event to every matching sum; returns the codes whose target it crosses. */
  observe(event: RecordedEvent): string[] {
    const crossed: string[] = [];
    this.#thresholds.forEach((threshold, index) => {
      if (threshold.trigger !== event.type || !matches(threshold.where, event.tags)) return;
      const before = this.#sums[index] ?? 0;
      const after = before + event.amount;
      this.#sums[index] = after;
      if (before < threshold.target && after >= threshold.target) crossed.push(threshold.code);
    });
    return crossed;
  }

  /** Current sum per milestone code (what the store's progress should show). */
  sums(): Map<string, number> {
    return new Map(this.#thresholds.map((threshold, index) => [threshold.code, this.#sums[index] ?? 0]));
  }
}

function matches(where: Readonly<Record<string, string>>, tags: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(where)) if (tags[key] !== value) return false;
  return true;
}
