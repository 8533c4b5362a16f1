/**
 * One observation from the game: "subject did `type`, `amount` times, with these tags".
 * Only server code records events; clients never submit them.
 */
export interface GameplayEvent {
  /** Event type, matched against milestone triggers (e.g. "kill", "loot", "login"). */
  readonly type: string;
  /** Whoever progresses: player or account id. */
  readonly subject: string;
  /** Positive safe integer; default 1. */
  readonly amount?: number;
  /** Dimensions for `where` filters, e.g. { creature: "skaven_warrior" }. */
  readonly tags?: Readonly<Record<string, string>>;
  /** When it happened (epoch ms or Date); default: the engine clock's now. */
  readonly at?: number | Date;
  /** Makes this single event idempotent: recorded twice, counted once. */
  readonly id?: string;
}
