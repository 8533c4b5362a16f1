import type { ProgressionBackend } from "../backends/contract/progression-backend.ts";
import { describeError, type ProgressionLogger } from "../logging/logger.ts";
import { dayOf } from "../model/utc-day.ts";
import type { Rarity, RarityCounts } from "../model/rarity.ts";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import { positiveOption } from "../runtime/positive-option.ts";

export interface RaritySettings {
  /** UTC days a player counts as active after an apply (today included). Default: 30. */
  readonly windowDays: number;
  /** How old the rarity shown in pushes and snapshots may be, in ms. Default: 10,000. */
  readonly refreshMs: number;
}

export const rarityDefaults: RaritySettings = { windowDays: 30, refreshMs: 10_000 };

/** The `rarity` option with its defaults, validated (a typed error names the bad field). */
export function raritySettings(option: { readonly windowDays?: number; readonly refreshMs?: number } | undefined): RaritySettings {
  const windowDays = option?.windowDays ?? rarityDefaults.windowDays;
  if (!Number.isSafeInteger(windowDays) || windowDays < 1 || windowDays > MAX_WINDOW_DAYS) {
    throw new ProgressionError(ErrorCode.InvalidInput, `rarity.windowDays must be a whole number of days from 1 to ${MAX_WINDOW_DAYS} (got ${String(windowDays)}); omit it for ${rarityDefaults.windowDays}`, { option: "rarity.windowDays" });
  }
  return { windowDays, refreshMs: positiveOption("rarity.refreshMs", option?.refreshMs, rarityDefaults.refreshMs) };
}

/** The backends keep 400 days of counts (memory-rarity.ts, includes/rarity.lua): a year fits. */
const MAX_WINDOW_DAYS = 366;

/**
 * Rarity for pushes and snapshots without a store read on their path: the last counts read, refreshed in
 * the background once they are `refreshMs` old (docs/semantics.md, "Rarity"). `read()` asks the backend
 * now (admin routes).
 */
export class RarityCache {
  private table = new Map<string, Rarity>();
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<ReadonlyMap<string, Rarity>> | null = null;

  private readonly backend: ProgressionBackend;
  private readonly codes: () => readonly string[];
  private readonly clock: () => number;
  private readonly settings: RaritySettings;
  private readonly logger: ProgressionLogger;

  constructor(backend: ProgressionBackend, codes: () => readonly string[], clock: () => number, settings: RaritySettings, logger: ProgressionLogger) {
    this.backend = backend;
    this.codes = codes;
    this.clock = clock;
    this.settings = settings;
    this.logger = logger;
  }

  /** The cached rarity of `code` (null before the first read finished, or for an unknown code). */
  rarityOf(code: string): Rarity | null {
    if (this.clock() - this.readAt >= this.settings.refreshMs && this.reading === null) {
      this.readOnce().catch((error: unknown) => this.logger.warn(`rarity refresh failed (the last figures stay shown): ${describeError(error)}`));
    }
    const rarity = this.table.get(code);
    return rarity === undefined ? null : { ...rarity }; // a copy: one message may carry several
  }

  /** Waits for a first read if none was made yet (a failed one leaves the figures unknown: null). */
  async warm(): Promise<void> {
    if (this.readAt !== Number.NEGATIVE_INFINITY) return;
    await this.readOnce().catch((error: unknown) => this.logger.warn(`rarity read failed (shown as unknown): ${describeError(error)}`));
  }

  /**
   * Reads the counts from the backend now and caches them. One read at a time: a read already under way
   * began before this call (before writes the caller just made, at an earlier clock), so it is waited for
   * and a new one made after it.
   */
  async read(): Promise<ReadonlyMap<string, Rarity>> {
    if (this.reading !== null) await this.reading.catch(() => undefined);
    return this.readOnce();
  }

  private readOnce(): Promise<ReadonlyMap<string, Rarity>> {
    this.reading ??= (async () => {
      try {
        const now = this.clock();
        const codes = this.codes();
        const counts = await this.backend.rarityCounts({ today: dayOf(now), windowDays: this.settings.windowDays, codes });
        this.table = rarityTable(codes, counts, this.settings.windowDays);
        this.readAt = now;
        return this.table;
      } finally {
        this.reading = null;
      }
    })();
    return this.reading;
  }
}

/** Every code's rarity from the window's counts: holders / active players, as a percentage with one decimal. */
export function rarityTable(codes: readonly string[], counts: RarityCounts, windowDays: number): Map<string, Rarity> {
  const table = new Map<string, Rarity>();
  for (const code of codes) {
    const holders = counts.holders.get(code) ?? 0;
    const percent = counts.activePlayers === 0 ? 0 : Math.round((holders / counts.activePlayers) * 1000) / 10;
    table.set(code, { percent, holders, activePlayers: counts.activePlayers, windowDays });
  }
  return table;
}
