import type { BotReport } from "../bots/bot-report.ts";

/**
 * After the run, the runner checks that what the bots sent was counted: against the store for the
 * arena, against the room's receive counters for the bare reference. A check polls until the counts
 * match or its time runs out, so the time it took is the backlog the server still had.
 */
export interface StoreCheckResult {
  /** How the counts were read. */
  readonly method: string;
  readonly ok: boolean;
  /** Events the bots sent that the check covers. */
  readonly expectedEvents: number;
  /** Of those, what the store (or room) counted. */
  readonly countedEvents: number;
  /** First differences found (capped). */
  readonly mismatches: readonly string[];
  /** Time from the end of sending until the counts matched (or the check gave up). */
  readonly settledMs: number;
}

export interface StoreCheck {
  /**
   * Polls until the counts match `reports` or `timeoutMs` passes. `only` restricts the check to
   * these message types (the fire-and-forget ones are final as soon as sending stops, so they can
   * be checked while replies are still arriving).
   */
  verify(reports: readonly BotReport[], timeoutMs: number, only?: readonly string[]): Promise<StoreCheckResult>;
  close(): Promise<void>;
}
