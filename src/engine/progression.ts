import type { EventBuffer, PendingBatch } from "../runtime/event-buffer.ts";
import type { MilestoneProgress, ProgressUpdate } from "../model/progress.ts";
import type { MilestoneDefinitionInput } from "../definitions/milestone-schema.ts";
import type { DomainEventBus } from "../events/domain-event-bus.ts";
import type { HoldReceipt, MutationReceipt } from "../backends/contract/ledger-backend.ts";
import type { HoldRecord } from "../model/hold.ts";
import type { AwardRecord } from "../model/award.ts";
import type { AwardProvenance, AwardProvenanceSource } from "../model/award-provenance.ts";
import type { Balance } from "../model/balance.ts";
import type { ClaimResult, ProgressionBackend } from "../backends/contract/progression-backend.ts";
import type { TranslationCatalogs } from "../i18n/translation-catalogs.ts";
import type { GameplayEvent } from "../model/gameplay-event.ts";
import type { UnlockPayload } from "../model/unlock-payload.ts";
import type { Effects } from "../model/effects.ts";
import type { ProgressionInstruments } from "../runtime/instruments.ts";
import type { ProgressionLogger } from "../logging/logger.ts";
import type { BackfillProgress } from "../history/backfill.ts";
import type { HistoryArchive } from "../history/history-archive.ts";
import type { HistoryRollup } from "../model/history.ts";
import type { SimulationReport } from "../history/simulate.ts";
import type { CounterState } from "../model/counter-state.ts";
import type { Rule } from "../definitions/milestone-schema.ts";
import type { MilestoneCounts } from "../model/milestone-stats.ts";
import type { Rarity } from "../model/rarity.ts";
import type { MilestoneCatalog } from "./milestone-catalog.ts";
import type { SuspiciousListener } from "../runtime/stat-guards.ts";

/** `explain`'s answer. */
export interface MilestoneExplanation {
  readonly subject: string;
  readonly code: string;
  readonly trigger: string;
  readonly rule: Rule;
  readonly active: boolean;
  /** The award as stored (earnedAt, retroactive, claimedAt), or null. */
  readonly award: AwardRecord | null;
  /**
   * When the award was written and what made it: the recorded batch's id, or "history" for a backfill.
   * From the award journal (durability's PostgreSQL table; the process itself when embedded); null when
   * none keeps it (Redis without durability) or the award is older than the journal.
   */
  readonly provenance: AwardProvenance | null;
  /** The counter it is measured on, as stored, or null when nothing counted yet. */
  readonly counter: CounterState | null;
  /** The history rollups its counter counts (type, tags and UTC day), oldest first. */
  readonly history: readonly HistoryRollup[];
  /** When the history says it was met (replayed as a backfill would), or null. */
  readonly historyMetAt: number | null;
}

/** The engine's public surface, as returned by `createProgression(options)`. */

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
  /**
   * Moves free quantity between two subjects. A receiver the store has never seen is refused with
   * UNKNOWN_SUBJECT unless `allowNewReceiver` is true (a gift to a new player).
   */
  transfer(request: { from: string; to: string; item: string; quantity: number; idempotencyKey: string; allowNewReceiver?: boolean }): Promise<MutationReceipt>;
  hold(request: { subject: string; item: string; quantity: number; ttlMs: number; idempotencyKey: string }): Promise<HoldReceipt>;
  commit(holdId: string): Promise<HoldReceipt>;
  release(holdId: string): Promise<HoldReceipt>;
  /** One hold; a hold found past its expiry is released by this call (and announced, once). */
  getHold(holdId: string): Promise<HoldRecord>;
  balance(subject: string, item: string): Promise<Balance>;
  list(subject: string): Promise<readonly Balance[]>;
  /** The subject's open holds (state "held", not past expiry), sorted by expiresAt, then holdId. */
  holds(subject: string): Promise<readonly HoldRecord[]>;
  /** Releases holds past their expiry (the expiry job calls this); returns what it released. */
  expireHolds(limit?: number): Promise<readonly HoldRecord[]>;
}

export interface ClaimOutcome extends ClaimResult {
  readonly unlock: UnlockPayload;
}

/** Where every state change is announced once (client pushes and domain events are derived from it). */
export interface ProgressionEffects {
  /** Listeners run synchronously right after each change; returns the function that stops it. */
  subscribe(listener: (effects: Effects) => void): () => void;
}

export interface Progression {
  readonly backend: ProgressionBackend;
  readonly ledger: ProgressionLedger;
  readonly events: DomainEventBus;
  readonly effects: ProgressionEffects;
  readonly defaultLocale: string;
  /** Where the engine writes (option `logger`); the host and the default bus write there too. */
  readonly logger: ProgressionLogger;
  /** Metrics hooks (option `instruments`); the host's recorder uses them too. */
  readonly instruments: ProgressionInstruments;

  /** Records one event; returns milestones it newly reached (texts in the default locale). */
  record(event: GameplayEvent, locale?: string): Promise<readonly UnlockPayload[]>;
  /** Records many events in one batched apply. Validates all first: one bad event rejects the batch. */
  recordBatch(events: readonly GameplayEvent[], locale?: string): Promise<readonly UnlockPayload[]>;

  /** For hosts that capture events themselves (the recorder): a coalescing buffer. */
  createBuffer(): EventBuffer;
  /**
   * Applies a drained buffer and announces its effects; the same batch applies once however often it is
   * sent. Pass `retried: true` when an earlier attempt of this batch failed: if that attempt was in fact
   * applied (its reply was lost), the awards it earned are recovered and announced now.
   */
  applyBatch(batch: PendingBatch, options?: { readonly retried?: boolean }): Promise<readonly SubjectOutcome[]>;

  /** Per active milestone: current, target, status; hidden ones masked until reached. */
  progress(subject: string, locale?: string): Promise<readonly MilestoneProgress[]>;
  /**
   * On join/login: records the login trigger at `at` (login-type rules) and awards every active
   * milestone the lifetime counters already meet (flagged retroactive).
   */
  catchUp(subject: string, options?: { at?: number | Date; locale?: string }): Promise<readonly UnlockPayload[]>;
  /**
   * Walks every subject with a history and backfills the milestones added since its counters were
   * complete (`catchUp` does the same for one subject on join): counters are seeded from history and
   * milestones already met are awarded, retroactive, once. Pages of `chunk` subjects; pass the last
   * `cursor` to resume. Online players get the unlock pushed.
   */
  backfill(options?: { cursor?: string; chunk?: number; onProgress?: (progress: BackfillProgress) => void | Promise<void> }): Promise<BackfillProgress>;
  /**
   * Recomputes every counter of `subject` from its history (repair after a rule bug or a store lost
   * without a snapshot). Awards are never revoked; milestones the history meets are awarded. Counts
   * from before the history was kept are not in it.
   */
  rebuild(subject: string): Promise<readonly UnlockPayload[]>;
  /** The subject's event history: rollups per (type, tags, UTC day), from the backend and the archive. */
  history(subject: string): Promise<readonly HistoryRollup[]>;
  /**
   * What deploying `definitions` would do, against every player's history, changing nothing: per
   * milestone how many players qualify, how many would be awarded (retroactively) and the rewards that
   * grants, which changed, and which holders would no longer qualify (awards are never revoked).
   * Every invalid definition is reported at once (INVALID_DEFINITION with `details.problems`).
   */
  simulate(definitions: readonly MilestoneDefinitionInput[] | string): Promise<SimulationReport>;
  /** Why a player has (or has not) a milestone: its rule, the award, its counter, the history rows it counts. */
  explain(subject: string, code: string): Promise<MilestoneExplanation>;
  /** Where the backend's rollups are archived (durability attaches PostgreSQL's table); read after the backend's. */
  useHistoryArchive(archive: HistoryArchive): void;
  /** Where `explain` reads awards' provenance (durability attaches PostgreSQL's award journal). */
  useAwardJournal(journal: AwardProvenanceSource): void;
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
  /**
   * Per loaded code (0 when nobody has it): how many players reached it and how many claimed it. The
   * backend keeps the counts with the awards themselves (docs/semantics.md, "Milestone stats").
   */
  milestoneStats(): Promise<Readonly<Record<string, MilestoneCounts>>>;
  /**
   * Per loaded code, how rare it is now (docs/semantics.md, "Rarity"): of the players active in the last
   * `rarity.windowDays` UTC days, the share holding it. Read from the backend now; pushes and snapshots
   * show the figure cached at most `rarity.refreshMs` ago.
   */
  rarity(): Promise<Readonly<Record<string, Rarity>>>;
  /**
   * Every loaded milestone, in definition order, as the admin tab shows it: its definition, hidden and
   * active, its texts per locale (with the keys the locale lacks flagged), and its reached/claimed counts.
   */
  milestoneCatalog(): Promise<MilestoneCatalog>;

  /**
   * Erases a player everywhere (a deletion request): history, progress, awards, inventory and holds in
   * the backend, and whatever registered with `onErase` (durability: its PostgreSQL rows). Call it once
   * the player is gone: events recorded for them afterwards start a new player.
   */
  erase(subject: string): Promise<void>;
  /** Runs `hook` for every `erase`, before the backend erases (durability deletes its copies here). */
  onErase(hook: (subject: string) => Promise<void> | void): void;
  /**
   * Tells `listener`, in this process and synchronously, about every event a stat guard refused (option
   * `statGuards`; the same facts as the `progression.suspicious` domain event). The room host listens here.
   * Returns the function that stops it.
   */
  onSuspicious(listener: SuspiciousListener): () => void;
  /**
   * Runs `hook` when the engine closes, before its event bus and backend close (hooks in reverse order of
   * registration), e.g. durability's final snapshot.
   */
  onClose(hook: () => Promise<void> | void): void;
  /** Stops hold expiry, runs the close hooks, then closes the event bus and the backend. Idempotent. */
  close(): Promise<void>;
}
