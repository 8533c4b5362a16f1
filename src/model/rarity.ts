/**
 * How rare a milestone is (docs/semantics.md, "Rarity"): of the players active in the window (an apply
 * within the last `windowDays` UTC days, today included), the share who hold the award.
 */
export interface Rarity {
  /** holders / activePlayers x 100, rounded to one decimal; 0 when nobody was active. */
  readonly percent: number;
  /** Players active in the window who hold the award. */
  readonly holders: number;
  /** Players active in the window. */
  readonly activePlayers: number;
  readonly windowDays: number;
}

/** What a backend keeps for rarity, read for one window ending on `today` (a UTC day number). */
export interface RarityCounts {
  readonly activePlayers: number;
  /** Per milestone code, the active players holding it (codes nobody active holds are absent). */
  readonly holders: ReadonlyMap<string, number>;
}
