/** A reservation of free quantity until it is committed (consumed), released, or expires. */
export type HoldState = "held" | "committed" | "released" | "expired";

export interface HoldRecord {
  readonly holdId: string;
  readonly subject: string;
  readonly item: string;
  readonly quantity: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly state: HoldState;
  /** When it was committed, released or expired; null while held. */
  readonly settledAt: number | null;
}
