/**
 * Where a milestone stands in its series ("Slayer II, 2 of 3, next: 1000"): tiers of one `series.id`, sorted
 * by `series.order`, counting active milestones only.
 */
export interface SeriesPosition {
  /** The series id of the definitions, e.g. "slayer". */
  readonly id: string;
  /** This tier's place in the series, from 1 (not the definition's `order` value, which may have gaps). */
  readonly order: number;
  /** How many tiers the series has. */
  readonly of: number;
  /** The tier after this one; null for the last tier. */
  readonly next: SeriesNext | null;
}

/**
 * The next tier: its code, title and target (in its rule's display unit), or only `masked: true` for a hidden
 * tier the player has not reached (nothing about it shows).
 */
export type SeriesNext =
  | { readonly masked: false; readonly code: string; readonly title: string; readonly target: number }
  | { readonly masked: true };
