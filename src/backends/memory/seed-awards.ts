import { counterKind, type LiveCounter } from "../../counters/counter-kinds.ts";
import type { AwardRecord } from "../../model/award.ts";
import { closedAt, type ThresholdCheck } from "../../model/counter-plan.ts";
import type { SeedRequest } from "../contract/history-backend.ts";

/**
 * Which awards a seed makes, in order (seed-6.lua does the same): of the checks the history met and the
 * dependents measured on their stored counters, those not awarded yet, not closed, and whose required
 * codes are all awarded, stored or by this seed (stamped with the latest of their times). Rounds repeat
 * until one awards nothing, so chains resolve whatever order the candidates come in.
 */
export function seedAwards(
  awards: ReadonlyMap<string, AwardRecord>,
  counters: ReadonlyMap<string, LiveCounter>,
  request: SeedRequest,
): { check: ThresholdCheck; earnedAt: number }[] {
  const candidates: { check: ThresholdCheck; passedAt: number | null }[] = request.awards.map(({ check, earnedAt }) => ({ check, passedAt: earnedAt }));
  for (const { counter: id, kind, check } of request.dependents ?? []) {
    const counter = counters.get(id);
    if (counter === undefined || counter.kind !== kind) continue;
    const proven = counterKind(kind).proven(counter, check);
    candidates.push({ check, passedAt: proven.measure >= check.target ? proven.at : null });
  }
  const made = new Map<string, number>();
  const awardedAt = (code: string): number | undefined => made.get(code) ?? awards.get(code)?.earnedAt;
  const result: { check: ThresholdCheck; earnedAt: number }[] = [];
  let open = candidates.filter(({ check, passedAt }) => passedAt !== null && !awards.has(check.code) && !closedAt(check, request.now));
  for (let progressed = true; progressed && open.length > 0; ) {
    progressed = false;
    const next: typeof open = [];
    for (const candidate of open) {
      if (made.has(candidate.check.code)) continue;
      let earnedAt = candidate.passedAt as number;
      let ready = true;
      for (const required of candidate.check.requires ?? []) {
        const at = awardedAt(required);
        if (at === undefined) {
          ready = false;
          break;
        }
        if (at > earnedAt) earnedAt = at;
      }
      if (!ready) {
        next.push(candidate);
        continue;
      }
      made.set(candidate.check.code, earnedAt);
      result.push({ check: candidate.check, earnedAt });
      progressed = true;
    }
    open = next;
  }
  return result;
}
