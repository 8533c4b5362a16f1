import { matchMaker } from "@colyseus/core";
import type { GameplayEvent } from "../src/model/gameplay-event.ts";
import type { ClaimOutcome, EventBuffer, PendingBatch, Progression, SubjectOutcome } from "../src/engine/progression.ts";
import { ErrorCode } from "../src/errors/error-codes.ts";
import { ProgressionError } from "../src/errors/progression-error.ts";
import type { HoldRecord } from "../src/model/hold.ts";
import type { AwardRecord } from "../src/model/award.ts";
import type { Balance } from "../src/model/balance.ts";
import type { UnlockPayload } from "../src/model/unlock-payload.ts";
import type { Client } from "@colyseus/core";
import { defaultLocaleOf, defaultOnError, defaultSubjectOf, progressionHostDefaults, type ProgressionHostOptions } from "./progression-host-options.ts";
import { PushFanout, type PushTarget } from "./push-fanout.ts";
import { GrantBuffer, type PendingGrant } from "../src/runtime/grant-buffer.ts";
import { PushingLedger } from "./pushing-ledger.ts";
import { emptyPush, type SubjectPush } from "./subject-push.ts";

/** Counters for dashboards and tests. */
export interface HostStats {
  /** Events recorded and not yet applied (buffered or in the batch being retried). */
  readonly pendingEvents: number;
  readonly pendingIncrements: number;
  /** Item grants waiting (coalesced per subject and item), including failed ones being retried. */
  readonly pendingGrants: number;
  readonly appliedEvents: number;
  readonly appliedBatches: number;
  /** Consecutive failed attempts of the current batch (0 when healthy). */
  readonly failedAttempts: number;
  /** Duration of the last successful apply, and the longest one so far (milliseconds). */
  readonly lastApplyMs: number;
  readonly maxApplyMs: number;
  /** From the oldest event of a batch being recorded to its pushes being sent: last and longest (ms). */
  readonly lastFlushLagMs: number;
  readonly maxFlushLagMs: number;
}

/**
 * One per process, shared by every room of the process: one buffer (so a player's events coalesce
 * across rooms), one sequential flusher, and the fan-out of pushes to a subject's clients in every
 * room of this process and, through Colyseus presence, of every other process (one message per flush).
 * Rooms use it through `ProgressionPlugin`.
 */
export class ProgressionHost {
  readonly progression: Progression;
  /** The engine's ledger; every mutation also pushes the changed balances to the subjects' clients. */
  readonly ledger: PushingLedger;

  /** The subject of a client (option `subjectOf`). */
  readonly subjectOf: (client: Client) => string | undefined;
  /** The locale of a joining client (option `localeOf`, falling back to the engine's default locale). */
  readonly localeOf: (client: Client, joinOptions: unknown) => string;

  private readonly buffer: EventBuffer;
  private readonly options: Required<Omit<ProgressionHostOptions, "presence" | "subjectOf" | "localeOf">> &
    Pick<ProgressionHostOptions, "presence">;
  private readonly fanout: PushFanout;
  /** Loot and other item grants, coalesced per (subject, item) and applied every grantIntervalMs. */
  private readonly grants = new GrantBuffer();
  /** Drained grants whose acquire failed: retried with the same key, so each is granted once. */
  private failedGrants: PendingGrant[] = [];
  private grantsInFlight: Promise<boolean> | null = null;
  private readonly grantTimer: NodeJS.Timeout;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly expiryTimer: NodeJS.Timeout | undefined;
  private readonly stopHoldExpiredListener: () => void;

  /** The drained batch until it is applied: retried as is, so its batch id makes the retry apply once. */
  private retryBatch: PendingBatch | null = null;
  /** Increments in `retryBatch`, counted once at drain (record() checks the bound on every call). */
  private batchIncrements = 0;
  private inFlight: Promise<void> | null = null;
  private retryAt = 0;
  private failedAttempts = 0;
  private earlyFlushScheduled = false;
  private recordedEvents = 0;
  private appliedEvents = 0;
  private appliedBatches = 0;
  private closing = false;
  private lastApplyMs = 0;
  private maxApplyMs = 0;
  private lastFlushLagMs = 0;
  private maxFlushLagMs = 0;
  /** When the oldest event still in the buffer was recorded (0: buffer empty). */
  private oldestBufferedAt = 0;
  /** Same, for the batch being applied or retried. */
  private oldestInBatchAt = 0;

  constructor(progression: Progression, options: ProgressionHostOptions = {}) {
    this.progression = progression;
    this.options = {
      flushIntervalMs: positiveOption("flushIntervalMs", options.flushIntervalMs, progressionHostDefaults.flushIntervalMs),
      flushSize: positiveOption("flushSize", options.flushSize, progressionHostDefaults.flushSize),
      maxBufferedIncrements: positiveOption(
        "maxBufferedIncrements",
        options.maxBufferedIncrements,
        progressionHostDefaults.maxBufferedIncrements,
      ),
      retryBaseMs: positiveOption("retryBaseMs", options.retryBaseMs, progressionHostDefaults.retryBaseMs),
      retryMaxMs: positiveOption("retryMaxMs", options.retryMaxMs, progressionHostDefaults.retryMaxMs),
      shutdownTimeoutMs: positiveOption(
        "shutdownTimeoutMs",
        options.shutdownTimeoutMs,
        progressionHostDefaults.shutdownTimeoutMs,
      ),
      grantIntervalMs: positiveOption("grantIntervalMs", options.grantIntervalMs, progressionHostDefaults.grantIntervalMs),
      progressIntervalMs:
        options.progressIntervalMs === 0
          ? 0
          : positiveOption("progressIntervalMs", options.progressIntervalMs, progressionHostDefaults.progressIntervalMs),
      holdExpirySweepMs:
        options.holdExpirySweepMs === 0
          ? 0
          : positiveOption("holdExpirySweepMs", options.holdExpirySweepMs, progressionHostDefaults.holdExpirySweepMs),
      onError: options.onError ?? defaultOnError,
      presence: options.presence,
    };
    this.subjectOf = options.subjectOf ?? defaultSubjectOf;
    const localeOf = options.localeOf ?? defaultLocaleOf;
    this.localeOf = (client, joinOptions) => localeOf(client, joinOptions) ?? progression.defaultLocale;
    this.buffer = progression.createBuffer();
    this.fanout = new PushFanout(progression, {
      presence: () => options.presence ?? matchMaker.presence,
      progressIntervalMs: this.options.progressIntervalMs,
      onError: this.options.onError,
    });
    this.ledger = new PushingLedger(progression.ledger, (balances, expiredHolds) =>
      this.publishEffects(balances, expiredHolds),
    );
    this.flushTimer = setInterval(() => this.onTick(), this.options.flushIntervalMs);
    this.flushTimer.unref();
    this.grantTimer = setInterval(() => {
      if (this.grantsInFlight === null && (this.grants.pendingGrants > 0 || this.failedGrants.length > 0)) void this.flushGrants();
    }, this.options.grantIntervalMs);
    this.grantTimer.unref();
    if (this.options.holdExpirySweepMs > 0) {
      this.expiryTimer = setInterval(() => void this.sweepExpiredHolds(), this.options.holdExpirySweepMs);
      this.expiryTimer.unref();
    }
    // Every expiry (found by a sweep, a job or lazily by another call) is announced to the owner's clients.
    this.stopHoldExpiredListener = progression.events.on("hold.expired", "colyseus-progression:push", async (envelope) => {
      const hold = envelope.payload.hold;
      const balance = await progression.ledger.balance(hold.subject, hold.item);
      this.publish({ ...emptyPush(hold.subject), inventory: [balance], expiredHolds: [hold] });
    });
  }

  /**
   * Records one gameplay event for `subject`. It is validated now (a bad event throws a ProgressionError
   * and nothing is kept), buffered, and applied by the next flush. At the buffer bound it throws
   * BACKEND_UNAVAILABLE: the store has been unreachable for a long time and nothing more is accepted.
   */
  record(subject: string, type: string, tags?: Readonly<Record<string, string>>, amount?: number): void {
    this.recordEvent({ subject, type, ...(tags === undefined ? {} : { tags }), ...(amount === undefined ? {} : { amount }) });
  }

  recordEvent(event: GameplayEvent): void {
    if (this.closing) {
      throw new ProgressionError(
        ErrorCode.Closed,
        "the progression host is shutting down and records nothing more; record before server shutdown",
      );
    }
    this.checkBound();
    this.buffer.add(event);
    this.recordedEvents += 1;
    if (this.oldestBufferedAt === 0) this.oldestBufferedAt = performance.now();
    if (this.buffer.pendingIncrements >= this.options.flushSize && !this.earlyFlushScheduled) {
      this.earlyFlushScheduled = true;
      setImmediate(() => {
        this.earlyFlushScheduled = false;
        this.onTick();
      });
    }
  }

  /**
   * Grants `quantity` of `item` to `subject` (e.g. loot), coalesced with other grants of the same item
   * and applied within `grantIntervalMs` as one ledger acquire; the new balance is pushed then. Validated
   * now (a ProgressionError on bad input, BACKEND_UNAVAILABLE at the buffer bound); retried exactly once
   * per grant if the store fails. Before spending a subject's items, call `flushGrants(subject)`.
   */
  grant(subject: string, item: string, quantity: number): void {
    if (this.closing) {
      throw new ProgressionError(ErrorCode.Closed, "the progression host is shutting down and grants nothing more");
    }
    this.checkBound();
    this.grants.add(subject, item, quantity);
  }

  /**
   * Applies pending grants now (all, or only `subject`'s, e.g. before a trade), plus earlier failed ones.
   * Resolves true when none is left failing.
   */
  async flushGrants(subject?: string): Promise<boolean> {
    if (subject === undefined) {
      if (this.grantsInFlight !== null) await this.grantsInFlight;
      const run = this.applyGrants(this.grants.drain(), undefined).finally(() => {
        this.grantsInFlight = null;
      });
      this.grantsInFlight = run;
      return run;
    }
    if (!this.grants.has(subject) && !this.failedGrants.some((grant) => grant.subject === subject)) return true;
    return this.applyGrants(this.grants.drain(subject), subject);
  }

  private async applyGrants(drained: readonly PendingGrant[], subject: string | undefined): Promise<boolean> {
    const retried = this.failedGrants.filter((grant) => subject === undefined || grant.subject === subject);
    this.failedGrants = this.failedGrants.filter((grant) => !retried.includes(grant));
    const results = await Promise.allSettled(
      [...retried, ...drained].map(async (grant) => {
        try {
          await this.ledger.acquire(grant);
        } catch (error) {
          this.failedGrants.push(grant);
          throw error;
        }
      }),
    );
    const failure = results.find((result) => result.status === "rejected");
    if (failure !== undefined) this.options.onError({ stage: "grant", error: failure.reason });
    return failure === undefined;
  }

  /**
   * Applies every event recorded before this call (waiting through retries), up to `timeoutMs`.
   * Resolves true when they are all applied, false at the timeout (they stay buffered and keep retrying).
   */
  async flush(timeoutMs: number = this.options.shutdownTimeoutMs): Promise<boolean> {
    const target = this.recordedEvents;
    const deadline = Date.now() + timeoutMs;
    let grantsDone = await this.flushGrants();
    for (;;) {
      if (this.inFlight !== null) await this.inFlight;
      if (!grantsDone) grantsDone = await this.flushGrants();
      if (this.appliedEvents >= target && grantsDone) return true;
      const now = Date.now();
      if (now >= deadline) return false;
      if (this.appliedEvents >= target) {
        await sleep(Math.min(this.options.retryBaseMs, deadline - now)); // only grants are failing
        continue;
      }
      if (this.retryAt > now) await sleep(Math.min(this.retryAt, deadline) - now);
      else await this.step();
    }
  }

  /**
   * Graceful shutdown: refuses new events, applies everything buffered (retrying up to
   * `shutdownTimeoutMs`), then stops the timers. Events it could not apply are reported through
   * `onError` (stage "shutdown"). Does not close the engine: call `progression.close()` after it.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const flushed = await this.flush(this.options.shutdownTimeoutMs);
    clearInterval(this.flushTimer);
    clearInterval(this.grantTimer);
    if (this.expiryTimer !== undefined) clearInterval(this.expiryTimer);
    this.stopHoldExpiredListener();
    if (!flushed) {
      const pending = this.recordedEvents - this.appliedEvents + this.grants.pendingGrants + this.failedGrants.length;
      this.options.onError({
        stage: "shutdown",
        error: new ProgressionError(
          ErrorCode.BackendUnavailable,
          `${pending} recorded events and grants could not be applied before shutdownTimeoutMs=${this.options.shutdownTimeoutMs}`,
          { pending },
        ),
      });
    }
    this.fanout.close();
  }

  get stats(): HostStats {
    return {
      pendingEvents: this.recordedEvents - this.appliedEvents,
      pendingIncrements: this.buffer.pendingIncrements + this.batchIncrements,
      pendingGrants: this.grants.pendingGrants + this.failedGrants.length,
      appliedEvents: this.appliedEvents,
      appliedBatches: this.appliedBatches,
      failedAttempts: this.failedAttempts,
      lastApplyMs: this.lastApplyMs,
      maxApplyMs: this.maxApplyMs,
      lastFlushLagMs: this.lastFlushLagMs,
      maxFlushLagMs: this.maxFlushLagMs,
    };
  }

  /**
   * Starts delivering `subject`'s pushes to `target` (one connected client). Resolves once pushes from
   * other processes can reach it too; the returned function stops delivery.
   */
  attach(subject: string, target: PushTarget): Promise<() => void> {
    return this.fanout.attach(subject, target);
  }

  /** Sends a push to every connected client of its subject, in every room and process. */
  publish(push: SubjectPush): void {
    this.fanout.publishAll([push]);
  }

  /** Catch-up for a joining subject: login-type rules and retroactive awards, pushed to all its clients. */
  async catchUp(subject: string, locale: string): Promise<readonly UnlockPayload[]> {
    const unlocks = await this.progression.catchUp(subject, { locale });
    if (unlocks.length > 0) {
      const rewarded = unlocks.some((unlock) => unlock.claimed && unlock.rewards.length > 0);
      const inventory = rewarded ? await this.progression.ledger.list(subject) : [];
      this.publish({ ...emptyPush(subject), reached: unlocks.map(awardOfUnlock), inventory });
    }
    return unlocks;
  }

  /** Claims a completed milestone; the granted balances are pushed to all the subject's clients. */
  async claim(subject: string, code: string, idempotencyKey: string, locale: string): Promise<ClaimOutcome> {
    const outcome = await this.progression.claim(subject, code, idempotencyKey, locale);
    if (!outcome.replayed) this.publishEffects(outcome.balances, []);
    return outcome;
  }

  private checkBound(): void {
    const held = this.buffer.pendingIncrements + this.batchIncrements + this.grants.pendingGrants + this.failedGrants.length;
    if (held >= this.options.maxBufferedIncrements) {
      throw new ProgressionError(
        ErrorCode.BackendUnavailable,
        `the event buffer is full (${held} increments waiting, maxBufferedIncrements=${this.options.maxBufferedIncrements}): ` +
          "the store has been failing; the event was not recorded, retry once the store is back",
        { held, maxBufferedIncrements: this.options.maxBufferedIncrements },
      );
    }
  }

  private onTick(): void {
    if (this.inFlight !== null || Date.now() < this.retryAt) return;
    if (this.retryBatch === null && this.buffer.pendingEvents === 0) return;
    void this.step().then(() => {
      // A slow apply already used up the interval: go again now instead of idling until the next tick.
      if (this.buffer.pendingIncrements >= this.options.flushSize || this.lastApplyMs >= this.options.flushIntervalMs) {
        this.onTick();
      }
    });
  }

  /** One apply attempt; at most one runs at a time. Never rejects: failures schedule a retry. */
  private step(): Promise<void> {
    if (this.inFlight !== null) return this.inFlight;
    const attempt = this.applyOnce().finally(() => {
      this.inFlight = null;
    });
    this.inFlight = attempt;
    return attempt;
  }

  private async applyOnce(): Promise<void> {
    let batch = this.retryBatch;
    if (batch === null) {
      if (this.buffer.pendingEvents === 0) return;
      batch = this.buffer.drain();
      this.retryBatch = batch;
      this.batchIncrements = countIncrements(batch);
      this.oldestInBatchAt = this.oldestBufferedAt;
      this.oldestBufferedAt = 0;
    }
    try {
      const started = performance.now();
      const outcomes = batch.subjects.length === 0 ? [] : await this.progression.applyBatch(batch);
      this.lastApplyMs = performance.now() - started;
      this.maxApplyMs = Math.max(this.maxApplyMs, this.lastApplyMs);
      this.retryBatch = null;
      this.batchIncrements = 0;
      this.failedAttempts = 0;
      this.retryAt = 0;
      this.appliedEvents += batch.events;
      this.appliedBatches += 1;
      this.fanout.publishAll(outcomes.map(pushOfOutcome));
      if (this.oldestInBatchAt > 0) {
        this.lastFlushLagMs = performance.now() - this.oldestInBatchAt;
        this.maxFlushLagMs = Math.max(this.maxFlushLagMs, this.lastFlushLagMs);
      }
    } catch (error) {
      this.failedAttempts += 1;
      const exponential = this.options.retryBaseMs * 2 ** Math.min(this.failedAttempts - 1, 20);
      const delay = Math.min(this.options.retryMaxMs, exponential) * (0.5 + Math.random() / 2);
      this.retryAt = Date.now() + delay;
      this.options.onError({ stage: "flush", error, attempt: this.failedAttempts });
    }
  }

  private publishEffects(balances: readonly Balance[], expiredHolds: readonly HoldRecord[]): void {
    const bySubject = new Map<string, { inventory: Balance[]; expiredHolds: HoldRecord[] }>();
    const entry = (subject: string) => {
      let found = bySubject.get(subject);
      if (found === undefined) {
        found = { inventory: [], expiredHolds: [] };
        bySubject.set(subject, found);
      }
      return found;
    };
    for (const balance of balances) entry(balance.subject).inventory.push(balance);
    for (const hold of expiredHolds) entry(hold.subject).expiredHolds.push(hold);
    for (const [subject, effects] of bySubject) this.publish({ ...emptyPush(subject), ...effects });
  }

  private async sweepExpiredHolds(): Promise<void> {
    try {
      // Expiries are announced by the hold.expired listener, whoever found them.
      await this.progression.ledger.expireHolds(1_000);
    } catch (error) {
      this.options.onError({ stage: "expiry", error });
    }
  }
}

function pushOfOutcome(outcome: SubjectOutcome): SubjectPush {
  return { ...emptyPush(outcome.subject), reached: outcome.reached, progress: outcome.progress, inventory: outcome.inventory };
}

function awardOfUnlock(unlock: UnlockPayload): AwardRecord {
  return {
    code: unlock.code,
    earnedAt: unlock.earnedAt,
    retroactive: unlock.retroactive,
    claimedAt: unlock.claimed ? unlock.earnedAt : null,
  };
}

function countIncrements(batch: PendingBatch): number {
  let count = 0;
  for (const subject of batch.subjects) count += subject.increments.length;
  return count;
}

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `${name} must be a positive number of ${name.endsWith("Ms") ? "milliseconds" : "items"} (got ${String(value)}); omit it for the default ${fallback}`,
      { option: name, value },
    );
  }
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
