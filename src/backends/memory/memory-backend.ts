import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import { newHoldId, subjectOfHoldId } from "../contract/hold-id.ts";
import type { HoldReceipt, HoldRequest, HoldSettleRequest, LedgerEffects, LedgerList, MutationReceipt, QuantityRequest, TransferRequest } from "../contract/ledger-backend.ts";
import type { HoldRecord } from "../../model/hold.ts";
import type { ApplyRequest, ClaimRequest, ClaimResult, ProgressionBackend, SubjectApplyResult } from "../contract/progression-backend.ts";
import type { ArchivedHistory, SeedRequest, SeedResult, SubjectHistory } from "../contract/history-backend.ts";
import type { HistorySelector, HistoryStatus } from "../../model/history.ts";
import { selects } from "../../model/history.ts";
import type { AwardRecord } from "../../model/award.ts";
import { dropArchived, historyStatusOf } from "./memory-history.ts";
import type { Balance } from "../../model/balance.ts";
import type { SubjectLoader, SubjectSnapshot, SubjectState } from "../../model/subject-state.ts";
import { applyIncrements } from "./apply-increments.ts";
import { counterKind } from "../../counters/counter-kinds.ts";
import type { Reward } from "../../model/milestone.ts";
import { emptySubject, type MemorySubject } from "./memory-subject.ts";
import type { MilestoneCounts } from "../../model/milestone-stats.ts";

export interface MemoryBackendOptions {
  /** How long idempotency keys and settled holds are remembered. Default: 24 h. */
  idempotencyRetentionMs?: number;
  /** How long event ids are remembered for dedupe. Default: 7 days. */
  eventIdRetentionMs?: number;
  /** Restore hook: called the first time a subject is touched, before anything is applied to it. */
  loader?: SubjectLoader;
}

export const memoryBackendDefaults = {
  idempotencyRetentionMs: 24 * 60 * 60 * 1000,
  eventIdRetentionMs: 7 * 24 * 60 * 60 * 1000,
} as const;

/**
 * The embedded backend: all state in this process's memory, every operation synchronous once the
 * subject is loaded, hence atomic. Same semantics as Redis (one conformance suite); nothing survives
 * a restart unless durability snapshots it.
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): ProgressionBackend {
  return new MemoryBackend({ ...memoryBackendDefaults, ...options });
}

type Resolved = Required<Omit<MemoryBackendOptions, "loader">> & { loader?: SubjectLoader };

class MemoryBackend implements ProgressionBackend {
  readonly kind = "memory";
  private readonly subjects = new Map<string, MemorySubject>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  /** Open holds by id -> expiresAt, for the expiry job. */
  private readonly openHolds = new Map<string, number>();
  /** Per milestone code: players who reached and claimed it, changed with the awards themselves. */
  private readonly stats = new Map<string, { reached: number; claimed: number }>();
  /** Counter sets the engine registered: set id -> its counter ids. */
  private readonly counterSets = new Map<string, readonly string[]>();
  private closed = false;
  private readonly options: Resolved;

  constructor(options: Resolved) {
    this.options = options;
  }

  // ---- progress -------------------------------------------------------------------------------

  async apply(request: ApplyRequest): Promise<readonly SubjectApplyResult[]> {
    await this.load(request.subjects.map((s) => s.subject));
    return request.subjects.map((apply) => {
      const state = this.state(apply.subject);
      const applied = applyIncrements(state, apply, request.batchId, request.plan, request.now, this.options.eventIdRetentionMs);
      if (applied.duplicate) return { subject: apply.subject, duplicate: true, reached: [], progress: [], balances: [] };
      // autoClaim rewards that would pass the largest safe balance are not granted: the award stays
      // completed (claimable later) and the gameplay still counts.
      const credits = new Map<string, number>();
      for (const { code, rewards } of applied.autoClaimed) {
        const after = creditsAfter(state.free, credits, rewards);
        if (after === null) applied.unclaim(code);
        else for (const [item, free] of after) credits.set(item, free);
      }
      applied.commit();
      for (const [item, free] of credits) state.free.set(item, free);
      for (const award of applied.reached) this.countAward(award, 1);
      this.dirty.add(apply.subject);
      return {
        subject: apply.subject,
        duplicate: false,
        reached: applied.reached,
        progress: applied.progress,
        balances: [...credits.keys()].map((item) => balanceOf(apply.subject, state, item)),
      };
    });
  }

  async readState(subject: string): Promise<SubjectState> {
    await this.load([subject]);
    const state = this.state(subject);
    return {
      subject,
      counters: new Map([...state.counters].map(([id, counter]) => [id, counterKind(counter.kind).toState(counter)])),
      awards: new Map(state.awards),
    };
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    await this.load([request.subject]);
    const state = this.state(request.subject);
    const fingerprint = JSON.stringify(["claim", request.code]);
    const replay = this.replay<ClaimResult>(state, request.idempotencyKey, fingerprint, request.now);
    if (replay !== undefined) return { ...replay, replayed: true };
    const award = state.awards.get(request.code);
    if (award === undefined) {
      throw new ProgressionError(ErrorCode.NotCompleted, `milestone ${JSON.stringify(request.code)} is not completed by ${JSON.stringify(request.subject)} yet; only completed milestones can be claimed`, { subject: request.subject, code: request.code });
    }
    if (award.claimedAt !== null) {
      throw new ProgressionError(ErrorCode.AlreadyClaimed, `milestone ${JSON.stringify(request.code)} was already claimed by ${JSON.stringify(request.subject)}`, { subject: request.subject, code: request.code, claimedAt: award.claimedAt });
    }
    const credits = creditsAfter(state.free, new Map(), request.rewards);
    if (credits === null) {
      throw new ProgressionError(ErrorCode.InvalidQuantity, `claiming ${JSON.stringify(request.code)} would pass the largest safe balance of a reward item of ${JSON.stringify(request.subject)}; nothing was claimed`, { subject: request.subject, code: request.code });
    }
    state.awards.set(request.code, { ...award, claimedAt: request.now });
    for (const [item, free] of credits) state.free.set(item, free);
    this.count(request.code, 0, 1);
    const items = [...new Set(request.rewards.map((reward) => reward.item))];
    const result: ClaimResult = {
      subject: request.subject,
      code: request.code,
      claimedAt: request.now,
      rewards: request.rewards,
      balances: items.map((item) => balanceOf(request.subject, state, item)),
      replayed: false,
    };
    this.remember(state, request.idempotencyKey, fingerprint, result, request.now);
    this.dirty.add(request.subject);
    return result;
  }

  // ---- history --------------------------------------------------------------------------------

  async historyStatus(subject: string): Promise<HistoryStatus> {
    await this.load([subject]);
    return historyStatusOf(this.state(subject).history);
  }

  async readHistory(subject: string, selection?: readonly HistorySelector[]): Promise<SubjectHistory> {
    await this.load([subject]);
    const { history } = this.state(subject);
    const parts = [...history.parts.values()];
    return { status: historyStatusOf(history), parts: selection === undefined ? parts : parts.filter((part) => selects(selection, part.type, part.tags)) };
  }

  async historyStatuses(subjects: readonly string[]): Promise<readonly HistoryStatus[]> {
    return Promise.all(subjects.map((subject) => this.historyStatus(subject)));
  }

  async readHistories(subjects: readonly string[], selection?: readonly HistorySelector[]): Promise<readonly SubjectHistory[]> {
    return Promise.all(subjects.map((subject) => this.readHistory(subject, selection)));
  }

  async seedMany(requests: readonly SeedRequest[]): Promise<readonly SeedResult[]> {
    return Promise.all(requests.map((request) => this.seed(request)));
  }

  async seed(request: SeedRequest): Promise<SeedResult> {
    await this.load([request.subject]);
    const state = this.state(request.subject);
    if (state.history.version !== request.expectVersion) return { conflict: true, reached: [], balances: [] };
    for (const { counter, state: counterState } of request.counters) state.counters.set(counter, counterKind(counterState.kind).fromState(counterState));
    const reached: AwardRecord[] = [];
    const credits = new Map<string, number>();
    for (const { check, earnedAt } of request.awards) {
      if (state.awards.has(check.code)) continue;
      const after = check.autoClaimRewards === null ? null : creditsAfter(state.free, credits, check.autoClaimRewards);
      if (after !== null) for (const [item, free] of after) credits.set(item, free);
      const record: AwardRecord = { code: check.code, earnedAt, retroactive: true, claimedAt: after === null ? null : request.now };
      state.awards.set(check.code, record);
      reached.push(record);
      this.countAward(record, 1);
    }
    for (const [item, free] of credits) state.free.set(item, free);
    state.history.completeFor = request.counterSet;
    state.history.version += 1;
    this.dirty.add(request.subject);
    return { conflict: false, reached, balances: [...credits.keys()].map((item) => balanceOf(request.subject, state, item)) };
  }

  async registerCounterSet(counterSet: string, counters: readonly string[]): Promise<void> {
    if (!this.counterSets.has(counterSet)) this.counterSets.set(counterSet, [...counters]);
  }

  async counterSetOf(counterSet: string): Promise<readonly string[] | null> {
    return this.counterSets.get(counterSet) ?? null;
  }

  async historySubjects(cursor: string, limit: number): Promise<{ subjects: readonly string[]; cursor: string }> {
    const start = Number(cursor);
    const subjects: string[] = [];
    let index = 0;
    let next = "0";
    for (const [subject, state] of this.subjects) {
      index += 1;
      if (index <= start) continue;
      if (subjects.length >= limit) {
        next = String(index - 1);
        break;
      }
      if (state.history.completeFor !== null) subjects.push(subject);
    }
    return { subjects, cursor: next };
  }

  async dropArchivedHistory(archived: readonly ArchivedHistory[], beforeDay: number): Promise<void> {
    for (const { subject, parts } of archived) {
      const state = this.subjects.get(subject);
      if (state !== undefined) dropArchived(state.history, parts, beforeDay);
    }
  }

  // ---- ledger ---------------------------------------------------------------------------------

  async acquire(request: QuantityRequest): Promise<MutationReceipt> {
    return this.mutate(request.subject, request.idempotencyKey, ["acquire", request.subject, request.item, request.quantity], request.now, (state) => {
      credit(state.free, request.item, request.quantity);
      return { balances: [balanceOf(request.subject, state, request.item)] };
    });
  }

  async consume(request: QuantityRequest): Promise<MutationReceipt> {
    return this.mutate(request.subject, request.idempotencyKey, ["consume", request.subject, request.item, request.quantity], request.now, (state) => {
      debit(state, request.subject, request.item, request.quantity);
      return { balances: [balanceOf(request.subject, state, request.item)] };
    });
  }

  async transfer(request: TransferRequest): Promise<MutationReceipt> {
    await this.load([request.to]);
    return this.mutate(request.from, request.idempotencyKey, ["transfer", request.from, request.to, request.item, request.quantity], request.now, (state) => {
      const target = this.state(request.to);
      const expired = this.releaseExpired(request.to, target, request.now);
      debit(state, request.from, request.item, request.quantity);
      credit(target.free, request.item, request.quantity);
      this.dirty.add(request.to);
      return {
        balances: [balanceOf(request.from, state, request.item), balanceOf(request.to, target, request.item)],
        extraExpired: expired,
      };
    });
  }

  async hold(request: HoldRequest): Promise<HoldReceipt> {
    const receipt = await this.mutate(request.subject, request.idempotencyKey, ["hold", request.subject, request.item, request.quantity, request.ttlMs], request.now, (state) => {
      debit(state, request.subject, request.item, request.quantity);
      credit(state.held, request.item, request.quantity);
      const hold: HoldRecord = {
        holdId: newHoldId(request.subject),
        subject: request.subject,
        item: request.item,
        quantity: request.quantity,
        createdAt: request.now,
        expiresAt: request.now + request.ttlMs,
        state: "held",
        settledAt: null,
      };
      state.holds.set(hold.holdId, { record: hold, forgetAt: Number.POSITIVE_INFINITY });
      this.openHolds.set(hold.holdId, hold.expiresAt);
      return { balances: [balanceOf(request.subject, state, request.item)], hold };
    });
    return receipt as HoldReceipt;
  }

  async commit(request: HoldSettleRequest): Promise<HoldReceipt> {
    return this.settle(request, "committed");
  }

  async release(request: HoldSettleRequest): Promise<HoldReceipt> {
    return this.settle(request, "released");
  }

  async getHold(holdId: string, now: number): Promise<HoldRecord> {
    const subject = subjectOfHoldId(holdId);
    await this.load([subject]);
    const state = this.state(subject);
    this.releaseExpired(subject, state, now);
    return this.findHold(state, holdId, now);
  }

  async balance(subject: string, item: string, now: number): Promise<{ balance: Balance } & LedgerEffects> {
    await this.load([subject]);
    const state = this.state(subject);
    const expiredHolds = this.releaseExpired(subject, state, now);
    const balance = balanceOf(subject, state, item);
    return { balance, balances: expiredHolds.length > 0 ? [balance] : [], expiredHolds };
  }

  async list(subject: string, now: number): Promise<LedgerList> {
    await this.load([subject]);
    const state = this.state(subject);
    const expiredHolds = this.releaseExpired(subject, state, now);
    const items = new Set([...state.free.keys(), ...state.held.keys()]);
    const balances = [...items].sort().map((item) => balanceOf(subject, state, item)).filter((b) => b.free > 0 || b.held > 0);
    // The order of Redis' timers zset: by expiresAt, then hold id byte by byte.
    const openHolds = [...state.holds.values()]
      .map((entry) => entry.record)
      .filter((hold) => hold.state === "held" && hold.expiresAt > now)
      .sort((a, b) => a.expiresAt - b.expiresAt || (a.holdId < b.holdId ? -1 : a.holdId > b.holdId ? 1 : 0));
    return { balances, expiredHolds, openHolds };
  }

  async expireHolds(now: number, limit: number): Promise<readonly HoldRecord[]> {
    const due = [...this.openHolds].filter(([, expiresAt]) => expiresAt <= now).sort((a, b) => a[1] - b[1]).slice(0, limit);
    const subjects = [...new Set(due.map(([holdId]) => subjectOfHoldId(holdId)))];
    await this.load(subjects);
    const expired: HoldRecord[] = [];
    for (const subject of subjects) expired.push(...this.releaseExpired(subject, this.state(subject), now));
    return expired.sort((a, b) => a.expiresAt - b.expiresAt).slice(0, Math.max(limit, 0));
  }

  // ---- durability -----------------------------------------------------------------------------

  async takeDirtySubjects(limit: number): Promise<readonly string[]> {
    const taken: string[] = [];
    for (const subject of this.dirty) {
      if (taken.length >= limit) break;
      taken.push(subject);
    }
    for (const subject of taken) this.dirty.delete(subject);
    return taken;
  }

  async markDirty(subjects: readonly string[]): Promise<void> {
    for (const subject of subjects) this.dirty.add(subject);
  }

  async dirtyCount(): Promise<number> {
    return this.dirty.size;
  }

  async exportSubjects(subjects: readonly string[]): Promise<readonly SubjectSnapshot[]> {
    await this.load(subjects);
    return subjects.map((subject) => {
      const state = this.state(subject);
      const items = new Set([...state.free.keys(), ...state.held.keys()]);
      return {
        subject,
        counters: new Map([...state.counters].map(([id, counter]) => [id, counterKind(counter.kind).toState(counter)])),
        awards: new Map(state.awards),
        balances: [...items].sort().map((item) => balanceOf(subject, state, item)).filter((b) => b.free > 0 || b.held > 0),
        holds: [...state.holds.values()].map((entry) => entry.record).filter((hold) => hold.state === "held"),
        history: [...state.history.parts.values()],
        historyCompleteFor: state.history.completeFor,
      };
    });
  }

  async eraseSubject(subject: string): Promise<void> {
    const state = this.subjects.get(subject);
    if (state !== undefined) for (const holdId of state.holds.keys()) this.openHolds.delete(holdId);
    if (state !== undefined) for (const award of state.awards.values()) this.countAward(award, -1);
    this.subjects.delete(subject);
    this.dirty.delete(subject);
  }

  async milestoneStats(): Promise<ReadonlyMap<string, MilestoneCounts>> {
    return new Map([...this.stats].map(([code, counts]) => [code, { ...counts }]));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Makes sure each subject's state is present, calling the loader once per unknown subject. */
  private async load(subjects: readonly string[]): Promise<void> {
    if (this.closed) throw new ProgressionError(ErrorCode.Closed, "the memory backend is closed; create a new one");
    const loader = this.options.loader;
    if (loader === undefined) return;
    const pending: Promise<void>[] = [];
    for (const subject of subjects) {
      if (this.subjects.has(subject)) continue;
      let loading = this.loading.get(subject);
      if (loading === undefined) {
        loading = loader(subject).then((snapshot) => {
          if (this.subjects.has(subject)) return;
          const state = snapshot ? stateFromSnapshot(snapshot, this.openHolds) : emptySubject();
          this.subjects.set(subject, state);
          // A restored subject's awards count once, as the Redis import does (this store started empty).
          for (const award of state.awards.values()) this.countAward(award, 1);
        }).finally(() => this.loading.delete(subject));
        this.loading.set(subject, loading);
      }
      pending.push(loading);
    }
    await Promise.all(pending);
  }

  /** Adds (1) or takes out (-1) one award, and its claim if it is claimed. */
  private countAward(award: AwardRecord, sign: 1 | -1): void {
    this.count(award.code, sign, award.claimedAt === null ? 0 : sign);
  }

  private count(code: string, reached: number, claimed: number): void {
    const counts = this.stats.get(code) ?? { reached: 0, claimed: 0 };
    counts.reached += reached;
    counts.claimed += claimed;
    if (counts.reached === 0 && counts.claimed === 0) this.stats.delete(code);
    else this.stats.set(code, counts);
  }

  private state(subject: string): MemorySubject {
    let state = this.subjects.get(subject);
    if (state === undefined) {
      state = emptySubject();
      this.subjects.set(subject, state);
    }
    return state;
  }

  private replay<T>(state: MemorySubject, key: string, fingerprint: string, now: number): T | undefined {
    const record = state.idempotency.get(key);
    if (record === undefined) return undefined;
    if (record.expiresAt <= now) {
      state.idempotency.delete(key);
      return undefined;
    }
    if (record.fingerprint !== fingerprint) {
      throw new ProgressionError(
        ErrorCode.IdempotencyConflict,
        `idempotency key ${JSON.stringify(key)} was already used for a different request; use a new key for a new mutation`,
        { idempotencyKey: key },
      );
    }
    return record.result as T;
  }

  private remember(state: MemorySubject, key: string, fingerprint: string, result: unknown, now: number): void {
    state.idempotency.set(key, { fingerprint, result, expiresAt: now + this.options.idempotencyRetentionMs });
    if (state.idempotency.size % 1024 === 0) {
      for (const [k, record] of state.idempotency) if (record.expiresAt <= now) state.idempotency.delete(k);
    }
  }

  /** Shared path of keyed mutations: load, lazy expiry, replay or run, remember. Atomic once loaded. */
  private async mutate(
    subject: string,
    key: string,
    request: readonly unknown[],
    now: number,
    run: (state: MemorySubject) => { balances: Balance[]; hold?: HoldRecord; extraExpired?: HoldRecord[] },
  ): Promise<MutationReceipt & { hold?: HoldRecord }> {
    await this.load([subject]);
    const state = this.state(subject);
    const expiredHolds = this.releaseExpired(subject, state, now);
    try {
      const fingerprint = JSON.stringify(request);
      const replay = this.replay<{ balances: Balance[]; hold?: HoldRecord }>(state, key, fingerprint, now);
      if (replay !== undefined) return { ...replay, expiredHolds, replayed: true };
      const { extraExpired, ...result } = run(state);
      this.remember(state, key, fingerprint, result, now);
      this.dirty.add(subject);
      return { ...result, expiredHolds: extraExpired ? [...expiredHolds, ...extraExpired] : expiredHolds, replayed: false };
    } catch (error) {
      throw withExpired(error, expiredHolds);
    }
  }

  private async settle(request: HoldSettleRequest, target: "committed" | "released"): Promise<HoldReceipt> {
    const subject = subjectOfHoldId(request.holdId);
    await this.load([subject]);
    const state = this.state(subject);
    const expiredHolds = this.releaseExpired(subject, state, request.now);
    try {
      const hold = this.findHold(state, request.holdId, request.now);
      if (hold.state === target || (target === "released" && hold.state === "expired")) {
        return { hold, balances: [], expiredHolds, replayed: true };
      }
      if (hold.state === "expired") {
        throw new ProgressionError(ErrorCode.HoldExpired, `hold ${request.holdId} expired at ${new Date(hold.expiresAt).toISOString()}; its quantity went back to free. Place a new hold`, { holdId: request.holdId, expiresAt: hold.expiresAt });
      }
      if (hold.state !== "held") {
        throw new ProgressionError(ErrorCode.HoldClosed, `hold ${request.holdId} was already ${hold.state}; it cannot be ${target}`, { holdId: request.holdId, state: hold.state });
      }
      debitHeld(state, hold);
      if (target === "released") credit(state.free, hold.item, hold.quantity);
      const settled: HoldRecord = { ...hold, state: target, settledAt: request.now };
      state.holds.set(hold.holdId, { record: settled, forgetAt: request.now + this.options.idempotencyRetentionMs });
      this.openHolds.delete(hold.holdId);
      this.dirty.add(subject);
      return { hold: settled, balances: [balanceOf(subject, state, hold.item)], expiredHolds, replayed: false };
    } catch (error) {
      throw withExpired(error, expiredHolds);
    }
  }

  private findHold(state: MemorySubject, holdId: string, now: number): HoldRecord {
    const entry = state.holds.get(holdId);
    if (entry === undefined || entry.forgetAt <= now) {
      if (entry !== undefined) state.holds.delete(holdId);
      throw new ProgressionError(ErrorCode.HoldUnknown, `hold ${holdId} does not exist (never created, or settled more than the retention period ago)`, { holdId });
    }
    return entry.record;
  }

  /** Lazy expiry: releases every open hold of the subject whose time is up. */
  private releaseExpired(subject: string, state: MemorySubject, now: number): HoldRecord[] {
    const expired: HoldRecord[] = [];
    for (const [holdId, entry] of state.holds) {
      const hold = entry.record;
      if (hold.state !== "held" || hold.expiresAt > now) continue;
      debitHeld(state, hold);
      credit(state.free, hold.item, hold.quantity);
      const settled: HoldRecord = { ...hold, state: "expired", settledAt: now };
      state.holds.set(holdId, { record: settled, forgetAt: now + this.options.idempotencyRetentionMs });
      this.openHolds.delete(holdId);
      expired.push(settled);
    }
    if (expired.length > 0) this.dirty.add(subject);
    return expired;
  }
}

/** Free balances after granting `rewards` on top of `staged` ones, or null if one would pass MAX_SAFE. */
function creditsAfter(free: ReadonlyMap<string, number>, staged: ReadonlyMap<string, number>, rewards: readonly Reward[]): Map<string, number> | null {
  const after = new Map<string, number>();
  for (const reward of rewards) {
    const next = (after.get(reward.item) ?? staged.get(reward.item) ?? free.get(reward.item) ?? 0) + reward.quantity;
    if (!Number.isSafeInteger(next)) return null;
    after.set(reward.item, next);
  }
  return after;
}

function credit(map: Map<string, number>, item: string, quantity: number): void {
  const next = (map.get(item) ?? 0) + quantity;
  if (!Number.isSafeInteger(next)) {
    throw new ProgressionError(ErrorCode.InvalidQuantity, `crediting ${quantity} of ${item} would exceed the largest safe integer balance`, { item, quantity });
  }
  map.set(item, next);
}

function debit(state: MemorySubject, subject: string, item: string, quantity: number): void {
  const free = state.free.get(item) ?? 0;
  if (free < quantity) {
    throw new ProgressionError(ErrorCode.Insufficient, `${subject} has ${free} free ${item}, needs ${quantity}`, { subject, item, free, requested: quantity });
  }
  if (free === quantity) state.free.delete(item);
  else state.free.set(item, free - quantity);
}

function debitHeld(state: MemorySubject, hold: HoldRecord): void {
  const held = (state.held.get(hold.item) ?? 0) - hold.quantity;
  if (held <= 0) state.held.delete(hold.item);
  else state.held.set(hold.item, held);
}

function balanceOf(subject: string, state: MemorySubject, item: string): Balance {
  return { subject, item, free: state.free.get(item) ?? 0, held: state.held.get(item) ?? 0 };
}

function withExpired(error: unknown, expiredHolds: readonly HoldRecord[]): unknown {
  if (expiredHolds.length === 0 || !(error instanceof ProgressionError)) return error;
  return new ProgressionError(error.code, error.message, { ...error.details, expiredHolds });
}

function stateFromSnapshot(snapshot: SubjectSnapshot, openHolds: Map<string, number>): MemorySubject {
  const state = emptySubject();
  for (const [id, counter] of snapshot.counters) state.counters.set(id, counterKind(counter.kind).fromState(counter));
  for (const [code, award] of snapshot.awards) state.awards.set(code, award);
  for (const balance of snapshot.balances) {
    if (balance.free > 0) state.free.set(balance.item, balance.free);
    if (balance.held > 0) state.held.set(balance.item, balance.held);
  }
  for (const hold of snapshot.holds) {
    state.holds.set(hold.holdId, { record: hold, forgetAt: Number.POSITIVE_INFINITY });
    openHolds.set(hold.holdId, hold.expiresAt);
  }
  // The rollups stay in the archive (a new part starts here); what the counters are complete for is kept.
  state.history.completeFor = snapshot.historyCompleteFor ?? null;
  return state;
}
