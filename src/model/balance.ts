/** What a subject owns of one item in the inventory ledger. */
export interface Balance {
  readonly subject: string;
  readonly item: string;
  /** Quantity available to consume, transfer or hold. */
  readonly free: number;
  /** Quantity reserved by open holds. */
  readonly held: number;
}
