import type { ProgressionBackend, SubjectApply, SubjectApplyResult } from "../backends/contract/progression-backend.ts";

/**
 * A retried batch whose first attempt was applied but whose reply was lost comes back `duplicate`:
 * nothing changes (right), but the awards it earned were never reported. They are recovered from the
 * stored state, as the subject's non-retroactive awards stamped within the batch's time range, so
 * unlocks and `milestone.reached` still go out once (docs/semantics.md, "Recording: exactly once").
 * Retroactive awards (stamped earlier) and autoClaim balances are not recovered; the next snapshot or
 * catch-up shows them.
 */
export async function recoverUnreportedAwards(
  backend: Pick<ProgressionBackend, "readState">,
  results: readonly SubjectApplyResult[],
  subjects: readonly SubjectApply[],
): Promise<readonly SubjectApplyResult[]> {
  const bySubject = new Map(subjects.map((apply) => [apply.subject, apply]));
  return Promise.all(
    results.map(async (result) => {
      const increments = bySubject.get(result.subject)?.increments ?? [];
      if (!result.duplicate || increments.length === 0) return result;
      let from = Infinity;
      let to = -Infinity;
      for (const increment of increments) {
        from = Math.min(from, increment.at);
        to = Math.max(to, increment.at);
      }
      const state = await backend.readState(result.subject);
      const reached = [...state.awards.values()]
        .filter((award) => !award.retroactive && award.earnedAt >= from && award.earnedAt <= to)
        .sort((a, b) => a.earnedAt - b.earnedAt);
      return { ...result, reached };
    }),
  );
}
