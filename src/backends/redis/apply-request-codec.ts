import { createHash } from "node:crypto";
import { Packr } from "msgpackr";
import { counterKind } from "../../counters/counter-kinds.ts";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import type { CounterPlan, CounterSpec } from "../../model/counter-plan.ts";
import type { ApplyRequest, CheckProgress, SubjectApply, SubjectApplyResult } from "../contract/progression-backend.ts";
import type { AwardRecord } from "../../model/award.ts";
import type { Balance } from "../../model/balance.ts";
import { requireQuantity, requireText, requireTime } from "./boundary-validation.ts";
import { historyLogLine } from "./history-codec.ts";

/**
 * Packs apply requests for applyBatch-n.lua (msgpack, plain arrays) and unpacks its replies.
 * Counter specs are packed once per plan version and only the counters a group touches are sent.
 */

export const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: "number" });

type PackedCheck = [code: string, target: number, windowDays: number, rewards: Array<[string, number]> | 0];
export type PackedCounter = [id: string, kind: string, keepDays: number, checks: PackedCheck[]];

function packCounter(spec: CounterSpec): PackedCounter {
  return [
    spec.id,
    counterKind(spec.kind).scriptCode,
    Math.max(1, spec.keepDays),
    spec.checks.map((check): PackedCheck => [
      check.code,
      check.target,
      Math.max(1, check.windowDays),
      check.autoClaimRewards === null ? 0 : check.autoClaimRewards.map((reward): [string, number] => [reward.item, reward.quantity]),
    ]),
  ];
}

/** Packed counter rows of one plan version (cached: plans change rarely, batches often). */
export class PlanCache {
  #version: string | undefined;
  #plan: CounterPlan | undefined;
  #rows = new Map<string, PackedCounter>();

  rows(plan: CounterPlan): ReadonlyMap<string, PackedCounter> {
    if (plan !== this.#plan || plan.version !== this.#version) {
      this.#rows = new Map([...plan.counters].map(([id, spec]) => [id, packCounter({ ...spec, id })]));
      this.#plan = plan;
      this.#version = plan.version;
    }
    return this.#rows;
  }
}

/**
 * 6 bytes (48 bits) of SHA-1: what the per-subject ring of the 16 recent batch ids stores. A new
 * batch is mistaken for a recent one with probability 16 / 2^48 (about 6e-14) per subject apply.
 */
export function batchDigest(batchId: string): Buffer {
  return createHash("sha1").update(batchId).digest().subarray(0, 6);
}

/** Cheap structural checks; throws before any script runs. Merges repeated subjects (kept in order). */
export function validateApplyRequest(request: ApplyRequest): SubjectApply[] {
  requireText(request.batchId, "batchId");
  requireTime(request.now, "now");
  if (!request.plan || !(request.plan.counters instanceof Map)) {
    throw new ProgressionError(ErrorCode.InvalidInput, "apply: plan.counters must be the Map of a CounterPlan", {});
  }
  const bySubject = new Map<string, SubjectApply>();
  for (const entry of request.subjects) {
    const subject = requireText(entry.subject, "subject", 200);
    for (const increment of entry.increments) {
      if (!request.plan.counters.has(increment.counter)) {
        throw new ProgressionError(
          ErrorCode.InvalidInput,
          `apply: increment for counter ${JSON.stringify(increment.counter)} of subject ${JSON.stringify(subject)} is not in the plan (version ${request.plan.version}); derive increments from the same plan`,
          { counter: increment.counter, subject },
        );
      }
      requireQuantity(increment.amount, "amount");
      requireTime(increment.at, "at");
      if (increment.eventId !== undefined) requireText(increment.eventId, "eventId", 200);
    }
    for (const rollup of entry.history ?? []) {
      requireText(rollup.type, "history type", 200);
      requireQuantity(rollup.count, "history count");
      requireQuantity(rollup.sum, "history sum");
      requireTime(rollup.firstAt, "history firstAt");
      requireTime(rollup.lastAt, "history lastAt");
    }
    const earlier = bySubject.get(subject);
    // The common case keeps the caller's objects; a subject listed twice is merged (one script step).
    bySubject.set(
      subject,
      earlier === undefined
        ? entry
        : {
            subject,
            catchUp: earlier.catchUp || entry.catchUp,
            increments: [...earlier.increments, ...entry.increments].sort((a, b) => a.at - b.at),
            history: earlier.history === undefined && entry.history === undefined ? undefined : [...(earlier.history ?? []), ...(entry.history ?? [])],
          },
    );
  }
  return [...bySubject.values()];
}

/** The msgpack request of one subject group. */
export function packApplyGroup(
  group: readonly SubjectApply[],
  rows: ReadonlyMap<string, PackedCounter>,
  header: { now: number; checkRestore: boolean; eventIdRetentionMs: number; counterSet: string; historyMaxRollups: number },
): Buffer {
  const counters: PackedCounter[] = [];
  if (group.some((entry) => entry.catchUp)) {
    counters.push(...rows.values());
  } else {
    const seen = new Set<string>();
    for (const entry of group) {
      for (const increment of entry.increments) {
        if (seen.has(increment.counter)) continue;
        seen.add(increment.counter);
        const row = rows.get(increment.counter);
        if (row) counters.push(row);
      }
    }
  }
  const subjects = group.map((entry) => {
    const flat: Array<string | number> = [];
    for (const increment of entry.increments) flat.push(increment.counter, increment.amount, increment.at, increment.eventId ?? "");
    if (entry.history === undefined) return [entry.subject, entry.catchUp ? 1 : 0, flat, 0];
    // Rollups go as history log lines (the script appends them as they are); those of events with their
    // own id as rows, which the script keeps only if the id is new.
    const lines: string[] = [];
    const idRows: Array<string | number> = [];
    for (const r of entry.history) {
      if (r.eventId === undefined) lines.push(historyLogLine(r));
      else idRows.push(r.type, r.tags, r.day, r.count, r.sum, r.firstAt, r.lastAt, r.maxAmount, r.eventId);
    }
    return [entry.subject, entry.catchUp ? 1 : 0, flat, [lines.join("\n"), idRows]];
  });
  return packr.pack([header.now, header.checkRestore ? 1 : 0, header.eventIdRetentionMs, counters, subjects, header.counterSet, header.historyMaxRollups]);
}

/** One subject's reply: flat lists (see applyBatch-n.lua), or 0 for a duplicate's empty lists. */
type RawSubjectResult = [duplicate: number, reached: unknown[] | 0, progress: unknown[] | 0, balances: unknown[] | 0, appliedBy?: string];

export function unpackSubjectResult(subject: string, raw: RawSubjectResult): SubjectApplyResult {
  const [duplicate, reachedFlat, progressFlat, balancesFlat] = raw;
  const reached: AwardRecord[] = [];
  const progress: CheckProgress[] = [];
  const balances: Balance[] = [];
  if (Array.isArray(reachedFlat)) {
    for (let i = 0; i + 3 < reachedFlat.length; i += 4) {
      const claimedAt = reachedFlat[i + 3] as number;
      reached.push({
        code: reachedFlat[i] as string,
        earnedAt: reachedFlat[i + 1] as number,
        retroactive: reachedFlat[i + 2] === 1,
        claimedAt: claimedAt < 0 ? null : claimedAt,
      });
    }
  }
  if (Array.isArray(progressFlat)) {
    for (let i = 0; i + 1 < progressFlat.length; i += 2) progress.push({ code: progressFlat[i] as string, current: progressFlat[i + 1] as number });
  }
  if (Array.isArray(balancesFlat)) {
    for (let i = 0; i + 2 < balancesFlat.length; i += 3) {
      balances.push({ subject, item: balancesFlat[i] as string, free: balancesFlat[i + 1] as number, held: balancesFlat[i + 2] as number });
    }
  }
  return { subject, duplicate: duplicate === 1, reached, progress, balances };
}

export type { RawSubjectResult };
