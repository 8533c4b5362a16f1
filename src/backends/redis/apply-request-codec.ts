import { createHash } from "node:crypto";
import { Packr } from "msgpackr";
import { counterKind } from "../../counters/counter-kinds.ts";
import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import { dependentsOf, type CounterPlan, type CounterSpec, type ThresholdCheck } from "../../model/counter-plan.ts";
import type { ApplyRequest, CheckProgress, GuardBreach, GuardCheck, SubjectApply, SubjectApplyResult } from "../contract/progression-backend.ts";
import type { AwardRecord } from "../../model/award.ts";
import type { Balance } from "../../model/balance.ts";
import { requireQuantity, requireText, requireTime } from "./boundary-validation.ts";
import { historyLogLine, rawEventsLogLine } from "./history-codec.ts";
import { dayOf } from "../../model/utc-day.ts";

/**
 * Packs apply requests for applyBatch-n.lua (msgpack, plain arrays) and unpacks its replies.
 * Counter specs are packed once per plan version and only the counters a group touches are sent.
 */

export const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: "number" });

/**
 * A check: [code, target, windowDays, rewards|0], then for a milestone with preconditions or a period
 * [requires|0, availableUntil|0] (absent otherwise, so a plan without them packs as it always did).
 */
type PackedCheck =
  | [code: string, target: number, windowDays: number, rewards: Array<[string, number]> | 0]
  | [code: string, target: number, windowDays: number, rewards: Array<[string, number]> | 0, requires: string[] | 0, availableUntil: number];
export type PackedCounter = [id: string, kind: string, keepDays: number, checks: PackedCheck[]];

/** One check as the scripts read it (applyBatch-n.lua's counter specs, seed-6.lua's awards and dependents). */
export function packCheck(check: ThresholdCheck): PackedCheck {
  const rewards = check.autoClaimRewards === null ? 0 : check.autoClaimRewards.map((reward): [string, number] => [reward.item, reward.quantity]);
  const windowDays = Math.max(1, check.windowDays);
  if (check.requires === undefined && check.availableUntil === undefined) return [check.code, check.target, windowDays, rewards];
  return [check.code, check.target, windowDays, rewards, check.requires === undefined ? 0 : [...check.requires], check.availableUntil ?? 0];
}

function packCounter(spec: CounterSpec): PackedCounter {
  return [spec.id, counterKind(spec.kind).scriptCode, Math.max(1, spec.keepDays), spec.checks.map(packCheck)];
}

/**
 * Packed counter rows of one plan (in plan order), with what a group needs beyond the counters its
 * increments touch: per counter, the counters of the checks that require one of its checks, down every
 * chain (the script awards those dependents when their last precondition lands).
 */
export class PackedPlan extends Map<string, PackedCounter> {
  /** Counter id -> counters of its checks' dependents (transitively); only counters that have any. */
  readonly dependentCounters: ReadonlyMap<string, readonly string[]>;
  /** Counter id -> its place in the plan (a group with dependents sends its rows in plan order). */
  readonly position: ReadonlyMap<string, number>;

  constructor(plan: CounterPlan) {
    super([...plan.counters].map(([id, spec]) => [id, packCounter({ ...spec, id })]));
    this.position = new Map([...plan.counters.keys()].map((id, i) => [id, i]));
    const dependents = dependentsOf(plan);
    const closure = new Map<string, string[]>();
    if (dependents.size > 0) {
      for (const [id, spec] of plan.counters) {
        const found = new Set<string>();
        const queue = spec.checks.map((check) => check.code);
        const seen = new Set(queue);
        for (let code = queue.shift(); code !== undefined; code = queue.shift()) {
          for (const { counter, check } of dependents.get(code) ?? []) {
            if (counter.id !== id) found.add(counter.id);
            if (!seen.has(check.code)) {
              seen.add(check.code);
              queue.push(check.code);
            }
          }
        }
        if (found.size > 0) closure.set(id, [...found]);
      }
    }
    this.dependentCounters = closure;
  }
}

/** Packed counter rows of one plan version (cached: plans change rarely, batches often). */
export class PlanCache {
  #version: string | undefined;
  #plan: CounterPlan | undefined;
  #rows: PackedPlan | undefined;

  rows(plan: CounterPlan): PackedPlan {
    if (this.#rows === undefined || plan !== this.#plan || plan.version !== this.#version) {
      this.#rows = new PackedPlan(plan);
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
    for (const guard of entry.guards ?? []) {
      requireText(guard.trigger, "guard trigger", 200);
      requireQuantity(guard.amount, "guard amount");
      requireQuantity(guard.limit, "guard limit");
      requireQuantity(guard.windowMs, "guard windowMs");
      for (const counter of guard.counters) requireText(counter, "guard counter", 200);
    }
    for (const rollup of entry.history ?? []) {
      requireText(rollup.type, "history type", 200);
      requireQuantity(rollup.count, "history count");
      requireQuantity(rollup.sum, "history sum");
      requireTime(rollup.firstAt, "history firstAt");
      requireTime(rollup.lastAt, "history lastAt");
      if (rollup.rawEvents !== undefined) requireRawEvents(rollup.rawEvents, rollup.day);
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
            guards: mergeGuards(earlier.guards, entry.guards),
          },
    );
  }
  return [...bySubject.values()];
}

/** Raw events as the script stores them: pairs of a time on the rollup's day and a positive amount. */
function requireRawEvents(raw: readonly number[], day: number): void {
  if (raw.length % 2 !== 0) throw new ProgressionError(ErrorCode.InvalidInput, "apply: history rawEvents must be [at, amount] pairs (an even length)", { length: raw.length });
  for (let i = 0; i < raw.length; i += 2) {
    const at = requireTime(raw[i], "history raw event at");
    requireQuantity(raw[i + 1], "history raw event amount");
    if (dayOf(at) !== day) {
      throw new ProgressionError(ErrorCode.InvalidInput, `apply: a raw event at ${at} is not on its rollup's UTC day ${day}; raw events go with the rollup of their own day`, { at, day });
    }
  }
}

/** One guard per trigger: a subject listed twice checks the sum of both parts' amounts. */
function mergeGuards(a: readonly GuardCheck[] | undefined, b: readonly GuardCheck[] | undefined): GuardCheck[] | undefined {
  if (a === undefined || b === undefined) return a === undefined ? b?.slice() : a.slice();
  const byTrigger = new Map<string, GuardCheck>(a.map((guard) => [guard.trigger, guard]));
  for (const guard of b) {
    const earlier = byTrigger.get(guard.trigger);
    byTrigger.set(
      guard.trigger,
      earlier === undefined ? guard : { ...guard, amount: Math.min(Number.MAX_SAFE_INTEGER, earlier.amount + guard.amount), counters: [...new Set([...earlier.counters, ...guard.counters])] },
    );
  }
  return [...byTrigger.values()];
}

/** Longest trigger kept as is in its usage field name: "~g" + 60 bytes stays within the listpack's 64. */
const GUARD_FIELD_TRIGGER = 60;

/** The state-hash field of a trigger's window usage (includes/guards.lua). */
export function guardField(trigger: string): string {
  return Buffer.byteLength(trigger) <= GUARD_FIELD_TRIGGER ? `~g${trigger}` : `~G${createHash("sha256").update(trigger).digest("base64url").slice(0, 8)}`;
}

/** A subject's guard rows (includes/guards.lua), or 0 for none. */
function packGuards(guards: readonly GuardCheck[] | undefined): Array<string | number | string[]> | 0 {
  if (guards === undefined || guards.length === 0) return 0;
  const rows: Array<string | number | string[]> = [];
  for (const guard of guards) rows.push(guard.trigger, guardField(guard.trigger), guard.amount, guard.limit, guard.windowMs, [...guard.counters]);
  return rows;
}

/** The msgpack request of one subject group. */
export function packApplyGroup(
  group: readonly SubjectApply[],
  rows: PackedPlan,
  header: { now: number; checkRestore: boolean; eventIdRetentionMs: number; counterSet: string; historyMaxRollups: number },
): Buffer {
  const counters: PackedCounter[] = [];
  if (group.some((entry) => entry.catchUp)) {
    counters.push(...rows.values());
  } else {
    const seen = new Set<string>();
    let dependents = false;
    for (const entry of group) {
      for (const increment of entry.increments) {
        if (seen.has(increment.counter)) continue;
        seen.add(increment.counter);
        const row = rows.get(increment.counter);
        if (row) counters.push(row);
        if (rows.dependentCounters.has(increment.counter)) dependents = true;
      }
    }
    if (dependents) {
      // Counters of checks waiting on one of these (read only if a precondition lands), all in plan order
      // so the script resolves dependents in the order the memory backend does.
      for (const id of [...seen]) {
        for (const dependent of rows.dependentCounters.get(id) ?? []) {
          if (seen.has(dependent)) continue;
          seen.add(dependent);
          const row = rows.get(dependent);
          if (row) counters.push(row);
        }
      }
      counters.sort((a, b) => (rows.position.get(a[0]) ?? 0) - (rows.position.get(b[0]) ?? 0));
    }
  }
  const subjects = group.map((entry) => {
    const flat: Array<string | number> = [];
    for (const increment of entry.increments) flat.push(increment.counter, increment.amount, increment.at, increment.eventId ?? "");
    const guards = packGuards(entry.guards);
    if (entry.history === undefined) return [entry.subject, entry.catchUp ? 1 : 0, flat, 0, guards];
    // Rollups go as history log lines (the script appends them as they are); those of events with their
    // own id as rows, which the script keeps only if the id is new. Raw events (when the engine keeps
    // them) as lines of their own; an event with its own id gets its raw line from its row in the script.
    const lines: string[] = [];
    const idRows: Array<string | number> = [];
    let rawLines: string[] | undefined;
    let rawCap = 0;
    for (const r of entry.history) {
      if (r.rawKept !== undefined) {
        rawLines ??= [];
        rawCap = r.rawKept.maxPerRollup;
      }
      if (r.eventId === undefined) {
        lines.push(historyLogLine(r));
        const rawLine = r.rawKept === undefined ? null : rawEventsLogLine(r);
        if (rawLine !== null) rawLines?.push(rawLine);
      } else {
        idRows.push(r.type, r.tags, r.day, r.count, r.sum, r.firstAt, r.lastAt, r.maxAmount, r.eventId);
      }
    }
    const history = rawLines === undefined ? [lines.join("\n"), idRows] : [lines.join("\n"), idRows, rawLines.join("\n"), rawCap];
    return [entry.subject, entry.catchUp ? 1 : 0, flat, history, guards];
  });
  return packr.pack([header.now, header.checkRestore ? 1 : 0, header.eventIdRetentionMs, counters, subjects, header.counterSet, header.historyMaxRollups]);
}

/** One subject's reply: flat lists (see applyBatch-n.lua), or 0 for a duplicate's empty lists. */
type RawSubjectResult = [duplicate: number, reached: unknown[] | 0, progress: unknown[] | 0, balances: unknown[] | 0, appliedBy?: string, breaches?: unknown[] | 0];

export function unpackSubjectResult(subject: string, raw: RawSubjectResult): SubjectApplyResult {
  const [duplicate, reachedFlat, progressFlat, balancesFlat, , breachesFlat] = raw;
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
  const guarded: GuardBreach[] = [];
  if (duplicate !== 1 && Array.isArray(breachesFlat)) {
    for (let i = 0; i + 3 < breachesFlat.length; i += 4) {
      guarded.push({ trigger: breachesFlat[i] as string, limit: breachesFlat[i + 1] as number, windowMs: breachesFlat[i + 2] as number, value: breachesFlat[i + 3] as number });
    }
  }
  return guarded.length === 0 ? { subject, duplicate: duplicate === 1, reached, progress, balances } : { subject, duplicate: duplicate === 1, reached, progress, balances, guarded };
}

export type { RawSubjectResult };
