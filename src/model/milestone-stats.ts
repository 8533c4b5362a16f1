/**
 * How many players reached and claimed one milestone, kept by the backend in the same atomic step as
 * the awards and claims themselves (never counted by scanning players).
 */
export interface MilestoneCounts {
  /** Players holding the award (apply, catch-up, backfill), erased players taken out again. */
  readonly reached: number;
  /** Of those, how many claimed it (claim or autoClaim). */
  readonly claimed: number;
}
