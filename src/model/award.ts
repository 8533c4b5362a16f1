/** A milestone granted to a subject: a receipt, never revoked. */
export interface AwardRecord {
  readonly code: string;
  /** Time of the event that earned it (for retroactive awards: the last event that counted). */
  readonly earnedAt: number;
  /** Awarded by catch-up or for a threshold that was already met before this increment. */
  readonly retroactive: boolean;
  /** Set once claimed (explicitly or by autoClaim). */
  readonly claimedAt: number | null;
}
