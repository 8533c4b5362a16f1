import type { MilestoneDefinitionInput } from "../definitions/milestone-schema.ts";
import type { DomainEventBus } from "../events/domain-event-bus.ts";
import type { MissingTranslations } from "../i18n/translator.ts";
import type { TranslationCatalogs } from "../i18n/translation-catalogs.ts";
import type { CustomEvaluator } from "../rules/custom-evaluator.ts";
import type { ProgressionBackend } from "../backends/contract/progression-backend.ts";
import type { HoldExpiry } from "../runtime/hold-expiry.ts";
import type { ProgressionInstruments } from "../runtime/instruments.ts";
import { consoleLogger, type ProgressionLogger } from "../logging/logger.ts";
import type { StatGuards } from "../runtime/stat-guards.ts";
import type { RawEventsOption } from "../history/raw-events.ts";

export interface ProgressionOptions {
  /** Milestone definitions: objects, or a path to a JSON file or a directory of JSON files. Required. */
  definitions: readonly MilestoneDefinitionInput[] | string;
  /**
   * Translation catalogs: an object, or a directory of `<locale>.json` files.
   * Default: no catalogs, so titles and descriptions are shown as written (and nothing is reported missing).
   */
  catalogs?: TranslationCatalogs | string;
  /** Locale used when none is asked for or the asked one is missing. Default: "en". */
  defaultLocale?: string;
  /** Where progress and inventory live. Default: a new in-memory backend (embedded mode). */
  backend?: ProgressionBackend;
  /** Where domain events go. Default: an in-process bus (listeners run in this process). */
  events?: DomainEventBus;
  /**
   * What releases holds nobody touches again: the one hold-expiry mechanism. Default: an in-process timer
   * (`timerHoldExpiry()`, every second). In Redis mode pass `durability.holdExpiry` (a BullMQ job).
   */
  holdExpiry?: HoldExpiry;
  /** Custom rule evaluators by name. Default: none. */
  evaluators?: Readonly<Record<string, CustomEvaluator>>;
  /** Time source in epoch ms; inject a fake one in tests. Default: Date.now. */
  clock?: () => number;
  /** Event type `catchUp` records as the subject's login (drives returnAfterGap rules). Default: "login". */
  loginTrigger?: string;
  /** Width of the time slot events are coalesced in; an award's earnedAt is exact to this. Default: 1000 ms. */
  coalesceMs?: number;
  /** Longest hold TTL accepted. Default: 7 days. */
  maxHoldTtlMs?: number;
  /** Icon shown for hidden milestones not reached yet. Default: "hidden". */
  hiddenIcon?: string;
  /** How many holds one `ledger.expireHolds()` call releases at most. Default: 500. */
  expireHoldsBatch?: number;
  /** Told about translation keys a locale lacks, at load and on reload. Default: one warning on `logger` per load. */
  onMissingTranslations?: (missing: MissingTranslations) => void;
  /**
   * Where the engine and everything that inherits from it (the host, the default event bus and hold expiry)
   * write. Any pino-compatible logger works. Default: the console, each line prefixed `[colyseus-progression]`.
   */
  logger?: ProgressionLogger;
  /**
   * Keep the event history (docs/semantics.md, "History"): every event rolled up per (subject, type, tags,
   * UTC day), written with the counters, so milestones added later are backfilled from it. Default: true.
   */
  history?: boolean;
  /**
   * Also keep each event's own time and amount next to its rollup (raw events, docs/semantics.md
   * "History"), for `retentionDays` UTC days (today included), so a backfill, catch-up, rebuild or
   * simulation stamps an award with the event that met it instead of its day's rule. `maxPerRollup`
   * (default 1,000): a player's events of one type and tags on one UTC day beyond it keep no raw events
   * (that day falls back to the day rule). Costs about 8 bytes of Redis memory per event. Default: off.
   */
  historyRawEvents?: RawEventsOption;
  /** Metrics hooks, e.g. `createProgressionMetrics().instruments` from `colyseus-progression/metrics`. Default: none. */
  instruments?: ProgressionInstruments;
  /**
   * Rarity (docs/semantics.md, "Rarity"): `windowDays` a player counts as active after an apply (1-366,
   * default 30), `refreshMs` how old the figure in pushes and snapshots may be (default 10,000).
   */
  rarity?: { readonly windowDays?: number; readonly refreshMs?: number };
  /**
   * Stat guards per trigger (docs/semantics.md, "Stat guards"), e.g.
   * `{ kill: { maxAmount: 10, maxPerWindow: { amount: 600, windowMs: 60_000 } } }`. `maxAmount`: an event
   * carrying more is refused by `record()` with GUARD_EXCEEDED. `maxPerWindow`: per subject, the trigger's
   * amounts within an epoch-aligned window of `windowMs` may add up to `amount`; a flush that would pass it
   * applies none of that trigger's events of the subject. Each refusal is a `progression.suspicious` domain
   * event. Checked when the engine is created. Default: no guards.
   */
  statGuards?: StatGuards;
}

/** The warning `onMissingTranslations` writes by default. */
export function missingTranslationsWarning(missing: MissingTranslations): string | undefined {
  const locales = Object.entries(missing);
  if (locales.length === 0) return undefined;
  return `missing translations (the default locale's text or the key is shown instead): ${locales
    .map(([locale, keys]) => `${locale}: ${keys.join(", ")}`)
    .join("; ")}`;
}

export const progressionDefaults = {
  defaultLocale: "en",
  clock: Date.now,
  loginTrigger: "login",
  coalesceMs: 1000,
  maxHoldTtlMs: 7 * 24 * 60 * 60 * 1000,
  hiddenIcon: "hidden",
  expireHoldsBatch: 500,
  history: true,
  logger: consoleLogger,
} as const;
