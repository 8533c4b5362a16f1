import type { HoldRecord } from "../../model/hold.ts";
import type { Balance } from "../../model/balance.ts";

/**
 * The inventory ledger contract: per subject and item, a free and a held quantity.
 * Every mutation is atomic. Mutations that create quantity or move it carry an idempotency key:
 * the same key with the same request has the effect of one call and returns the first result
 * (`replayed: true`); the same key with another request fails with IdempotencyConflict.
 * Keys are scoped to the subject the request names first (`subject`, or `from` for a transfer).
 *
 * Expired holds are released lazily by any operation that touches their subject, and by
 * `expireHolds` (the expiry job); each expiry is reported exactly once, in `expiredHolds`.
 */

export interface LedgerEffects {
  /** Balances after the operation, for every (subject, item) it changed. */
  readonly balances: readonly Balance[];
  /** Holds this operation found expired and released (each reported once, by whoever released it). */
  readonly expiredHolds: readonly HoldRecord[];
}

export interface MutationReceipt extends LedgerEffects {
  /** True when the idempotency key had been used for this exact request: nothing changed now. */
  readonly replayed: boolean;
}

export interface HoldReceipt extends MutationReceipt {
  readonly hold: HoldRecord;
}

export interface QuantityRequest {
  readonly idempotencyKey: string;
  readonly subject: string;
  readonly item: string;
  readonly quantity: number;
  readonly now: number;
}

export interface TransferRequest {
  readonly idempotencyKey: string;
  readonly from: string;
  readonly to: string;
  readonly item: string;
  readonly quantity: number;
  readonly now: number;
}

export interface HoldRequest extends QuantityRequest {
  readonly ttlMs: number;
}

export interface HoldSettleRequest {
  readonly holdId: string;
  readonly now: number;
}

/** `list`'s answer. */
export interface LedgerList {
  readonly balances: readonly Balance[];
  readonly expiredHolds: readonly HoldRecord[];
  readonly openHolds: readonly HoldRecord[];
}

export interface LedgerBackend {
  acquire(request: QuantityRequest): Promise<MutationReceipt>;
  /** Errors: Insufficient when free < quantity. */
  consume(request: QuantityRequest): Promise<MutationReceipt>;
  /** Moves free quantity between two subjects atomically. Errors: Insufficient. */
  transfer(request: TransferRequest): Promise<MutationReceipt>;
  /** Moves quantity from free to held until commit, release or expiry. Errors: Insufficient. */
  hold(request: HoldRequest): Promise<HoldReceipt>;
  /**
   * Held quantity is consumed. Committing a committed hold again is a no-op returning the same hold.
   * Errors: HoldUnknown, HoldExpired, HoldClosed (it was released).
   */
  commit(request: HoldSettleRequest): Promise<HoldReceipt>;
  /**
   * Held quantity returns to free. Releasing a released or expired hold again is a no-op.
   * Errors: HoldUnknown, HoldClosed (it was committed).
   */
  release(request: HoldSettleRequest): Promise<HoldReceipt>;
  getHold(holdId: string, now: number): Promise<HoldRecord>;
  balance(subject: string, item: string, now: number): Promise<{ balance: Balance } & LedgerEffects>;
  /**
   * Every item with a non-zero free or held quantity, sorted by item, and the subject's open holds
   * (state "held", expiresAt > now) sorted by expiresAt, then holdId.
   */
  list(subject: string, now: number): Promise<LedgerList>;
  /** Releases up to `limit` holds whose expiry is <= now, across all subjects. */
  expireHolds(now: number, limit: number): Promise<readonly HoldRecord[]>;
}
