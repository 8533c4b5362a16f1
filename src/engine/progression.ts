import type { MilestoneProgress, ProgressUpdate } from "../model/progress.ts";
import type { MilestoneDefinitionInput } from "../definitions/milestone-schema.ts";
import type { DomainEventBus } from "../events/domain-event-bus.ts";
import type { HoldReceipt, MutationReceipt } from "../backends/contract/ledger-backend.ts";
import type { HoldRecord } from "../model/hold.ts";
import type { AwardRecord } from "../model/award.ts";
import type { Balance } from "../model/balance.ts";
import type { ClaimResult, ProgressionBackend, SubjectApply } from "../backends/contract/progression-backend.ts";
import type { TranslationCatalogs } from "../i18n/translation-catalogs.ts";
import type { GameplayEvent } from "../model/gameplay-event.ts";
import type { UnlockPayload } from "../model/unlock-payload.ts";

/** The engine's public surface, as returned by `createProgression(options)`. */

/** Events captured in memory, already routed to counters and coalesced per (subject, counter). */
export interface EventBuffer {
  /** Validates, routes and coalesces one event. Throws a ProgressionError (and keeps nothing) on bad input. */
  add(event: GameplayEvent): void;
  /** Events added since the last drain. */
  readonly pendingEvents: number;
  /** Distinct (subject, counter, time slot) increments held; this is what a flush sends. */
  readonly pendingIncrements: number;
  /** Takes everything out as one batch with a fresh id. */
  drain(): PendingBatch;
}

export interface PendingBatch {
  readonly batchId: string;
  readonly events: number;
  readonly subjects: readonly SubjectApply[];
  /** Plan version every increment was routed with; absent when unknown or mixed (a reload happened). */
  readonly planVersion?: string | undefined;
}

export interface SubjectOutcome {
  readonly subject: string;
  /** Newly reached milestones (resolve texts per locale with `describeUnlock`). */
  readonly reached: readonly AwardRecord[];
  /** Current/target of unreached, visible milestones whose counters moved. */
  readonly progress: readonly ProgressUpdate[];
  /** Balances changed by autoClaim rewards. */
  readonly inventory: readonly Balance[];
}

export interface ProgressionLedger {
  acquire(request: { subject: string; item: string; quantity: number; idempotencyKey: string }): Promise<MutationReceipt>;
  consume(request: { subject: string; item: string; quantity: number; idempotencyKey: string }): Promise<MutationReceipt>;
  transfer(request: { from: string; to: string; item: string; quantity: number; idempotencyKey: string }): Promise<MutationReceipt>;
  hold(request: { subject: string; item: string; quantity: number; ttlMs: number; idempotencyKey: string }): Promise<HoldReceipt>;
  commit(holdId: string): Promise<HoldReceipt>;
  release(holdId: string): Promise<HoldReceipt>;
  getHold(holdId: string): Promise<HoldRecord>;
  balance(subject: string, item: string): Promise<Balance>;
  list(subject: string): Promise<readonly Balance[]>;
  /** Releases holds past their expiry (the expiry job calls this); returns what it released. */
  expireHolds(limit?: number): Promise<readonly HoldRecord[]>;
}

export interface ClaimOutcome extends ClaimResult {
  readonly unlock: UnlockPayload;
}

export interface Progression {
  readonly backend: ProgressionBackend;
  readonly ledger: ProgressionLedger;
  readonly events: DomainEventBus;
  readonly defaultLocale: string;

  /** Records one event; returns milestones it newly reached (texts in the default locale). */
  record(event: GameplayEvent, locale?: string): Promise<readonly UnlockPayload[]>;
  /** Records many events in one batched apply. Validates all first: one bad event rejects the batch. */
  recordBatch(events: readonly GameplayEvent[], locale?: string): Promise<readonly UnlockPayload[]>;

  /** For hosts that capture events themselves (the Colyseus plugin): a coalescing buffer. */
  createBuffer(): EventBuffer;
  /** Applies a drained buffer; retrying the same batch applies it once. Emits domain events. */
  applyBatch(batch: PendingBatch): Promise<readonly SubjectOutcome[]>;

  /** Per active milestone: current, target, status; hidden ones masked until reached. */
  progress(subject: string, locale?: string): Promise<readonly MilestoneProgress[]>;
  /**
   * On join/login: records the login trigger at `at` (login-type rules) and awards every active
   * milestone the lifetime counters already meet (flagged retroactive).
   */
  catchUp(subject: string, options?: { at?: number | Date; locale?: string }): Promise<readonly UnlockPayload[]>;
  /** completed -> claimed, granting rewards into the ledger atomically. Retry-safe per key. */
  claim(subject: string, code: string, idempotencyKey: string, locale?: string): Promise<ClaimOutcome>;
  /** The unlock payload of a milestone, without awarding anything (admin preview). */
  preview(code: string, locale?: string): UnlockPayload;
  /** Texts of an award for a given locale. */
  describeUnlock(subject: string, award: AwardRecord, locale?: string): UnlockPayload;

  /** Replaces definitions and/or catalogs at run time; progress is kept (counters are keyed by content). */
  reload(update: { definitions?: readonly MilestoneDefinitionInput[] | string; catalogs?: TranslationCatalogs | string }): void;
  /** Definitions currently loaded (active and inactive). */
  milestoneCodes(): readonly string[];

  close(): Promise<void>;
}
