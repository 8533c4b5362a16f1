import type { Effects, SubjectEffects } from "../src/model/effects.ts";
import type { ProgressUpdate } from "../src/model/progress.ts";
import type { RejectionReason } from "../src/protocol/client-messages.ts";

/**
 * What one process publishes (through Colyseus presence) for one subject: plain JSON, so it crosses
 * processes with RedisPresence. Texts are not in it: each receiving process resolves them per client
 * locale with `describeUnlock`, so two clients of one player in two languages both read their own.
 */
export type SubjectPush = Omit<SubjectEffects, "claimed">;

/**
 * An admin's preview of `code` for every client of `subject` (nothing is awarded). Like a subject push it
 * carries no texts: each process resolves them for its own clients.
 */
export interface PreviewPush {
  readonly subject: string;
  readonly code: string;
  /** Texts in this locale for every client; absent: each client's own locale. */
  readonly locale?: string;
  /** The preview's `earnedAt`, the same on every process. */
  readonly at: number;
}

/** A `progression:rejected` for every client of `subject` (e.g. a stat guard refused its events). */
export interface RejectionPush {
  readonly subject: string;
  readonly reason: RejectionReason;
}

/** The pushes of one change: what each subject's clients are told. */
export function pushesOf(effects: Effects): SubjectPush[] {
  return effects.subjects.map(({ subject, reached, progress, inventory, holds, expiredHolds }) => ({ subject, reached, progress, inventory, holds, expiredHolds }));
}

export function isEmptyPush(push: SubjectPush): boolean {
  return (
    push.reached.length === 0 &&
    push.progress.length === 0 &&
    push.inventory.length === 0 &&
    push.holds.length === 0 &&
    push.expiredHolds.length === 0
  );
}

/** At most one progress update per milestone: the last one wins (it is the most recent measure). */
export function lastProgressPerCode(updates: readonly ProgressUpdate[]): ProgressUpdate[] {
  const byCode = new Map<string, ProgressUpdate>();
  for (const update of updates) byCode.set(update.code, update);
  return [...byCode.values()];
}
