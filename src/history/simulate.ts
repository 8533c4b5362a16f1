import type { CompiledMilestones } from "../definitions/compile-milestones.ts";
import type { MilestoneDefinition } from "../definitions/milestone-schema.ts";
import type { Reward } from "../model/milestone.ts";
import { closedAt, type CounterSpec, type ThresholdCheck } from "../model/counter-plan.ts";
import type { HistoryRollup } from "../model/history.ts";
import type { AwardRecord } from "../model/award.ts";
import { canonicalJson } from "../rules/canonical-json.ts";
import { replayCounters } from "./replay-counters.ts";

/** What deploying a set of definitions would do to the players with a history, per milestone. */
export interface SimulatedMilestone {
  readonly code: string;
  /** Against the definitions running now. */
  readonly change: "new" | "changed" | "unchanged" | "removed";
  /** Players whose history meets it under the new definition (0 for a removed or inactive one). */
  readonly qualifying: number;
  /** Of those, players who do not hold it yet: awarded (retroactive) at their next catch-up or backfill. */
  readonly wouldAward: number;
  /** Rewards those awards grant (claimed at once for autoClaim milestones, claimable otherwise). */
  readonly rewards: readonly Reward[];
  /** Players who hold it now. */
  readonly holders: number;
  /** Holders whose history does not meet the new rule: informational, awards are never revoked. */
  readonly holdersNotQualifying: number;
  /** A few of the players counted in `wouldAward`, for a look at them. */
  readonly examples: readonly string[];
}

export interface SimulationReport {
  /** Players with a history that were looked at. */
  readonly subjects: number;
  readonly milestones: readonly SimulatedMilestone[];
}

const EXAMPLES = 5;

interface Tally {
  qualifying: number;
  wouldAward: number;
  holders: number;
  holdersNotQualifying: number;
  examples: string[];
}

/**
 * Tallies, player by player, what the `next` definitions would award from history, without changing
 * anything (`progression.simulate`). Counts from before the history was kept are not in it: a holder
 * "not qualifying" may simply have earned it then.
 */
export class Simulation {
  readonly #next: CompiledMilestones;
  readonly #current: CompiledMilestones;
  readonly #tallies = new Map<string, Tally>();
  readonly #specs: readonly CounterSpec[];
  #subjects = 0;

  readonly #now: number;

  /** `now`: the engine's clock, for seasonal milestones (one that has closed would award nobody). */
  constructor(current: CompiledMilestones, next: CompiledMilestones, now: number = Date.now()) {
    this.#current = current;
    this.#next = next;
    this.#now = now;
    this.#specs = [...next.plan.counters.values()];
    for (const code of new Set([...next.definitions.keys(), ...current.definitions.keys()])) {
      this.#tallies.set(code, { qualifying: 0, wouldAward: 0, holders: 0, holdersNotQualifying: 0, examples: [] });
    }
  }

  add(subject: string, rollups: readonly HistoryRollup[], awards: ReadonlyMap<string, AwardRecord>): void {
    this.#subjects += 1;
    const met = new Map<string, ThresholdCheck>();
    for (const counter of replayCounters(this.#next, this.#specs, subject, rollups)) {
      for (const { check } of counter.met) met.set(check.code, check);
    }
    const qualifying = withPreconditions(met, awards);
    for (const [code, tally] of this.#tallies) {
      const held = awards.has(code);
      const check = qualifying.get(code);
      const qualifies = check !== undefined;
      if (held) tally.holders += 1;
      if (qualifies) tally.qualifying += 1;
      // A closed seasonal milestone is awarded to nobody any more (catch-up and backfill respect the period).
      if (qualifies && !held && !closedAt(check, this.#now)) {
        tally.wouldAward += 1;
        if (tally.examples.length < EXAMPLES) tally.examples.push(subject);
      }
      if (held && !qualifies && this.#next.definitions.has(code)) tally.holdersNotQualifying += 1;
    }
  }

  report(): SimulationReport {
    const milestones = [...this.#tallies].map(([code, tally]): SimulatedMilestone => {
      const next = this.#next.definitions.get(code);
      const rewards = next === undefined ? [] : scaled(next.rewards, tally.wouldAward);
      return { code, change: changeOf(this.#current.definitions.get(code), next), ...tally, rewards };
    });
    return { subjects: this.#subjects, milestones };
  }
}

/**
 * The met checks whose preconditions hold too: each required code is held already or qualifies itself
 * (chains resolve; a required milestone that is inactive or not met keeps its dependents out).
 */
function withPreconditions(met: ReadonlyMap<string, ThresholdCheck>, awards: ReadonlyMap<string, AwardRecord>): Map<string, ThresholdCheck> {
  const qualifying = new Map<string, ThresholdCheck>();
  let open = [...met.values()];
  for (let progressed = true; progressed && open.length > 0; ) {
    progressed = false;
    const next: ThresholdCheck[] = [];
    for (const check of open) {
      if ((check.requires ?? []).every((code) => awards.has(code) || qualifying.has(code))) {
        qualifying.set(check.code, check);
        progressed = true;
      } else {
        next.push(check);
      }
    }
    open = next;
  }
  return qualifying;
}

function changeOf(current: MilestoneDefinition | undefined, next: MilestoneDefinition | undefined): SimulatedMilestone["change"] {
  if (next === undefined) return "removed";
  if (current === undefined) return "new";
  return canonicalJson(current) === canonicalJson(next) ? "unchanged" : "changed";
}

function scaled(rewards: readonly Reward[], times: number): Reward[] {
  const totals = new Map<string, number>();
  for (const reward of rewards) totals.set(reward.item, (totals.get(reward.item) ?? 0) + reward.quantity * times);
  return [...totals].filter(([, quantity]) => quantity > 0).map(([item, quantity]) => ({ item, quantity }));
}
