import type { MilestoneDefinition } from "../../src/definitions/milestone-schema.ts";

/**
 * A bot is its own subject and starts from zero, so it can predict which of its own events crosses
 * a threshold: that is the event whose send time starts the push-latency clock. Only rules whose
 * outcome a fresh subject's events decide within one run are predictable:
 * - `count`: the lifetime sum of matching amounts;
 * - `window`: within one UTC day (a run does not span midnight) the window sum is the same sum;
 * - `daily` with `days: 1`: the first matching event.
 * `returnAfterGap` never fires from a fresh subject's first events, and `custom` evaluators are
 * opaque: those milestones are left out, and any unlock of them is reported as unpredicted. So are a seasonal
 * milestone outside its period at `now`, and one whose preconditions its own crossing does not imply (each
 * required milestone predictable, on the same trigger, with a filter this one's includes and a target no
 * higher): its award could come later than its own crossing.
 */

export interface PredictableThreshold {
  readonly code: string;
  readonly trigger: string;
  /** Tags the event must carry (all equal). */
  readonly where: Readonly<Record<string, string>>;
  /** Sum of matching amounts at which the milestone is reached. */
  readonly target: number;
}

export function predictableThresholds(definitions: readonly MilestoneDefinition[], now: number = Date.now()): PredictableThreshold[] {
  const byCode = new Map<string, PredictableThreshold>();
  for (const definition of definitions) {
    if (!definition.active || !openAt(definition, now)) continue;
    const { rule } = definition;
    const base = { code: definition.code, trigger: definition.trigger };
    if (rule.type === "count") byCode.set(definition.code, { ...base, where: rule.where ?? {}, target: rule.threshold });
    else if (rule.type === "window") byCode.set(definition.code, { ...base, where: rule.where ?? {}, target: rule.count });
    else if (rule.type === "daily" && rule.days === 1) byCode.set(definition.code, { ...base, where: rule.where ?? {}, target: 1 });
  }
  return definitions.flatMap((definition) => {
    const threshold = byCode.get(definition.code);
    if (threshold === undefined) return [];
    return definition.requires.every((code) => implies(threshold, byCode.get(code))) ? [threshold] : [];
  });
}

function openAt(definition: MilestoneDefinition, now: number): boolean {
  const from = definition.availableFrom === undefined ? Number.NEGATIVE_INFINITY : Date.parse(definition.availableFrom);
  const until = definition.availableUntil === undefined ? Number.POSITIVE_INFINITY : Date.parse(definition.availableUntil);
  return from <= now && now < until;
}

/** Whether crossing `threshold` means `required` was crossed already (same trigger, narrower filter, higher target). */
function implies(threshold: PredictableThreshold, required: PredictableThreshold | undefined): boolean {
  if (required === undefined || required.trigger !== threshold.trigger || required.target > threshold.target) return false;
  return Object.entries(required.where).every(([tag, value]) => threshold.where[tag] === value);
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
