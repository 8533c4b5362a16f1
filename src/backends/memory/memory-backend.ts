import { ErrorCode } from "../../errors/error-codes.ts";
import { ProgressionError } from "../../errors/progression-error.ts";
import { newHoldId, subjectOfHoldId } from "../contract/hold-id.ts";
import type { HoldReceipt, HoldRequest, HoldSettleRequest, LedgerEffects, LedgerList, MutationReceipt, QuantityRequest, TransferRequest } from "../contract/ledger-backend.ts";
import type { HoldRecord } from "../../model/hold.ts";
import type { ApplyRequest, ClaimRequest, ClaimResult, ProgressionBackend, RarityRequest, SubjectApplyResult } from "../contract/progression-backend.ts";
import { dayOf } from "../../model/utc-day.ts";
import type { ArchivedHistory, SeedRequest, SeedResult, SubjectHistory } from "../contract/history-backend.ts";
import type { HistorySelector, HistoryStatus } from "../../model/history.ts";
import { selects } from "../../model/history.ts";
import type { AwardRecord } from "../../model/award.ts";
import { dropArchived, dropExpiredRawEvents, historyStatusOf } from "./memory-history.ts";
import type { Balance } from "../../model/balance.ts";
import type { SubjectLoader, SubjectSnapshot, SubjectState } from "../../model/subject-state.ts";
import { applyIncrements } from "./apply-increments.ts";
import { seedAwards } from "./seed-awards.ts";
import { counterKind } from "../../counters/counter-kinds.ts";
import type { Reward } from "../../model/milestone.ts";
import { emptySubject, isKnownSubject, type MemorySubject } from "./memory-subject.ts";
import { before, HoldQueue, type QueuedHold } from "./hold-queue.ts";
import { ForgetQueue } from "./forget-queue.ts";
import type { MilestoneCounts } from "../../model/milestone-stats.ts";
import type { RarityCounts } from "../../model/rarity.ts";
import { RarityTally } from "./memory-rarity.ts";

export interface MemoryBackendOptions {
  /** How long idempotency keys and settled holds are remembered. Default: 24 h. */
  idempotencyRetentionMs?: number;
  /** How long event ids are remembered for dedupe. Default: 7 days. */
  eventIdRetentionMs?: number;
  /** Restore hook: called the first time a subject is touched, before anything is applied to it. */
  loader?: SubjectLoader;
}

/** What the ledger holds in memory (`ledgerStats()`), for tests and diagnostics. */
export interface MemoryLedgerStats {
  readonly subjects: number;
  /** Hold records remembered: open ones, and settled ones whose retention has not ended (or not been drained yet). */
  readonly holds: number;
  readonly openHolds: number;
  /** Settled holds and idempotency records waiting for their retention to end. */
  readonly pendingForget: number;
  /** Hold records and forget entries ledger calls have looked at since the backend was created. */
  readonly holdsVisited: number;
}

/** The embedded backend, with a look at its ledger's memory. */
export interface MemoryProgressionBackend extends ProgressionBackend {
  ledgerStats(): MemoryLedgerStats;
}

/** Settled records one ledger call forgets at most: a backlog shrinks by this much per call. */
const FORGET_PER_CALL = 64;

export const memoryBackendDefaults = {
  idempotencyRetentionMs: 24 * 60 * 60 * 1000,
  eventIdRetentionMs: 7 * 24 * 60 * 60 * 1000,
} as const;

/**
 * The embedded backend: all state in this process's memory, every operation synchronous once the
 * subject is loaded, hence atomic. Same semantics as Redis (one conformance suite); nothing survives
 * a restart unless durability snapshots it.
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryProgressionBackend {
  return new MemoryBackend({ ...memoryBackendDefaults, ...options });
}

type Resolved = Required<Omit<MemoryBackendOptions, "loader">> & { loader?: SubjectLoader };

class MemoryBackend implements MemoryProgressionBackend {
  readonly kind = "memory";
  private readonly subjects = new Map<string, MemorySubject>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  /** Open holds of every subject by expiry, for the expiry job. */
  private readonly dueHolds = new HoldQueue();
  /** Settled holds and idempotency records, in the order their retention ends. */
  private readonly forgetting = new ForgetQueue();
  /** Hold records and forget entries ledger calls looked at (ledgerStats: no call scans what is settled). */
  private holdsVisited = 0;
  /** Per milestone code: players who reached and claimed it, changed with the awards themselves. */
  private readonly stats = new Map<string, { reached: number; claimed: number }>();
  private readonly rarity = new RarityTally();
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
      if (applied.duplicate) {
        // What the first apply of this batch did, from the outbox: its reply may have been lost.
        const stored = state.outbox.get(request.batchId);
        return { subject: apply.subject, duplicate: true, reached: stored?.reached ?? [], progress: [], balances: (stored?.items ?? []).map((item) => balanceOf(apply.subject, state, item)) };
      }
      // autoClaim rewards that would pass the largest safe balance are not granted: the award stays
      // completed (claimable later) and the gameplay still counts.
      const credits = new Map<string, number>();
      for (const { code, rewards } of applied.autoClaimed) {
        const after = creditsAfter(state, credits, rewards);
        if (after === null) applied.unclaim(code);
        else for (const [item, free] of after) credits.set(item, free);
      }
      // Rarity: this subject is active today (before commit: its new awards are counted once, below).
      const activeDay = this.rarity.noteActivity(state, dayOf(request.now));
      applied.commit();
      dropExpiredRawEvents(state.history, request.now);
      for (const [item, free] of credits) state.free.set(item, free);
      for (const award of applied.reached) {
        this.countAward(award, 1);
        this.rarity.countHolder(award.code, 1, activeDay);
      }
      if (applied.reached.length > 0 || credits.size > 0) state.outbox.set(request.batchId, { reached: applied.reached, items: [...credits.keys()] });
      this.dirty.add(apply.subject);
      return {
        subject: apply.subject,
        duplicate: false,
        reached: applied.reached,
        progress: applied.progress,
        balances: [...credits.keys()].map((item) => balanceOf(apply.subject, state, item)),
        ...(applied.guarded.length === 0 ? {} : { guarded: applied.guarded }),
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
    this.forgetDue(request.now);
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
    const credits = creditsAfter(state, new Map(), request.rewards);
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
    this.remember(state, request.subject, request.idempotencyKey, fingerprint, result, request.now);
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
    // Preconditions and seasonal periods decide which of them are made, and when (seed-awards.ts).
    for (const { check, earnedAt } of seedAwards(state.awards, state.counters, request)) {
      if (state.awards.has(check.code)) continue;
      const after = check.autoClaimRewards === null ? null : creditsAfter(state, credits, check.autoClaimRewards);
      if (after !== null) for (const [item, free] of after) credits.set(item, free);
      const record: AwardRecord = { code: check.code, earnedAt, retroactive: true, claimedAt: after === null ? null : request.now };
      state.awards.set(check.code, record);
      reached.push(record);
      this.countAward(record, 1);
      this.rarity.countHolder(record.code, 1, state.lastActiveDay);
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
  // Every mutation validates everything it would write before writing anything: a refused call
  // changes nothing but the lazy expiries it reports (in `details.expiredHolds`).

  async acquire(request: QuantityRequest): Promise<MutationReceipt> {
    return this.mutate([request.subject], request.idempotencyKey, ["acquire", request.subject, request.item, request.quantity], request.now, (state) => {
      sumWithin(totalOf(state, request.item), request.quantity, `crediting ${request.quantity} ${request.item} to ${request.subject}`);
      state.free.set(request.item, (state.free.get(request.item) ?? 0) + request.quantity);
      return { balances: [balanceOf(request.subject, state, request.item)] };
    });
  }

  async consume(request: QuantityRequest): Promise<MutationReceipt> {
    return this.mutate([request.subject], request.idempotencyKey, ["consume", request.subject, request.item, request.quantity], request.now, (state) => {
      setAmount(state.free, request.item, requireFree(state, request.subject, request.item, request.quantity) - request.quantity);
      return { balances: [balanceOf(request.subject, state, request.item)] };
    });
  }

  async transfer(request: TransferRequest): Promise<MutationReceipt> {
    // allowNewReceiver is a permission, not part of what the transfer does: a retry without it replays.
    return this.mutate([request.from, request.to], request.idempotencyKey, ["transfer", request.from, request.to, request.item, request.quantity], request.now, (state) => {
      if (request.allowNewReceiver !== true && !isKnownSubject(this.subjects.get(request.to))) {
        throw new ProgressionError(
          ErrorCode.UnknownSubject,
          `transfer to ${JSON.stringify(request.to)} refused: the store has never seen that subject (no balance, hold, award, counter or history), so it may be an id nobody can log in as; check the id, or pass allowNewReceiver: true to give to a new player. Nothing was moved`,
          { subject: request.to, from: request.from },
        );
      }
      const free = requireFree(state, request.from, request.item, request.quantity);
      const target = this.state(request.to);
      sumWithin(totalOf(target, request.item), request.quantity, `transferring ${request.quantity} ${request.item} to ${request.to}`);
      setAmount(state.free, request.item, free - request.quantity);
      target.free.set(request.item, (target.free.get(request.item) ?? 0) + request.quantity);
      this.dirty.add(request.to);
      return { balances: [balanceOf(request.from, state, request.item), balanceOf(request.to, target, request.item)] };
    });
  }

  async hold(request: HoldRequest): Promise<HoldReceipt> {
    const receipt = await this.mutate([request.subject], request.idempotencyKey, ["hold", request.subject, request.item, request.quantity, request.ttlMs], request.now, (state) => {
      const free = requireFree(state, request.subject, request.item, request.quantity);
      const held = sumWithin(state.held.get(request.item) ?? 0, request.quantity, `holding ${request.quantity} ${request.item} of ${request.subject}`);
      setAmount(state.free, request.item, free - request.quantity);
      state.held.set(request.item, held);
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
      state.openHolds.push(hold.holdId, hold.expiresAt);
      this.dueHolds.push(hold.holdId, hold.expiresAt);
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

  async getHold(holdId: string, now: number): Promise<{ hold: HoldRecord } & LedgerEffects> {
    const subject = subjectOfHoldId(holdId);
    const { state, expiredHolds } = await this.openLedger([subject], now);
    try {
      return { hold: this.findHold(state, holdId, now), balances: expiryBalances(state, expiredHolds), expiredHolds };
    } catch (error) {
      throw withExpired(error, expiredHolds);
    }
  }

  async balance(subject: string, item: string, now: number): Promise<{ balance: Balance } & LedgerEffects> {
    const { state, expiredHolds } = await this.openLedger([subject], now);
    return { balance: balanceOf(subject, state, item), balances: expiryBalances(state, expiredHolds), expiredHolds };
  }

  async list(subject: string, now: number): Promise<LedgerList> {
    const { state, expiredHolds } = await this.openLedger([subject], now);
    const items = new Set([...state.free.keys(), ...state.held.keys()]);
    const balances = [...items].sort().map((item) => balanceOf(subject, state, item)).filter((b) => b.free > 0 || b.held > 0);
    // The order of Redis' timers zset: by expiresAt, then hold id byte by byte. A due hold still held
    // (its quantity would not fit in free) is not open either.
    const openHolds = [...state.openHolds.values()]
      .sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0))
      .map((queued) => (state.holds.get(queued.holdId) as { record: HoldRecord }).record)
      .filter((hold) => hold.expiresAt > now);
    return { balances, expiredHolds, openHolds };
  }

  async expireHolds(now: number, limit: number): Promise<LedgerEffects> {
    await this.load([]);
    this.forgetDue(now);
    const expired: HoldRecord[] = [];
    const kept: QueuedHold[] = [];
    // Exactly `limit` at most, oldest first; a subject's other due holds wait for the next call.
    for (let next = this.dueHolds.peek(); next !== undefined && next.expiresAt <= now && expired.length < limit; next = this.dueHolds.peek()) {
      this.dueHolds.delete(next.holdId);
      this.holdsVisited += 1;
      const subject = subjectOfHoldId(next.holdId);
      const state = this.subjects.get(subject);
      const hold = state?.holds.get(next.holdId)?.record;
      if (state === undefined || hold === undefined || hold.state !== "held") continue;
      if (!fitsFree(state, hold)) kept.push(next);
      else expired.push(this.settleHold(subject, state, hold, "expired", now));
    }
    for (const queued of kept) this.dueHolds.push(queued.holdId, queued.expiresAt);
    const items = new Map(expired.map((hold) => [`${hold.subject}\u0000${hold.item}`, hold]));
    const balances = [...items.values()].map((hold) => balanceOf(hold.subject, this.subjects.get(hold.subject) as MemorySubject, hold.item));
    return { expiredHolds: expired, balances };
  }

  /** What the ledger holds in memory, for tests and diagnostics (O(subjects) to compute). */
  ledgerStats(): MemoryLedgerStats {
    let holds = 0;
    let openHolds = 0;
    for (const state of this.subjects.values()) {
      holds += state.holds.size;
      openHolds += state.openHolds.size;
    }
    return { subjects: this.subjects.size, holds, openHolds, pendingForget: this.forgetting.size, holdsVisited: this.holdsVisited };
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
        holds: [...state.openHolds.values()].sort((a, b) => (before(a, b) ? -1 : 1)).map((queued) => (state.holds.get(queued.holdId) as { record: HoldRecord }).record),
        history: [...state.history.parts.values()],
        historyCompleteFor: state.history.completeFor,
      };
    });
  }

  async eraseSubject(subject: string): Promise<void> {
    const state = this.subjects.get(subject);
    if (state !== undefined) for (const { holdId } of state.openHolds.values()) this.dueHolds.delete(holdId);
    if (state !== undefined) for (const award of state.awards.values()) this.countAward(award, -1);
    if (state !== undefined) this.rarity.forget(state);
    this.subjects.delete(subject);
    this.dirty.delete(subject);
  }

  async rarityCounts(request: RarityRequest): Promise<RarityCounts> {
    return this.rarity.counts(request.today, request.windowDays, request.codes);
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
          const state = snapshot ? stateFromSnapshot(snapshot, this.dueHolds) : emptySubject();
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

  private remember(state: MemorySubject, subject: string, key: string, fingerprint: string, result: unknown, now: number): void {
    const expiresAt = now + this.options.idempotencyRetentionMs;
    state.idempotency.set(key, { fingerprint, result, expiresAt });
    this.forgetting.push({ subject, kind: "key", id: key, forgetAt: expiresAt });
  }

  /**
   * Forgets at most FORGET_PER_CALL settled holds and idempotency records whose retention ended,
   * oldest first: bounded work per call, and what was settled long ago never stays in memory.
   */
  private forgetDue(now: number): void {
    this.holdsVisited += this.forgetting.drain(now, FORGET_PER_CALL, (entry) => {
      const state = this.subjects.get(entry.subject);
      if (state === undefined) return;
      if (entry.kind === "key") {
        const record = state.idempotency.get(entry.id);
        // A key used again after it was forgotten has a later expiry of its own.
        if (record !== undefined && record.expiresAt <= now) state.idempotency.delete(entry.id);
        return;
      }
      const hold = state.holds.get(entry.id);
      if (hold !== undefined && hold.forgetAt <= now) state.holds.delete(entry.id);
    });
  }

  /**
   * The start of every ledger call: the subjects loaded, settled records past retention forgotten,
   * and each subject's due holds released (the first subject's state is returned).
   */
  private async openLedger(subjects: readonly string[], now: number): Promise<{ state: MemorySubject; expiredHolds: HoldRecord[] }> {
    await this.load(subjects);
    this.forgetDue(now);
    const expiredHolds: HoldRecord[] = [];
    for (const subject of subjects) {
      const state = this.subjects.get(subject);
      if (state !== undefined) expiredHolds.push(...this.releaseExpired(subject, state, now));
    }
    return { state: this.state(subjects[0] as string), expiredHolds };
  }

  /** Shared path of keyed mutations: open, replay or run, remember. Atomic once loaded. */
  private async mutate(
    subjects: readonly string[],
    key: string,
    request: readonly unknown[],
    now: number,
    run: (state: MemorySubject) => { balances: Balance[]; hold?: HoldRecord },
  ): Promise<MutationReceipt & { hold?: HoldRecord }> {
    const subject = subjects[0] as string;
    const { state, expiredHolds } = await this.openLedger(subjects, now);
    try {
      const fingerprint = JSON.stringify(request);
      const replay = this.replay<{ balances: Balance[]; hold?: HoldRecord }>(state, key, fingerprint, now);
      if (replay !== undefined) return { ...replay, expiredHolds, replayed: true };
      const result = run(state);
      this.remember(state, subject, key, fingerprint, result, now);
      this.dirty.add(subject);
      return { ...result, expiredHolds, replayed: false };
    } catch (error) {
      throw withExpired(error, expiredHolds);
    }
  }

  private async settle(request: HoldSettleRequest, target: "committed" | "released"): Promise<HoldReceipt> {
    const subject = subjectOfHoldId(request.holdId);
    const { state, expiredHolds } = await this.openLedger([subject], request.now);
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
      if (target === "released" && !fitsFree(state, hold)) {
        throw new ProgressionError(ErrorCode.InvalidQuantity, `releasing hold ${request.holdId} would take free ${hold.item} of ${subject} past the largest safe integer; nothing was released (spend some first, or commit it)`, { holdId: request.holdId, item: hold.item });
      }
      const settled = this.settleHold(subject, state, hold, target, request.now);
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

  /** Settles an open hold the caller has validated (a release or expiry fits in free). */
  private settleHold(subject: string, state: MemorySubject, hold: HoldRecord, target: "committed" | "released" | "expired", now: number): HoldRecord {
    setAmount(state.held, hold.item, (state.held.get(hold.item) ?? 0) - hold.quantity);
    if (target !== "committed") state.free.set(hold.item, (state.free.get(hold.item) ?? 0) + hold.quantity);
    const settled: HoldRecord = { ...hold, state: target, settledAt: now };
    const forgetAt = now + this.options.idempotencyRetentionMs;
    state.holds.set(hold.holdId, { record: settled, forgetAt });
    state.openHolds.delete(hold.holdId);
    this.dueHolds.delete(hold.holdId);
    this.forgetting.push({ subject, kind: "hold", id: hold.holdId, forgetAt });
    this.dirty.add(subject);
    return settled;
  }

  /**
   * Lazy expiry: releases every open hold of the subject whose time is up, looking at the due ones
   * only. A due hold whose quantity would take free past the largest safe integer stays held (and
   * due) until free has room, as on Redis.
   */
  private releaseExpired(subject: string, state: MemorySubject, now: number): HoldRecord[] {
    const expired: HoldRecord[] = [];
    const kept: QueuedHold[] = [];
    for (let next = state.openHolds.peek(); next !== undefined && next.expiresAt <= now; next = state.openHolds.peek()) {
      state.openHolds.delete(next.holdId);
      this.holdsVisited += 1;
      const hold = state.holds.get(next.holdId)?.record;
      if (hold === undefined || hold.state !== "held") continue;
      if (!fitsFree(state, hold)) kept.push(next);
      else expired.push(this.settleHold(subject, state, hold, "expired", now));
    }
    for (const queued of kept) state.openHolds.push(queued.holdId, queued.expiresAt);
    return expired;
  }
}

/**
 * Free balances after granting `rewards` on top of `staged` ones, or null if an item's free + held would
 * pass MAX_SAFE (the ledger's invariant: held quantity can always return to free).
 */
function creditsAfter(state: { readonly free: ReadonlyMap<string, number>; readonly held: ReadonlyMap<string, number> }, staged: ReadonlyMap<string, number>, rewards: readonly Reward[]): Map<string, number> | null {
  const after = new Map<string, number>();
  for (const reward of rewards) {
    const next = (after.get(reward.item) ?? staged.get(reward.item) ?? state.free.get(reward.item) ?? 0) + reward.quantity;
    if (!Number.isSafeInteger(next + (state.held.get(reward.item) ?? 0))) return null;
    after.set(reward.item, next);
  }
  return after;
}

/**
 * What a subject owns of an item, free and held together. Credits keep it at most MAX_SAFE, so releasing
 * or expiring a hold (held back to free) can never pass it.
 */
function totalOf(state: { readonly free: ReadonlyMap<string, number>; readonly held: ReadonlyMap<string, number> }, item: string): number {
  return (state.free.get(item) ?? 0) + (state.held.get(item) ?? 0);
}

/** `amount + quantity`, or INVALID_QUANTITY (changing nothing) if it would pass the largest safe integer. */
function sumWithin(amount: number, quantity: number, what: string): number {
  const next = amount + quantity;
  if (!Number.isSafeInteger(next)) {
    throw new ProgressionError(ErrorCode.InvalidQuantity, `${what} would take the balance past the largest safe integer (${Number.MAX_SAFE_INTEGER}); nothing was changed`, { quantity });
  }
  return next;
}

/** The subject's free quantity of the item, or INSUFFICIENT if it is below `quantity`. */
function requireFree(state: MemorySubject, subject: string, item: string, quantity: number): number {
  const free = state.free.get(item) ?? 0;
  if (free < quantity) {
    throw new ProgressionError(ErrorCode.Insufficient, `${subject} has ${free} free ${item}, needs ${quantity}`, { subject, item, free, requested: quantity });
  }
  return free;
}

/** Stores a balance, dropping it at zero (only non-zero balances exist, as on Redis). */
function setAmount(map: Map<string, number>, item: string, amount: number): void {
  if (amount <= 0) map.delete(item);
  else map.set(item, amount);
}

/** Whether the hold's quantity can go back to free without passing the largest safe integer. */
function fitsFree(state: MemorySubject, hold: HoldRecord): boolean {
  return Number.isSafeInteger((state.free.get(hold.item) ?? 0) + hold.quantity);
}

/** The balances an expiry changed: one per item, sorted (every hold is of the same subject). */
function expiryBalances(state: MemorySubject, expired: readonly HoldRecord[]): Balance[] {
  const items = [...new Set(expired.map((hold) => `${hold.subject}\u0000${hold.item}`))].sort();
  return items.map((key) => {
    const [subject, item] = key.split("\u0000") as [string, string];
    return balanceOf(subject, state, item);
  });
}

function balanceOf(subject: string, state: MemorySubject, item: string): Balance {
  return { subject, item, free: state.free.get(item) ?? 0, held: state.held.get(item) ?? 0 };
}

function withExpired(error: unknown, expiredHolds: readonly HoldRecord[]): unknown {
  if (expiredHolds.length === 0 || !(error instanceof ProgressionError)) return error;
  return new ProgressionError(error.code, error.message, { ...error.details, expiredHolds });
}

function stateFromSnapshot(snapshot: SubjectSnapshot, dueHolds: HoldQueue): MemorySubject {
  const state = emptySubject();
  for (const [id, counter] of snapshot.counters) state.counters.set(id, counterKind(counter.kind).fromState(counter));
  for (const [code, award] of snapshot.awards) state.awards.set(code, award);
  for (const balance of snapshot.balances) {
    if (balance.free > 0) state.free.set(balance.item, balance.free);
    if (balance.held > 0) state.held.set(balance.item, balance.held);
  }
  for (const hold of snapshot.holds) {
    state.holds.set(hold.holdId, { record: hold, forgetAt: Number.POSITIVE_INFINITY });
    state.openHolds.push(hold.holdId, hold.expiresAt);
    dueHolds.push(hold.holdId, hold.expiresAt);
  }
  // The rollups stay in the archive (a new part starts here); what the counters are complete for is kept.
  state.history.completeFor = snapshot.historyCompleteFor ?? null;
  return state;
}
