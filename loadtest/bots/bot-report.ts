/** What one bot saw, as plain data (it crosses worker-thread boundaries). */
export interface BotReport {
  readonly subject: string;
  readonly joined: boolean;
  /** Messages sent, by message type. */
  readonly sent: Record<string, number>;
  /** For every predictable milestone: the sum of matching amounts this bot's events add up to. */
  readonly sums: Record<string, number>;
  /** Milestone codes this bot's events crossed. */
  readonly expected: readonly string[];
  /** `progression:unlocked` pushes received, by code (more than 1 is a duplicate). */
  readonly received: Record<string, number>;
  /** Send -> push time of each expected unlock, in ms, in arrival order. */
  readonly latenciesMs: readonly number[];
  /** Send -> answer time of each ledger request (trade, buy, confirm, cancel) answered or rejected, in ms. */
  readonly requestLatenciesMs: readonly number[];
  /** Ledger requests (trade, buy, confirm, cancel) the room rejected, by type: expected outcomes, not faults. */
  readonly rejected: Record<string, number>;
  readonly pushes: { readonly progress: number; readonly inventory: number; readonly snapshot: number };
  /** Connection and protocol failures (capped). */
  readonly errors: readonly string[];
}

export function emptyReport(subject: string): BotReport {
  return {
    subject,
    joined: false,
    sent: {},
    sums: {},
    expected: [],
    received: {},
    latenciesMs: [],
    requestLatenciesMs: [],
    rejected: {},
    pushes: { progress: 0, inventory: 0, snapshot: 0 },
    errors: [],
  };
}
